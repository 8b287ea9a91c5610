"""Every page that shows money shows it by the one rule (billing/formatting.py), never as stored or computed.

A shown amount follows the rule exactly when formatting it again gives the same text: "$0.000038" and
"$1,234.50" do, "$0.0000375", "$0.200000", "$4" and "$2.5" do not.
"""

import re
from decimal import Decimal

import pytest

from billing.formatting import usd
from billing.keys import create_api_key
from billing.models import BillingSettings
from billing.services import change_billing_settings
from chat.providers.base import Usage
from tests.factories import answer_turn, balance, fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_and_anthropic")]

SHOWN_DOLLARS = re.compile(r"-?\$[0-9][0-9,]*(?:\.[0-9]+)?")


def misformatted_dollars(page: str) -> list[str]:
    """Return the dollar amounts on `page` that the money rule would show differently."""
    shown = SHOWN_DOLLARS.findall(page)
    return [text for text in shown if usd(text.replace("$", "").replace(",", "")) != text]


@pytest.fixture
def marked_up(admin_user):
    """Set a 7.5% markup, so per-million prices (gpt-4o-mini: 0.15 -> 0.16125) have more digits than cents."""
    billing = BillingSettings.load()
    billing.markup_percent = Decimal("7.5")
    return change_billing_settings(billing=billing, by=admin_user)


@pytest.fixture
def ada(client, user, marked_up):
    """Ada, signed in, funded with 1,234,567 credits, two short replies charged, and an API key with limits."""
    fund(user, 1_234_567)
    answer_turn(user, ["gpt-4o-mini"], "hello", usage=Usage(100, 50))
    answer_turn(user, ["auto"], "what's the difference between a latte and a flat white", usage=Usage(1_000, 500))
    create_api_key(user=user, name="Report", daily_limit_credits=2_000_000, total_limit_credits=1_234_567)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/pricing/", "$0.16"),  # gpt-4o-mini input per 1M with markup: 0.16125
        ("/chat/", "$0.16 / $0.65"),  # the picker: 0.16125 / 0.645
        ("/billing/", "$1.00"),  # the smallest pack, and the custom amount's bounds
        ("/billing/usage/", "$0.00053"),  # gpt-4o-mini's two replies
        ("/billing/settings/", None),
        ("/billing/keys/", "($1.00)"),  # the key's daily limit of 2,000,000 credits
    ],
)
def test_a_person_s_money_pages_show_every_amount_by_the_rule(ada, path, expected):
    response = ada.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert misformatted_dollars(page) == []
    if expected:
        assert expected in page


def test_the_wallet_shows_its_balance_in_dollars_by_the_rule(ada, user):
    page = ada.get("/billing/").content.decode()
    wallet_line = page[page.index('data-testid="balance-credits"') :]

    assert f"{balance(user):,}" in wallet_line[:100]  # 1,233,502 after two replies
    assert "$0.62 · " in wallet_line  # 0.616751 to cents


def test_a_top_up_of_twelve_and_a_half_dollars_reads_12_50(ada, open_topup):
    topup = open_topup("12.5")

    page = ada.get(f"/billing/topup/success/?session_id={topup.checkout_session_id}").content.decode()

    assert "$12.50" in page and "$12.5 " not in page
    assert misformatted_dollars(page) == []


def test_the_admin_lists_wallets_with_credits_separated(ada, user, admin_client):
    page = admin_client.get("/admin/billing/wallet/").content.decode()

    assert f'<td class="field-balance_credits">{balance(user):,}</td>' in page
    assert balance(user) > 1_000_000


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/billing/billingsettings/pricing/", "$0.16"),
        ("/admin/billing/price/", "$0.075"),  # a cached-input price
        ("/admin/catalog/aimodel/", "$0.15 / $0.60 / $0.075"),
        ("/admin/billing/creditpack/", "$1.00"),
        ("/admin/billing/topup/", "$12.50"),
        ("/admin/billing/ledgerentry/", "+1,234,567"),
        ("/admin/billing/hold/", None),
    ],
)
def test_the_admin_s_money_pages_show_every_amount_by_the_rule(ada, admin_client, open_topup, path, expected):
    open_topup("12.5")

    response = admin_client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert misformatted_dollars(page) == []
    if expected:
        assert expected in page
