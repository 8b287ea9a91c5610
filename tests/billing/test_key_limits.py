"""An API key's spend limits hold under concurrent calls: real threads, real PostgreSQL transactions.

The limits are kept by the same statements that hold and settle, so what a key holds and has spent always
adds up to the holds and charges that name it, and no interleaving takes it past a limit.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from billing.exceptions import InsufficientCredits, InvalidApiKey, KeySpendLimitReached
from billing.keys import create_api_key, key_for_secret, revoke_api_key
from billing.ledger import ledger_mismatches
from billing.models import ApiKey, Hold, LedgerEntry, Wallet
from billing.services import ChargedUsage, HoldRequest, place_holds, release, release_expired_holds, settle
from standins.races import run_at_once
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = 1_500  # 1,000 input + 1,000 output tokens of the test model


def hold_request(model, i):
    return HoldRequest(reference=f"api:{i}", model=model, estimated_input_tokens=1_000, max_output_tokens=1_000)


def key_state(key) -> tuple[int, int, int]:
    key = ApiKey.objects.get(pk=key.pk)
    return key.held_credits, key.spent_credits, key.spent_today_credits


def test_fifty_concurrent_holds_on_a_key_never_pass_its_daily_limit(user, priced_model):
    fund(user, 10_000_000)
    key = create_api_key(user=user, name="capped", daily_limit_credits=7 * HOLD).key
    results = run_at_once(50, lambda i: place_holds(user=user, api_key=key, requests=[hold_request(priced_model, i)]))
    admitted = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, KeySpendLimitReached)]
    assert (len(admitted), len(refused)) == (7, 43), results
    assert key_state(key) == (7 * HOLD, 0, 0)
    assert Wallet.objects.get(user=user).held_credits == 7 * HOLD
    assert "0 left of its 10,500-credit daily limit" in refused[0].detail


def test_settling_moves_held_to_spent_and_the_total_limit_counts_both(user, priced_model):
    fund(user, 10_000_000)
    key = create_api_key(user=user, name="k", total_limit_credits=2 * HOLD).key
    first, second = (place_holds(user=user, api_key=key, requests=[hold_request(priced_model, i)])[0] for i in (1, 2))
    with pytest.raises(KeySpendLimitReached, match="3,000-credit limit"):
        place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 3)])
    entry = settle(hold=first, usage=ChargedUsage(input_tokens=1_000, output_tokens=100))
    charged = -entry.amount_credits
    assert entry.api_key_id == key.pk and "API key k (pnl-" in entry.memo
    assert key_state(key) == (HOLD, charged, charged)
    release(hold=second)
    assert key_state(key) == (0, charged, charged)
    # What the first call did not use is free again, within the total.
    place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 4)])
    assert ledger_mismatches() == []


def test_a_new_utc_day_starts_the_daily_limit_again(user, priced_model):
    fund(user, 10_000_000)
    key = create_api_key(user=user, name="k", daily_limit_credits=HOLD).key
    hold = place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 1)])[0]
    settle(hold=hold, usage=ChargedUsage(input_tokens=1_000, output_tokens=1_000))
    with pytest.raises(KeySpendLimitReached, match="resets at 00:00 UTC"):
        place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 2)])
    tomorrow = timezone.now() + timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 3)])
    assert ApiKey.objects.get(pk=key.pk).spent_credits == HOLD


def test_a_wallet_refusal_leaves_the_key_holding_nothing(user, priced_model):
    fund(user, HOLD - 1)
    key = create_api_key(user=user, name="k", daily_limit_credits=10 * HOLD).key
    with pytest.raises(InsufficientCredits):
        place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 1)])
    assert key_state(key) == (0, 0, 0)
    assert not Hold.objects.exists()


def test_an_expired_hold_gives_its_credits_back_to_the_key_too(user, priced_model):
    fund(user, 10_000_000)
    key = create_api_key(user=user, name="k").key
    place_holds(user=user, api_key=key, requests=[hold_request(priced_model, 1)])
    assert release_expired_holds(now=timezone.now() + timedelta(days=1)) == 1
    assert key_state(key) == (0, 0, 0)


def test_a_secret_is_stored_only_as_its_digest_and_a_revoked_key_is_refused(user):
    new = create_api_key(user=user, name="  my   script ")
    stored = ApiKey.objects.get(pk=new.key.pk)
    assert new.secret.startswith("pnl-") and len(new.secret) > 40
    assert stored.name == "my script" and stored.prefix == new.secret[:12]
    assert new.secret not in {stored.digest, stored.prefix} and len(stored.digest) == 64
    assert key_for_secret(new.secret) == stored
    revoke_api_key(key=stored)
    with pytest.raises(InvalidApiKey, match="revoked") as refused:
        key_for_secret(new.secret)
    assert new.secret not in refused.value.detail
    assert not LedgerEntry.objects.exists()
