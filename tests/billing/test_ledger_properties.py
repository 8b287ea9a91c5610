"""Property: after any sequence of money operations, every balance equals the sum of its ledger entries."""

import contextlib
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.exceptions import BillingError
from billing.ledger import ledger_mismatches
from billing.models import Hold, LedgerEntry, Wallet
from billing.services import (
    ChargedUsage,
    HoldRequest,
    apply_refund,
    create_topup,
    credit_topup,
    grant_credits,
    place_holds,
    release,
    settle,
)

pytestmark = pytest.mark.django_db

people = itertools.count()
tokens = st.integers(min_value=0, max_value=20_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(min_value=1, max_value=50_000)),
        st.tuples(st.just("topup"), st.sampled_from(["1.00", "2.50", "5.00"])),
        st.tuples(st.just("hold"), tokens, tokens),
        st.tuples(st.just("settle"), st.integers(min_value=0, max_value=9), tokens, tokens, st.booleans()),
        st.tuples(st.just("release"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("refund"), st.integers(min_value=0, max_value=4), st.integers(min_value=1, max_value=500)),
    ),
    max_size=25,
)


def apply(operation, *, user, model, holds, topups, counter):
    kind, *args = operation
    if kind == "grant":
        grant_credits(user=user, credits=args[0], reason="property test", key=f"grant:{user.pk}:{next(counter)}")
    elif kind == "topup":
        topup = create_topup(user=user, amount_usd=Decimal(args[0]))
        credit_topup(topup=topup, checkout_session_id=f"cs_{topup.pk}", payment_intent_id=None)
        topups.append(topup)
    elif kind == "hold":
        request = HoldRequest(f"p:{user.pk}:{next(counter)}", model, args[0], max(args[1], 1))
        holds.extend(place_holds(user=user, requests=[request]))
    elif kind == "settle" and holds:
        hold = holds[args[0] % len(holds)]
        settle(hold=hold, usage=ChargedUsage(input_tokens=args[1], output_tokens=args[2], estimated=args[3]))
    elif kind == "release" and holds:
        release(hold=holds[args[0] % len(holds)])
    elif kind == "refund" and topups:
        topup = topups[args[0] % len(topups)]
        apply_refund(topup=topup, refund_id=f"re_{next(counter)}", amount_cents=args[1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=operations)
def test_balances_equal_their_ledgers_after_any_sequence(priced_model, sequence):
    user = get_user_model().objects.create_user(email=f"p{next(people)}@example.com", password="x-long-passphrase")
    holds, topups, counter = [], [], itertools.count()
    for operation in sequence:
        with contextlib.suppress(BillingError):  # a refused hold changes nothing; the invariants still hold
            apply(operation, user=user, model=priced_model, holds=holds, topups=topups, counter=counter)
        wallet = Wallet.objects.get(user=user)
        assert wallet.balance_credits >= wallet.held_credits >= 0
        assert wallet.debt_credits >= 0
    assert ledger_mismatches() == []
    wallet = Wallet.objects.get(user=user)
    entries = LedgerEntry.objects.filter(wallet=wallet)
    assert sum(e.amount_credits for e in entries) == wallet.balance_credits
    assert sum(h.amount_credits for h in Hold.objects.filter(wallet=wallet, status="pending")) == wallet.held_credits
