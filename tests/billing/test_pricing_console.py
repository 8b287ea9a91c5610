"""The pricing console in the admin: money settings, the pricing overview, grants through the ledger."""

import pytest

from billing.models import BillingSettings, LedgerEntry, Wallet
from tests.factories import fund

pytestmark = pytest.mark.django_db


def test_the_pricing_overview_shows_prices_in_usd_and_credits_and_typical_costs(admin_client):
    page = admin_client.get("/admin/billing/billingsettings/pricing/").content.decode()
    assert "gpt-4o-mini" in page and "claude-3-5-haiku" in page
    # gpt-4o-mini: $0.15 per 1M input = 300,000 credits; a short turn (500 in + 300 out) = 510 credits
    assert "$0.15" in page and "300,000 credits" in page
    assert "510 credits" in page


def test_changing_the_exchange_rate_in_the_admin_records_who_and_keeps_balances(admin_client, admin_user, user):
    before = Wallet.objects.get(user=user).balance_credits
    form = {
        "credits_per_usd": "1000000",
        "markup_percent": "5",
        "signup_grant_credits": "100000",
        "min_topup_usd": "1.00",
        "max_topup_usd": "500.00",
        "hold_minutes": "15",
    }
    response = admin_client.post("/admin/billing/billingsettings/1/change/", form)
    assert response.status_code == 302
    billing = BillingSettings.load()
    assert (billing.credits_per_usd, billing.updated_by) == (1_000_000, admin_user)
    assert Wallet.objects.get(user=user).balance_credits == before


def test_the_settings_list_opens_the_single_row(admin_client):
    response = admin_client.get("/admin/billing/billingsettings/")
    assert response.status_code == 302 and response.url.endswith("/billingsettings/1/change/")


def test_an_admin_grant_goes_through_the_ledger_with_the_admin_s_name(admin_client, admin_user, user):
    wallet = Wallet.objects.get(user=user)
    response = admin_client.post(f"/admin/billing/wallet/{wallet.pk}/grant/", {"credits": 2500, "reason": "Outage"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(wallet=wallet, kind="admin_grant")
    assert (entry.amount_credits, entry.memo, entry.created_by) == (2_500, "Outage", admin_user)
    assert Wallet.objects.get(pk=wallet.pk).balance_credits == wallet.balance_credits + 2_500


def test_an_admin_grant_that_would_overdraw_is_refused_and_changes_nothing(admin_client, user):
    wallet = Wallet.objects.get(user=user)
    response = admin_client.post(
        f"/admin/billing/wallet/{wallet.pk}/grant/", {"credits": -(wallet.balance_credits + 1), "reason": "x"}
    )
    assert response.status_code == 200
    assert "below" in response.content.decode()
    assert Wallet.objects.get(pk=wallet.pk).balance_credits == wallet.balance_credits
    assert not LedgerEntry.objects.filter(kind="admin_grant").exists()


def test_ledger_entries_cannot_be_edited_or_deleted_in_the_admin(admin_client, user):
    fund(user, 5_000)
    entry = LedgerEntry.objects.get(wallet__user=user)
    assert admin_client.post(f"/admin/billing/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
