"""No interleaving of concurrent calls overdraws a wallet: real threads, real database transactions.

Run on PostgreSQL in CI (SQLite serialises writers, so there the race cannot even start).
"""

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from billing.exceptions import InsufficientCredits
from billing.ledger import ledger_mismatches
from billing.models import Hold, LedgerEntry, Wallet
from billing.services import ChargedUsage, HoldRequest, place_holds, release, release_expired_holds, settle
from standins.races import run_at_once
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 50
COVERED = 20
HOLD = 1_500  # 1,000 input + 1,000 output tokens of the test model


def hold_request(model, i):
    return HoldRequest(reference=f"message:{i}", model=model, estimated_input_tokens=1_000, max_output_tokens=1_000)


def test_fifty_concurrent_holds_against_a_balance_for_twenty_admit_exactly_twenty(user, priced_model):
    fund(user, COVERED * HOLD)
    results = run_at_once(CALLERS, lambda i: place_holds(user=user, requests=[hold_request(priced_model, i)]))
    admitted = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(admitted), len(refused)) == (COVERED, CALLERS - COVERED), results
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (COVERED * HOLD, COVERED * HOLD)
    assert Hold.objects.filter(status="pending").count() == COVERED
    assert ledger_mismatches() == []


def test_concurrent_settlements_never_take_the_balance_below_zero(user, priced_model):
    fund(user, COVERED * HOLD)
    holds = [place_holds(user=user, requests=[hold_request(priced_model, i)])[0] for i in range(COVERED)]
    # every call used far more than it reserved: each may be charged at most its own hold
    results = run_at_once(
        COVERED, lambda i: settle(hold=holds[i], usage=ChargedUsage(input_tokens=10**6, output_tokens=10**6))
    )
    assert all(entry.amount_credits == -HOLD for entry in results), results
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (0, 0)
    assert ledger_mismatches() == []


def naive_place_hold(user, amount):
    """Hold the way it must NOT be done: check in Python, then save what was read (a read-modify-write)."""
    with transaction.atomic():
        wallet = Wallet.objects.get(user=user)
        if wallet.balance_credits - wallet.held_credits < amount:
            raise InsufficientCredits(needed=amount, available=wallet.available_credits)
        time.sleep(0.005)  # the time a real request spends between reading and writing
        wallet.held_credits += amount
        wallet.save(update_fields=["held_credits"])
    return amount


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
def test_the_same_race_overdraws_a_naive_read_modify_write(user):
    """Guard for the test above: it would catch the classic bug, which admits more than the money covers."""
    fund(user, COVERED * HOLD)
    results = run_at_once(CALLERS, lambda i: naive_place_hold(user, HOLD))
    admitted = sum(1 for r in results if r == HOLD)
    held = Wallet.objects.get(user=user).held_credits
    assert admitted > COVERED or held != admitted * HOLD  # overdrawn, or updates lost


def test_holds_and_settlements_interleaved_on_one_wallet_never_deadlock(user, priced_model):
    """Eight panels holding and settling at once, five times over: every call succeeds, nothing is lost."""
    fund(user, 10**9)
    rounds, panels = 5, 8

    def call(i):
        for round_number in range(rounds):
            (hold,) = place_holds(user=user, requests=[hold_request(priced_model, f"{round_number}-{i}")])
            settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=300))
        return "ok"

    results = run_at_once(panels, call)
    assert results == ["ok"] * panels, results
    wallet = Wallet.objects.get(user=user)
    assert wallet.held_credits == 0
    assert wallet.balance_credits == 10**9 - rounds * panels * 510
    assert ledger_mismatches() == []


def test_settle_release_and_the_expiry_sweep_racing_resolve_each_hold_once(user, priced_model):
    """Every hold is settled, released and swept at once: each ends resolved once, charged at most once."""
    fund(user, COVERED * HOLD)
    holds = [place_holds(user=user, requests=[hold_request(priced_model, i)])[0] for i in range(COVERED)]
    Hold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # the sweep may take any of them
    usage = ChargedUsage(input_tokens=10**6, output_tokens=10**6)  # more than held: charged the whole hold

    def race(i):
        hold = holds[i // 4]
        return [
            lambda: settle(hold=hold, usage=usage),
            lambda: settle(hold=hold, usage=usage),
            lambda: release(hold=hold),
            release_expired_holds,
        ][i % 4]()

    results = run_at_once(4 * COVERED, race)
    assert not [r for r in results if isinstance(r, Exception)], results
    charged = Hold.objects.filter(status="settled").count()
    assert charged + Hold.objects.filter(status="released").count() == COVERED
    assert LedgerEntry.objects.filter(kind="usage").count() == charged
    for hold in holds:  # both settles of a hold answer with the one entry it has, or both with none
        first, second = results[4 * holds.index(hold)], results[4 * holds.index(hold) + 1]
        assert first == second
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == ((COVERED - charged) * HOLD, 0)
    assert ledger_mismatches() == []


def test_many_settles_of_one_hold_charge_it_once(user, priced_model):
    fund(user, HOLD)
    (hold,) = place_holds(user=user, requests=[hold_request(priced_model, 1)])
    results = run_at_once(CALLERS, lambda i: settle(hold=hold, usage=ChargedUsage(input_tokens=500, output_tokens=i)))
    entry = LedgerEntry.objects.get(kind="usage")
    assert results == [entry] * CALLERS
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (HOLD + entry.amount_credits, 0)
    assert ledger_mismatches() == []
