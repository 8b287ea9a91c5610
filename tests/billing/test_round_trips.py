"""Holds and settlements run once per model call, so the statements each one sends are counted and kept few.

Counted inside a caller's transaction (as a turn places and settles them), where a block that needs no
savepoint sends none.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.exceptions import InsufficientCredits
from billing.ledger import ledger_mismatches
from billing.models import Hold, LedgerEntry, Price, Wallet
from billing.selectors import hold_named
from billing.services import ChargedUsage, HoldRequest, place_holds, release, settle
from catalog.models import AIModel
from tests.factories import fund

pytestmark = pytest.mark.django_db

HOLD = 1_500  # 1,000 input + 1,000 output tokens of the test model
USAGE = ChargedUsage(input_tokens=500, output_tokens=300)  # 500 x 0.15 + 300 x 0.60 = 255 µ$ = 510 credits


def request(model, reference):
    return HoldRequest(reference=reference, model=model, estimated_input_tokens=1_000, max_output_tokens=1_000)


@pytest.fixture
def second_model(priced_model):
    """Return another priced model of the same provider, to hold a turn on two models."""
    model = AIModel.objects.create(
        slug="test-other",
        name="Test other",
        provider=priced_model.provider,
        api_model_id="other",
        context_window=128_000,
        max_output_tokens=16_384,
    )
    Price.objects.create(model=model, input_usd_per_m=Decimal("0.15"), output_usd_per_m=Decimal("0.60"))
    return model


def statements(work) -> tuple[list[str], object]:
    with CaptureQueriesContext(connection) as queries:
        result = work()
    return [query["sql"].split()[0] for query in queries], result


def test_eight_holds_on_two_models_take_five_statements(user, priced_model, second_model):
    fund(user, 10**9)
    requests = [request(priced_model if i % 2 else second_model, f"message:{i}") for i in range(8)]
    sent, holds = statements(lambda: place_holds(user=user, requests=requests))
    # existing holds, the settings, both models' prices; then the admission and the holds in one INSERT
    assert sent == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT"]
    assert [hold.reference for hold in holds] == [f"message:{i}" for i in range(8)]
    wallet = Wallet.objects.get(user=user)
    assert wallet.held_credits == 8 * HOLD == sum(Hold.objects.values_list("amount_credits", flat=True))


def test_new_references_skip_the_look_up_for_existing_holds(user, priced_model):
    fund(user, 10**9)
    requests = [request(priced_model, f"message:{i}") for i in range(8)]
    sent, holds = statements(lambda: place_holds(user=user, requests=requests, references_are_new=True))
    assert sent == ["SELECT", "SELECT", "UPDATE", "INSERT"]
    assert len(holds) == 8
    assert Wallet.objects.get(user=user).held_credits == 8 * HOLD


def test_a_reference_said_to_be_new_that_exists_fails_and_holds_nothing_more(user, priced_model):
    fund(user, 10**9)
    place_holds(user=user, requests=[request(priced_model, "message:1")])
    with pytest.raises(IntegrityError), transaction.atomic():
        place_holds(user=user, requests=[request(priced_model, "message:1")], references_are_new=True)
    assert Wallet.objects.get(user=user).held_credits == HOLD
    assert Hold.objects.count() == 1


def test_a_refused_hold_lets_the_caller_go_on_in_its_transaction(user, priced_model):
    fund(user, HOLD - 1)
    with transaction.atomic():
        with pytest.raises(InsufficientCredits):
            place_holds(user=user, requests=[request(priced_model, "message:1")])
        assert Wallet.objects.get(user=user).held_credits == 0  # the transaction is still usable
    assert not Hold.objects.exists()


def test_settling_a_hold_takes_three_statements(user, priced_model):
    fund(user, 10**9)
    place_holds(user=user, requests=[request(priced_model, "message:1")])
    hold = hold_named("message:1")  # as a finished reply finds it
    sent, entry = statements(lambda: settle(hold=hold, usage=USAGE))
    # the hold resolved (only a pending one matches), the wallet moved, the ledger entry written
    assert sent == ["UPDATE", "UPDATE", "INSERT"]
    assert (entry.amount_credits, entry.balance_after, entry.memo) == (-510, 10**9 - 510, "Test Mini: 500 in, 300 out")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.balance_credits, wallet.held_credits) == (10**9 - 510, 0)
    assert ledger_mismatches() == []


def test_settling_a_settled_hold_again_returns_the_first_entry_and_moves_nothing(user, priced_model):
    fund(user, 10**9)
    (hold,) = place_holds(user=user, requests=[request(priced_model, "message:1")])
    first = settle(hold=hold, usage=USAGE)
    sent, again = statements(lambda: settle(hold=hold, usage=ChargedUsage(input_tokens=9, output_tokens=9)))
    assert sent == ["UPDATE", "SELECT"]
    assert again == first
    assert LedgerEntry.objects.filter(kind="usage").count() == 1
    assert Wallet.objects.get(user=user).balance_credits == 10**9 - 510


def test_releasing_a_hold_takes_two_statements(user, priced_model):
    fund(user, 10**9)
    (hold,) = place_holds(user=user, requests=[request(priced_model, "message:1")])
    sent, _ = statements(lambda: release(hold=hold))
    assert sent == ["UPDATE", "UPDATE"]
    assert Wallet.objects.get(user=user).held_credits == 0
    assert Hold.objects.get().status == "released"
