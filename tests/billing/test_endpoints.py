"""The JSON endpoints and pages of the wallet: /api/wallet, /api/estimate, /billing/, the usage CSV."""

import csv
import io

import pytest

from billing.models import BillingSettings, Wallet
from billing.services import ChargedUsage, HoldRequest, place_holds, settle
from tests.factories import fund, verify_email

pytestmark = pytest.mark.django_db


def estimate(client, **query):
    return client.get("/api/estimate", query)


@pytest.mark.parametrize(
    ("slug", "usd", "credits"),
    [("gpt-4o-mini", "0.255", 510_000), ("claude-3-haiku", "0.50", 1_000_000), ("claude-3-5-haiku", "1.60", 3_200_000)],
)
def test_the_estimate_gives_the_issue_s_three_example_costs(client, slug, usd, credits):
    response = estimate(client, requests=1000, input_tokens=500, output_tokens=300, models=slug)
    assert response.status_code == 200
    (row,) = response.json()["models"]
    assert (row["slug"], row["usd"], row["credits"]) == (slug, usd, credits)


def test_the_estimate_covers_every_enabled_model_and_is_public_and_cacheable(client):
    from chat.selectors import catalog_models

    response = estimate(client, requests=1, input_tokens=1000, output_tokens=1000)
    assert {row["slug"] for row in response.json()["models"]} == {m.slug for m in catalog_models()}
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"input_tokens": 1, "output_tokens": 1}, "requests: This field is required."),
        ({"requests": "many", "input_tokens": 1, "output_tokens": 1}, "requests: Enter a whole number."),
        ({"requests": 0, "input_tokens": 1, "output_tokens": 1}, "requests: Ensure this value is greater than"),
        ({"requests": 1, "input_tokens": -5, "output_tokens": 1}, "input_tokens: Ensure this value is greater"),
        ({"requests": 1, "input_tokens": 1, "output_tokens": 10**12}, "output_tokens: Ensure this value is less"),
    ],
)
def test_bad_estimate_queries_get_a_400_that_says_what_is_wrong(client, query, says):
    response = estimate(client, **query)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert says in response.json()["detail"]


def test_an_unknown_model_in_the_estimate_is_named(client):
    response = estimate(client, requests=1, input_tokens=1, output_tokens=1, models="gpt-4o-mini,gpt-9")
    assert response.status_code == 400
    assert response.json() == {"error": "unknown_model", "detail": "Unknown model: gpt-9."}


def test_the_wallet_api_reports_balance_holds_and_usd(client, user, priced_model):
    fund(user, 2_000_000)
    place_holds(user=user, requests=[HoldRequest("message:1", priced_model, 1_000, 1_000)])
    client.force_login(user)
    body = client.get("/api/wallet").json()
    assert body["balance_credits"] == 2_000_000
    assert body["held_credits"] == 1_500
    assert body["balance_usd"] == "1.00"


def test_the_wallet_api_asks_anonymous_callers_to_log_in(client):
    response = client.get("/api/wallet")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_the_wallet_page_shows_balance_holds_and_every_entry_with_its_cause(client, user, priced_model):
    verify_email(user)  # the signup grant: "Welcome credits"
    fund(user, 2_000_000)
    hold_a, hold_b = place_holds(
        user=user,
        requests=[HoldRequest("message:1", priced_model, 1_000, 1_000), HoldRequest("message:2", priced_model, 1, 1)],
    )
    settle(hold=hold_a, usage=ChargedUsage(input_tokens=500, output_tokens=300))
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "1,999,490" in page  # balance after the usage charge
    assert "Test Mini: 500 in, 300 out" in page  # the cause of the usage entry
    assert "Welcome credits" in page and "test funding" in page
    assert f"{hold_b.amount_credits:,} credits" in page  # the hold still in flight


def test_the_wallet_page_needs_a_login(client):
    response = client.get("/billing/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_usage_csv_lists_each_charge_with_its_price(client, user, priced_model, django_user_model):
    fund(user, 2_000_000)
    (hold,) = place_holds(user=user, requests=[HoldRequest("message:7", priced_model, 1_000, 1_000)])
    settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300, estimated=True))
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(other, 2_000_000)
    (foreign,) = place_holds(user=other, requests=[HoldRequest("message:8", priced_model, 1_000, 1_000)])
    settle(hold=foreign, usage=ChargedUsage(input_tokens=1, output_tokens=1))
    client.force_login(user)
    response = client.get("/billing/usage.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1  # the other person's usage is not there
    row = rows[0]
    assert (row["model"], row["input tokens"], row["output tokens"]) == ("test-mini", "500", "300")
    assert (row["credits"], row["USD"], row["usage estimated"]) == ("510", "0.000255", "yes")
    assert (row["input USD per 1M"], row["output USD per 1M"]) == ("0.15", "0.60")


def test_billing_settings_are_one_row_with_the_issue_s_defaults():
    billing = BillingSettings.load()
    assert (billing.credits_per_usd, billing.signup_grant_credits) == (2_000_000, 200_000)
    assert Wallet.objects.count() == 0
