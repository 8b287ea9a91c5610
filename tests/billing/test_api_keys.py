"""The API keys pages: create a key (its secret shown once, only its digest kept), list, change and revoke keys.

Every key is reached through its owner: another person's key id is a 404 that changes nothing.
"""

import hashlib
import logging
import re

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.db import connection, models
from django.db.models.functions import Cast
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.exceptions import InvalidApiKey, KeySpendLimitReached
from billing.keys import create_api_key, key_for_secret
from billing.models import ApiKey
from billing.services import ChargedUsage, HoldRequest, place_holds, settle
from catalog.models import AIModel
from tests.factories import fund

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"pnl-[A-Za-z0-9_-]{43}")


@pytest.fixture
def ada(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def eve(django_user_model):
    return django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")


@pytest.fixture
def eves_key(eve):
    return create_api_key(user=eve, name="Eve's scraper", daily_limit_credits=1_000).key


def key_state(key: ApiKey) -> tuple:
    key.refresh_from_db()
    return (key.name, key.daily_limit_credits, key.total_limit_credits, key.allowed_models, key.revoked_at)


def fields_holding(text: str) -> list[str]:
    """Return every text, character and JSON column of the database (as model.field) whose value contains `text`."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                rows = model._default_manager.annotate(as_text=Cast(field.name, models.TextField()))
                if rows.filter(as_text__contains=text).exists():
                    found.append(f"{model._meta.label}.{field.name}")
    return found


# --- Creating a key ------------------------------------------------------------------------------------


def test_a_new_key_s_secret_is_shown_once_and_only_its_digest_is_stored(ada, user, caplog):
    with caplog.at_level(logging.DEBUG), CaptureQueriesContext(connection) as queries:
        response = ada.post("/billing/keys/", {"name": "Nightly report", "daily_limit_credits": "2,000,000"})

    assert response.status_code == 201  # the page itself, not a redirect that would carry the secret
    assert not response.has_header("Location")
    assert "no-store" in response["Cache-Control"]  # going back does not show it from the browser's cache
    page = response.content.decode()
    (secret,) = set(SECRET.findall(page))
    assert "It will not be shown again" in page
    assert 'base_url="http://testserver/v1"' in page  # the SDK example points at this site
    key = ApiKey.objects.get(user=user)
    assert (key.name, key.daily_limit_credits, key.total_limit_credits, key.allowed_models) == (
        "Nightly report",
        2_000_000,
        None,
        [],
    )
    assert key.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(key.prefix) and len(key.prefix) == 12
    assert key_for_secret(secret) == key  # the secret shown is the key's
    # The secret is nowhere but on that page: not in the database, the session, the messages, a query or a log.
    assert fields_holding(secret) == []
    assert fields_holding(key.digest) == ["billing.ApiKey.digest"]  # the search does find what is there
    assert secret not in str(ada.session.items())
    assert secret not in str(response.cookies)
    assert [message.message for message in get_messages(response.wsgi_request)] == []
    assert not any(secret in query["sql"] for query in queries.captured_queries)
    assert secret not in caplog.text
    # Afterwards the list shows the key by its prefix only.
    listed = ada.get("/billing/keys/").content.decode()
    assert f"{key.prefix}…" in listed and secret not in listed


def test_a_key_limited_to_some_models_lists_them_and_may_call_only_them(ada, user):
    response = ada.post(
        "/billing/keys/",
        {"name": "Cheap only", "total_limit_credits": "500000", "allowed_models": ["gpt-4o-mini", "claude-3-haiku"]},
    )

    assert response.status_code == 201
    key = ApiKey.objects.get(user=user)
    assert (key.total_limit_credits, key.allowed_models) == (500_000, ["gpt-4o-mini", "claude-3-haiku"])
    row = row_of(ada.get("/billing/keys/").content.decode(), key)
    assert "GPT-4o mini, Claude 3 Haiku" in row
    assert "of 500,000 ($0.25)" in row and "no daily limit" in row and "Active" in row


def test_the_create_form_offers_every_enabled_model_and_none_ticked_means_all(ada):
    response = ada.get("/billing/keys/")

    offered = [value for value, _ in response.context["form"].fields["allowed_models"].choices]
    assert offered == [model.slug for model in AIModel.objects.filter(enabled=True, provider__enabled=True)]
    page = response.content.decode()
    assert "None ticked: every model" in page
    assert "No keys yet" in page


@pytest.mark.parametrize(
    ("form", "field", "says"),
    [
        ({"name": ""}, "name", "Give the key a name, such as the program that uses it."),
        ({"name": "   "}, "name", "Give the key a name"),
        ({"name": "x" * 101}, "name", "Keep the name to 100 characters."),
        ({"name": "Bot", "daily_limit_credits": "0"}, "daily_limit_credits", "Enter at least 1 credit, or leave"),
        ({"name": "Bot", "daily_limit_credits": "-5"}, "daily_limit_credits", "Enter at least 1 credit"),
        ({"name": "Bot", "total_limit_credits": "0"}, "total_limit_credits", "Enter at least 1 credit"),
        ({"name": "Bot", "total_limit_credits": "ten"}, "total_limit_credits", "Enter a whole number of credits"),
        ({"name": "Bot", "total_limit_credits": "2.5"}, "total_limit_credits", "Enter a whole number of credits"),
        (
            {"name": "Bot", "total_limit_credits": "10000000000000"},
            "total_limit_credits",
            "Enter at most 1,000,000,000,000 credits",
        ),
        (
            {"name": "Bot", "allowed_models": ["gpt-4o-mini", "gpt-9"]},
            "allowed_models",
            "gpt-9 is not one of the models offered",
        ),
    ],
)
def test_a_key_with_bad_input_is_refused_with_a_sentence_and_nothing_is_created(ada, form, field, says):
    response = ada.post("/billing/keys/", form)

    assert response.status_code == 400
    assert says in " ".join(response.context["form"].errors[field])
    page = response.content.decode()
    assert says in page
    if field != "allowed_models":  # a text field is marked invalid; the model boxes have their message under them
        assert 'aria-invalid="true"' in page
    assert not SECRET.search(page)
    assert ApiKey.objects.count() == 0


def test_a_model_turned_off_cannot_be_given_to_a_new_key(ada):
    AIModel.objects.filter(slug="claude-3-haiku").update(enabled=False)

    response = ada.post("/billing/keys/", {"name": "Bot", "allowed_models": ["claude-3-haiku"]})

    assert response.status_code == 400
    assert "claude-3-haiku is not one of the models offered" in response.content.decode()
    assert ApiKey.objects.count() == 0


# --- The list ----------------------------------------------------------------------------------------------


def row_of(page: str, key: ApiKey) -> str:
    return re.search(rf'<tr[^>]* data-key="{key.pk}".*?</tr>', page, flags=re.S).group(0)


def test_the_list_shows_each_key_s_spending_against_its_limits(ada, user, priced_model, eves_key):
    fund(user, 2_000_000)
    report = create_api_key(user=user, name="Report", daily_limit_credits=10_000, total_limit_credits=4_000_000).key
    (hold,) = place_holds(user=user, api_key=report, requests=[HoldRequest("api-test:1", priced_model, 1_000, 500)])
    settle(hold=hold, usage=ChargedUsage(input_tokens=1_000, output_tokens=500))  # 0.00045 USD: 900 credits
    idle = create_api_key(user=user, name="Idle", allowed_models=["test-mini"]).key

    page = ada.get("/billing/keys/").content.decode()

    report_row, idle_row = row_of(page, report), row_of(page, idle)
    assert "Report" in report_row and f"<code>{report.prefix}…</code>" in report_row
    assert "900<span" in report_row and "of 10,000 ($0.0050)" in report_row  # today, of the daily limit
    assert "of 4,000,000 ($2.00)" in report_row  # in all, of the total limit
    assert "All models" in report_row and "Active" in report_row
    assert "Test Mini" in idle_row and "Never" in idle_row and "no total limit" in idle_row
    assert page.index(f'data-key="{idle.pk}"') < page.index(f'data-key="{report.pk}"')  # newest first
    assert "Eve" not in page and eves_key.prefix not in page


def test_yesterday_s_spending_does_not_count_as_today_s(ada, user):
    key = create_api_key(user=user, name="Report", daily_limit_credits=10_000).key
    yesterday = timezone.now().date() - timezone.timedelta(days=1)
    ApiKey.objects.filter(pk=key.pk).update(spent_on=yesterday, spent_today_credits=7_000, spent_credits=7_000)

    row = row_of(ada.get("/billing/keys/").content.decode(), key)

    assert ">0<span" in row and "of 10,000" in row and "7,000<span" in row


def test_the_keys_page_needs_a_login_and_is_linked_from_the_header_and_the_wallet(ada):
    assert "/accounts/login/" in Client().get("/billing/keys/").url
    assert "/accounts/login/" in Client().post("/billing/keys/", {"name": "Bot"}).url
    assert ApiKey.objects.count() == 0

    wallet = ada.get("/billing/").content.decode()
    assert wallet.count('href="/billing/keys/"') == 2  # the header's nav and the wallet's summary
    keys = ada.get("/billing/keys/").content.decode()
    assert 'href="/billing/keys/" aria-current="page">API keys' in keys
    assert 'aria-current="page">Wallet' not in keys


def test_creating_and_revoking_need_a_csrf_token(user):
    key = create_api_key(user=user, name="Bot").key
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(user)

    assert forged.post("/billing/keys/", {"name": "Another"}).status_code == 403
    assert forged.post(f"/billing/keys/{key.pk}/", {"name": "Renamed"}).status_code == 403
    assert forged.post(f"/billing/keys/{key.pk}/revoke/").status_code == 403
    assert list(ApiKey.objects.values_list("name", "revoked_at")) == [("Bot", None)]


# --- Changing a key ------------------------------------------------------------------------------------


def test_a_key_s_name_limits_and_models_are_changed_on_its_page(ada, user):
    key = create_api_key(user=user, name="Bot", daily_limit_credits=5_000).key
    form = ada.get(f"/billing/keys/{key.pk}/").context["form"]
    assert (form["name"].value(), form["daily_limit_credits"].value()) == ("Bot", "5,000")

    response = ada.post(
        f"/billing/keys/{key.pk}/",
        {
            "name": "  Support   bot ",
            "daily_limit_credits": "",
            "total_limit_credits": "1 000 000",
            "allowed_models": ["gpt-4o-mini"],
        },
    )

    assert response.status_code == 302 and response.url == "/billing/keys/"
    assert key_state(key) == ("Support bot", None, 1_000_000, ["gpt-4o-mini"], None)
    assert "Saved the key “Support bot”." in ada.get(response.url).content.decode()


def test_a_key_keeps_a_model_turned_off_since_unless_it_is_unticked(ada, user):
    key = create_api_key(user=user, name="Bot", allowed_models=["gpt-4o-mini", "claude-3-haiku"]).key
    AIModel.objects.filter(slug="claude-3-haiku").update(enabled=False)

    page = ada.get(f"/billing/keys/{key.pk}/").content.decode()
    ada.post(f"/billing/keys/{key.pk}/", {"name": "Bot", "allowed_models": ["gpt-4o-mini", "claude-3-haiku"]})

    assert "Claude 3 Haiku (turned off)" in page
    assert key_state(key)[3] == ["gpt-4o-mini", "claude-3-haiku"]


def test_a_change_with_bad_input_is_refused_and_the_key_stays_as_it_was(ada, user):
    key = create_api_key(user=user, name="Bot", daily_limit_credits=5_000).key
    before = key_state(key)

    response = ada.post(f"/billing/keys/{key.pk}/", {"name": "Bot", "daily_limit_credits": "0"})

    assert response.status_code == 400
    assert "Enter at least 1 credit, or leave it blank for no daily limit." in response.content.decode()
    assert key_state(key) == before


def test_a_lower_limit_applies_to_the_key_s_next_call(ada, user, priced_model):
    fund(user, 2_000_000)
    key = create_api_key(user=user, name="Bot").key
    ada.post(f"/billing/keys/{key.pk}/", {"name": "Bot", "total_limit_credits": "100"})

    with pytest.raises(KeySpendLimitReached, match="100-credit limit"):
        place_holds(user=user, api_key=key, requests=[HoldRequest("api-test:9", priced_model, 1_000, 500)])


# --- Revoking a key ------------------------------------------------------------------------------------


def test_revoking_asks_first_then_refuses_the_key_for_good(ada, user):
    new = create_api_key(user=user, name="Bot")

    confirm = ada.get(f"/billing/keys/{new.key.pk}/revoke/")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.content.decode()
    assert key_state(new.key)[4] is None  # asking changes nothing

    response = ada.post(f"/billing/keys/{new.key.pk}/revoke/")

    assert response.status_code == 302 and response.url == "/billing/keys/"
    assert key_state(new.key)[4] is not None
    with pytest.raises(InvalidApiKey, match="was revoked"):
        key_for_secret(new.secret)
    page = ada.get(response.url).content.decode()
    assert "Revoked the key “Bot”" in page
    row = row_of(page, new.key)
    assert "Revoked" in row and "Edit" not in row  # a revoked key is kept (its charges name it), not editable


def test_a_revoked_key_cannot_be_changed_or_revoked_again(ada, user):
    key = create_api_key(user=user, name="Bot").key
    ada.post(f"/billing/keys/{key.pk}/revoke/")
    before = key_state(key)

    change = ada.post(f"/billing/keys/{key.pk}/", {"name": "Back from the dead"})
    again = ada.post(f"/billing/keys/{key.pk}/revoke/")

    assert change.status_code == 400 and "can no longer be changed" in change.content.decode()
    assert again.status_code == 302
    assert key_state(key) == before  # the first revocation's time stays


# --- Other people's keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("get", "/billing/keys/{}/", None),
        ("post", "/billing/keys/{}/", {"name": "Mine now", "total_limit_credits": "1"}),
        ("get", "/billing/keys/{}/revoke/", None),
        ("post", "/billing/keys/{}/revoke/", None),
    ],
)
def test_another_person_s_key_is_not_found_and_stays_as_it_was(ada, eves_key, method, path, form):
    before = key_state(eves_key)

    response = getattr(ada, method)(path.format(eves_key.pk), form)

    assert response.status_code == 404
    assert "Eve" not in response.content.decode()
    assert key_state(eves_key) == before


@pytest.mark.parametrize("key_id", ["999999", "99999999999999999999999"])
def test_a_key_id_that_does_not_exist_is_not_found(ada, key_id):
    assert ada.get(f"/billing/keys/{key_id}/").status_code == 404
    assert ada.post(f"/billing/keys/{key_id}/revoke/").status_code == 404


# --- The admin -------------------------------------------------------------------------------------------


@pytest.fixture
def staff(admin_user, client):
    client.force_login(admin_user)
    return client


def test_the_admin_lists_keys_without_their_digest_and_shows_them_read_only(staff, user):
    key = create_api_key(user=user, name="Nightly report", total_limit_credits=4_000_000).key

    listing = staff.get("/admin/billing/apikey/").content.decode()
    detail = staff.get(f"/admin/billing/apikey/{key.pk}/change/").content.decode()

    assert "Nightly report" in listing and f"{key.prefix}…" in listing and "4,000,000" in listing
    assert key.digest not in listing and key.digest not in detail
    assert 'name="name"' not in detail and 'name="digest"' not in detail  # nothing to edit
    assert staff.post(f"/admin/billing/apikey/{key.pk}/change/", {"name": "Hijacked"}).status_code == 403
    assert staff.get("/admin/billing/apikey/add/").status_code == 403
    assert key_state(key)[0] == "Nightly report"


def test_the_admin_revokes_keys_through_the_service(staff, user, eves_key):
    key = create_api_key(user=user, name="Leaked").key
    keep = create_api_key(user=user, name="Fine").key

    response = staff.post(
        "/admin/billing/apikey/", {"action": "revoke", "_selected_action": [key.pk, eves_key.pk]}, follow=True
    )

    assert "Revoked 2 API keys" in response.content.decode()
    assert key_state(key)[4] is not None and key_state(eves_key)[4] is not None
    assert key_state(keep)[4] is None


def test_staff_who_may_only_view_keys_cannot_revoke_them(client, user, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(email="viewer@example.com", password="x-long-passphrase")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_apikey"))
    key = create_api_key(user=user, name="Bot").key
    client.force_login(viewer)

    listing = client.get("/admin/billing/apikey/")
    client.post("/admin/billing/apikey/", {"action": "revoke", "_selected_action": [key.pk]})

    assert listing.status_code == 200 and 'value="revoke"' not in listing.content.decode()
    assert key_state(key)[4] is None
