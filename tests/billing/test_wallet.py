"""The wallet: signup grant (on a verified email), holds before calls, settlement after them, the ledger."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from billing.exceptions import InsufficientCredits, WalletRestricted
from billing.ledger import ledger_mismatches
from billing.models import BillingSettings, Hold, LedgerEntry, LedgerIsAppendOnly, Price, Wallet
from billing.services import (
    ChargedUsage,
    HoldRequest,
    grant_signup_credits,
    place_holds,
    release,
    settle,
)
from billing.tasks import release_expired_holds_task
from tests.factories import fund, verify_email

pytestmark = pytest.mark.django_db

# With the test model ($0.15 in / $0.60 out per 1M) at 2,000,000 credits per USD, a hold for 1,000 input
# and 1,000 output tokens is (1000 x 0.15 + 1000 x 0.60) x 2 = 1,500 credits.
HOLD_1000_1000 = 1_500


def request(model, reference="message:1", input_tokens=1_000, max_output=1_000):
    return HoldRequest(
        reference=reference, model=model, estimated_input_tokens=input_tokens, max_output_tokens=max_output
    )


def wallet_of(user) -> Wallet:
    return Wallet.objects.get(user=user)


# --- Signup grant ---------------------------------------------------------------------------------


def test_an_account_gets_the_signup_grant_once_its_email_is_verified_and_only_once(django_user_model):
    grant = BillingSettings.load().signup_grant_credits
    person = django_user_model.objects.create_user(email="new@example.com", password="x-long-passphrase")
    assert grant_signup_credits(user=person) is None  # no verified address yet
    assert wallet_of(person).balance_credits == 0

    verify_email(person)
    grant_signup_credits(user=person)  # a second attempt, e.g. a second confirmation

    assert wallet_of(person).balance_credits == grant
    assert LedgerEntry.objects.filter(wallet__user=person, kind="signup_grant").count() == 1


def test_the_signup_grant_follows_the_admin_setting(django_user_model):
    BillingSettings.objects.filter(pk=1).update(signup_grant_credits=12_345)
    person = django_user_model.objects.create_user(email="later@example.com", password="x-long-passphrase")
    verify_email(person)
    assert wallet_of(person).balance_credits == 12_345


# --- Holds ----------------------------------------------------------------------------------------


def test_a_hold_reserves_the_worst_case_and_leaves_the_balance(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    wallet = wallet_of(user)
    assert hold.amount_credits == HOLD_1000_1000
    assert (wallet.balance_credits, wallet.held_credits, wallet.available_credits) == (10_000, 1_500, 8_500)


def test_a_hold_the_wallet_cannot_cover_is_refused_saying_how_much_is_needed(user, priced_model):
    fund(user, 1_499)
    with pytest.raises(InsufficientCredits) as refused:
        place_holds(user=user, requests=[request(priced_model)])
    assert (refused.value.needed, refused.value.available) == (1_500, 1_499)
    assert "1,500 credits" in refused.value.detail and "1,499 available" in refused.value.detail
    assert wallet_of(user).held_credits == 0
    assert not Hold.objects.exists()


def test_a_turn_is_held_as_a_whole_or_not_at_all(user, priced_model):
    fund(user, 2_999)  # covers one panel of 1,500 but not two
    with pytest.raises(InsufficientCredits) as refused:
        place_holds(user=user, requests=[request(priced_model, "message:1"), request(priced_model, "message:2")])
    assert refused.value.needed == 3_000
    assert wallet_of(user).held_credits == 0
    assert not Hold.objects.exists()


def test_holds_count_against_what_is_available(user, priced_model):
    fund(user, 3_000)
    place_holds(user=user, requests=[request(priced_model, "message:1"), request(priced_model, "message:2")])
    with pytest.raises(InsufficientCredits):
        place_holds(user=user, requests=[request(priced_model, "message:3", input_tokens=1, max_output=1)])


def test_a_repeated_reference_returns_the_same_hold_without_reserving_again(user, priced_model):
    fund(user, 10_000)
    (first,) = place_holds(user=user, requests=[request(priced_model)])
    (again,) = place_holds(user=user, requests=[request(priced_model)])
    assert first.pk == again.pk
    assert wallet_of(user).held_credits == HOLD_1000_1000


@pytest.mark.parametrize(
    ("restriction", "what_to_do"),
    [
        (Wallet.Restriction.DISPUTE, "resume when the dispute is decided. A top-up does not lift this hold."),
        (Wallet.Restriction.DEBT, "your next top-up pays them first."),
        (Wallet.Restriction.ADMIN, "please contact support."),
    ],
)
def test_a_restricted_wallet_cannot_start_calls_and_says_what_lifts_the_hold(
    user, priced_model, restriction, what_to_do
):
    fund(user, 10_000)
    Wallet.objects.filter(user=user).update(restriction=restriction)
    with pytest.raises(WalletRestricted) as refused:
        place_holds(user=user, requests=[request(priced_model)])
    assert str(refused.value.detail).endswith(what_to_do)
    assert wallet_of(user).held_credits == 0


# --- Settlement -----------------------------------------------------------------------------------


def test_settling_charges_the_reported_usage_and_releases_the_rest(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    entry = settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
    wallet = wallet_of(user)
    assert entry.amount_credits == -510  # (500 x 0.15 + 300 x 0.60) x 2
    assert entry.exact_credits == Decimal(510)
    assert (wallet.balance_credits, wallet.held_credits) == (9_490, 0)
    assert entry.balance_after == 9_490
    assert entry.idempotency_key == "usage:message:1"
    assert (entry.input_tokens, entry.output_tokens, entry.usage_estimated) == (500, 300, False)
    assert entry.price == priced_model.current_price()


def test_settling_twice_charges_once(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    first = settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
    second = settle(hold=hold, usage=ChargedUsage(input_tokens=900, output_tokens=900))
    assert first.pk == second.pk
    assert wallet_of(user).balance_credits == 9_490
    assert LedgerEntry.objects.filter(kind="usage").count() == 1


def test_usage_above_the_hold_is_charged_no_more_than_the_hold(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model, input_tokens=100, max_output=100)])
    entry = settle(hold=hold, usage=ChargedUsage(input_tokens=5_000, output_tokens=5_000))
    assert entry.amount_credits == -hold.amount_credits
    assert entry.exact_credits > hold.amount_credits  # the exact cost is kept beside the capped charge


def test_a_price_change_mid_stream_does_not_change_that_call_s_charge(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    Price.objects.create(model=priced_model, input_usd_per_m=Decimal(15), output_usd_per_m=Decimal(60))
    entry = settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
    assert entry.amount_credits == -510
    assert entry.price == hold.price != priced_model.current_price()


def test_an_exchange_rate_change_does_not_change_balances_or_calls_in_flight(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    BillingSettings.objects.filter(pk=1).update(credits_per_usd=1_000_000)
    assert wallet_of(user).balance_credits == 10_000
    assert settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300)).amount_credits == -510


def test_a_stopped_stream_is_charged_input_plus_delivered_output_marked_estimated(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    entry = settle(hold=hold, usage=ChargedUsage(input_tokens=1_000, output_tokens=40, estimated=True))
    assert entry.amount_credits == -348  # (1000 x 0.15 + 40 x 0.60) x 2
    assert entry.usage_estimated is True
    assert "(estimated)" in entry.memo


def test_a_call_that_failed_before_any_output_costs_nothing(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    release(hold=hold)
    release(hold=hold)
    hold.refresh_from_db()
    assert hold.status == Hold.Status.RELEASED and hold.charged_credits == 0
    assert (wallet_of(user).balance_credits, wallet_of(user).held_credits) == (10_000, 0)
    assert settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300)) is None  # already resolved
    assert wallet_of(user).balance_credits == 10_000


def test_the_sweeper_releases_holds_left_by_a_crashed_worker(user, priced_model):
    fund(user, 10_000)
    expired, fresh = place_holds(user=user, requests=[request(priced_model, "m:1"), request(priced_model, "m:2")])
    Hold.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert release_expired_holds_task.apply().get() == 1
    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert (expired.status, fresh.status) == (Hold.Status.RELEASED, Hold.Status.PENDING)
    assert wallet_of(user).held_credits == fresh.amount_credits
    assert release_expired_holds_task.apply().get() == 0


# --- The ledger -----------------------------------------------------------------------------------


def test_ledger_entries_cannot_be_changed_or_deleted(user):
    fund(user, 5_000)
    entry = LedgerEntry.objects.get(wallet__user=user)
    entry.memo = "rewritten"
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_the_database_itself_refuses_to_rewrite_the_ledger(user):
    from django.db import DatabaseError, transaction

    fund(user, 5_000)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(wallet__user=user).update(amount_credits=10**9)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(wallet__user=user).delete()


def test_verify_ledger_passes_when_balances_match_and_fails_on_any_difference(user, priced_model):
    fund(user, 10_000)
    (hold,) = place_holds(user=user, requests=[request(priced_model)])
    settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "agree" in out.getvalue()

    Wallet.objects.filter(user=user).update(balance_credits=9_491)  # a cached balance gone astray
    err = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger", stderr=err)
    assert exited.value.code == 1
    assert "balance is 9,491, ledger says 9,490" in err.getvalue()


def test_grant_credits_command_writes_an_admin_grant_with_its_reason(user):
    before = wallet_of(user).balance_credits
    out = StringIO()
    call_command("grant_credits", "ADA@example.com", "5000", "--reason", "Sorry for the outage", stdout=out)
    entry = LedgerEntry.objects.get(wallet__user=user, kind="admin_grant")
    assert (entry.amount_credits, entry.memo) == (5_000, "Sorry for the outage")
    assert wallet_of(user).balance_credits == before + 5_000
    assert ledger_mismatches() == []


def test_grant_credits_command_refuses_an_unknown_email_and_changes_nothing(user):
    from django.core.management.base import CommandError

    count = LedgerEntry.objects.count()
    with pytest.raises(CommandError, match="No account"):
        call_command("grant_credits", "nobody@example.com", "5000", "--reason", "typo")
    assert LedgerEntry.objects.count() == count


def test_a_grant_cannot_take_a_wallet_below_zero(user):
    from django.db import IntegrityError

    from billing.services import grant_credits

    before = wallet_of(user).balance_credits
    with pytest.raises(IntegrityError):
        grant_credits(user=user, credits=-(before + 1), reason="too much")
    assert wallet_of(user).balance_credits == before
    assert LedgerEntry.objects.filter(kind="admin_grant").count() == 0


def test_each_person_sees_only_their_own_wallet(client, user, django_user_model):
    other = get_user_model().objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(other, 777_777)
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "777,777" not in page
    assert client.get("/api/wallet").json()["balance_credits"] == wallet_of(user).balance_credits
