"""Stripe webhooks with real signatures: each fact is applied once, in any order, and forgeries change nothing."""

import itertools
import json
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.http import HttpResponse
from django.test import Client

from billing.ledger import ledger_mismatches
from billing.models import BillingSettings, LedgerEntry, StripeDispute, StripeEvent, TopUp, Wallet
from billing.services import ChargedUsage, HoldRequest, place_holds, settle
from standins.stripe import signature_header, signed_event
from tests.factories import (
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    balance,
    charge_object,
    dispute_object,
    fund,
    money_state,
    post_event,
    post_signed,
    refund_object,
)

pytestmark = pytest.mark.django_db

COMPLETED = "checkout.session.completed"
TEN_DOLLARS = 20_000_000  # credits, at the default 2,000,000 credits per USD


def wallet(user) -> Wallet:
    return Wallet.objects.get(user=user)


def topup_entries(topup: TopUp) -> list[tuple[str, int, int]]:
    """Return the ledger entries caused by a top-up: (kind, balance change, debt change), oldest first."""
    return list(
        LedgerEntry.objects.filter(topup=topup)
        .order_by("id")
        .values_list("kind", "amount_credits", "debt_change_credits")
    )


@pytest.fixture
def paid_session(open_topup, stripe_standin):
    """Return (top-up of $10, its Checkout Session as Stripe shows it once paid); no webhook delivered yet."""
    topup = open_topup("10.00")
    return topup, stripe_standin.complete(topup.checkout_session_id)


@pytest.fixture
def credited(paid_session):
    """Return (top-up, paid session, its PaymentIntent id) after the completed webhook credited it."""
    topup, session = paid_session
    assert post_event(COMPLETED, session).status_code == 200
    topup.refresh_from_db()
    return topup, session, session["payment_intent"]


# --- Fulfilment -------------------------------------------------------------------------------------------


def test_completed_and_paid_session_credits_the_topup_once(paid_session, user):
    topup, session = paid_session
    before = balance(user)

    response = post_event(COMPLETED, session, event_id="evt_completed")

    assert response.status_code == 200
    assert balance(user) - before == topup.credits == TEN_DOLLARS
    entry = LedgerEntry.objects.get(idempotency_key=f"topup:{session['id']}")
    assert (entry.kind, entry.amount_credits, entry.topup_id) == ("topup", TEN_DOLLARS, topup.id)
    topup.refresh_from_db()
    assert (topup.status, topup.payment_intent_id) == ("paid", session["payment_intent"])
    assert topup.paid_at is not None
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.payload["data"]["object"]["id"]) == (
        "evt_completed",
        COMPLETED,
        session["id"],
    )
    assert ledger_mismatches() == []


def test_completed_but_unpaid_session_credits_nothing_until_the_async_payment_succeeds(
    open_topup, stripe_standin, user
):
    topup = open_topup()
    before = balance(user)

    unpaid = post_event(COMPLETED, stripe_standin.complete(topup.checkout_session_id, paid=False))

    topup.refresh_from_db()
    assert (unpaid.status_code, balance(user), topup.status) == (200, before, "awaiting_payment")

    paid = stripe_standin.complete(topup.checkout_session_id)
    assert post_event("checkout.session.async_payment_succeeded", paid).status_code == 200
    assert post_event("checkout.session.async_payment_succeeded", paid).status_code == 200  # a second delivery

    topup.refresh_from_db()
    assert (balance(user) - before, topup.status) == (topup.credits, "paid")
    assert LedgerEntry.objects.filter(kind="topup").count() == 1


def test_async_payment_failure_marks_the_topup_failed(open_topup, stripe_standin, user):
    topup = open_topup()
    session = stripe_standin.complete(topup.checkout_session_id, paid=False)
    post_event(COMPLETED, session)
    before = balance(user)

    response = post_event("checkout.session.async_payment_failed", session)

    topup.refresh_from_db()
    assert (response.status_code, topup.status, balance(user)) == (200, "failed", before)


def test_expired_session_marks_the_topup_expired(open_topup, stripe_standin, user):
    topup = open_topup()
    session = stripe_standin.session(topup.checkout_session_id) | {"status": "expired"}
    before = balance(user)

    response = post_event("checkout.session.expired", session)

    topup.refresh_from_db()
    assert (response.status_code, topup.status, balance(user)) == (200, "expired", before)


def test_a_late_failure_event_never_unpays_a_paid_topup(credited, user):
    topup, session, _ = credited
    before = money_state(user)

    post_event("checkout.session.expired", session)

    topup.refresh_from_db()
    assert topup.status == "paid"
    assert money_state(user)[:5] == before[:5]


def test_replayed_event_credits_once(paid_session, user):
    topup, session = paid_session
    payload, header = signed_event(COMPLETED, session, secret=WEBHOOK_SECRET)
    before = balance(user)

    first, replay = post_signed(payload, header), post_signed(payload, header)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.content == b"Already applied."
    assert balance(user) - before == topup.credits
    assert StripeEvent.objects.count() == 1


def test_the_same_payment_told_by_two_events_credits_once(paid_session, user):
    topup, session = paid_session
    before = balance(user)

    post_event(COMPLETED, session)
    post_event("checkout.session.async_payment_succeeded", session)

    assert balance(user) - before == topup.credits
    assert StripeEvent.objects.count() == 2
    assert LedgerEntry.objects.filter(kind="topup").count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_redeliveries_of_one_event_credit_once(paid_session, user):
    topup, session = paid_session
    payload, header = signed_event(COMPLETED, session, secret=WEBHOOK_SECRET)
    before = balance(user)
    barrier = threading.Barrier(10)
    answers: list = [None] * 10

    def deliver(i):
        try:
            barrier.wait(timeout=30)
            answers[i] = Client().post(
                WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
        except Exception as error:  # asserted on below
            answers[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [getattr(answer, "status_code", answer) for answer in answers] == [200] * 10
    assert sorted(answer.content for answer in answers) == [b"Already applied."] * 9 + [b"Applied."]
    assert balance(user) - before == topup.credits
    assert LedgerEntry.objects.filter(kind="topup").count() == 1
    assert StripeEvent.objects.count() == 1
    assert ledger_mismatches() == []


def test_a_session_for_no_known_topup_is_recorded_and_answered_200(open_topup, stripe_standin, user):
    topup = open_topup()
    stranger = stripe_standin.complete(topup.checkout_session_id) | {
        "id": "cs_test_from_another_product",
        "client_reference_id": None,
        "metadata": {"topup_id": "not-a-uuid"},
    }
    before = money_state(user)

    response = post_event(COMPLETED, stranger)

    assert response.status_code == 200
    assert money_state(user)[:5] == before[:5]
    assert StripeEvent.objects.filter(type=COMPLETED).count() == 1


def test_a_session_whose_amount_differs_from_the_topup_is_not_credited(paid_session, user):
    topup, session = paid_session
    before = money_state(user)

    response = post_event(COMPLETED, session | {"amount_total": 1})

    topup.refresh_from_db()
    assert (response.status_code, topup.status) == (200, "awaiting_payment")
    assert money_state(user)[:5] == before[:5]


def test_an_event_of_the_other_mode_is_ignored(paid_session, user):
    _, session = paid_session
    before = money_state(user)

    response = post_event(COMPLETED, session | {"livemode": True}, livemode=True)

    assert response.status_code == 200
    assert money_state(user) == before


def test_an_unhandled_event_type_is_recorded_and_answered_200(stripe_standin, user):
    before = money_state(user)

    response = post_event("customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_customer")

    assert response.status_code == 200
    assert StripeEvent.objects.get().event_id == "evt_customer"
    assert money_state(user)[:5] == before[:5]


def test_the_webhook_only_accepts_post():
    assert Client().get(WEBHOOK_URL).status_code == 405


# --- Authenticity ---------------------------------------------------------------------------------------


def forged(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return payload, signature_header(payload, secret="whsec_not_ours")


def unsigned(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return payload, None


def amount_changed(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return payload.replace(b'"amount_total": 1000', b'"amount_total": 100000'), header


def reserialized(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return json.dumps(json.loads(payload), indent=2).encode(), header


def stale(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return payload, signature_header(payload, secret=WEBHOOK_SECRET, timestamp=int(time.time()) - 301)


def v0_only(payload: bytes, header: str) -> tuple[bytes, str | None]:
    return payload, header.replace("v1=", "v0=")


@pytest.mark.parametrize("tamper", [forged, unsigned, amount_changed, reserialized, stale, v0_only])
def test_a_webhook_without_a_valid_recent_signature_is_refused_and_changes_nothing(paid_session, user, tamper):
    _, session = paid_session
    payload, header = tamper(*signed_event(COMPLETED, session, secret=WEBHOOK_SECRET))
    before = money_state(user)

    response = post_signed(payload, header)

    assert response.status_code == 400
    assert money_state(user) == before
    assert not StripeEvent.objects.exists()


def test_a_webhook_is_refused_when_no_secret_is_configured(paid_session, user, settings):
    _, session = paid_session
    settings.STRIPE_WEBHOOK_SECRET = ""
    before = money_state(user)

    response = post_event(COMPLETED, session)

    assert response.status_code == 400
    assert money_state(user) == before


def test_a_header_with_the_old_and_the_new_secret_is_accepted_during_rotation(paid_session, user):
    topup, session = paid_session
    payload, header = signed_event(COMPLETED, session, secret=WEBHOOK_SECRET)
    old = signature_header(payload, secret="whsec_old", timestamp=int(header.split(",")[0][2:]))
    before = balance(user)

    response = post_signed(payload, f"{old},{header.split(',')[1]}")

    assert response.status_code == 200
    assert balance(user) - before == topup.credits


# --- Refunds --------------------------------------------------------------------------------------------


def test_two_partial_refunds_take_back_their_share_exactly_and_replays_do_nothing(credited, user):
    topup, _, payment_intent = credited
    first = refund_object(payment_intent, 300, refund_id="re_first")
    second = refund_object(payment_intent, 200, refund_id="re_second")
    before = balance(user)

    post_event("refund.created", first)
    after_first = balance(user)
    post_event("refund.created", second)
    after_second = balance(user)
    post_event("refund.updated", first)  # the same refunds told again, by other events
    post_event("charge.refunded", charge_object(payment_intent, 1000, [first, second]))
    post_event("charge.refunded", charge_object(payment_intent, 1000))  # today's shape: no refunds listed

    assert (before - after_first, after_first - after_second) == (6_000_000, 4_000_000)
    assert balance(user) == after_second
    topup.refresh_from_db()
    assert topup.refunded_cents == 500
    assert LedgerEntry.objects.filter(kind="refund").count() == 2
    assert ledger_mismatches() == []


def test_refunds_listed_only_on_the_charge_are_taken_back(credited, user):
    _, _, payment_intent = credited
    before = balance(user)

    post_event("charge.refunded", charge_object(payment_intent, 1000, [refund_object(payment_intent, 250)]))

    assert before - balance(user) == 5_000_000


def test_a_refund_larger_than_what_is_left_becomes_debt_and_the_next_topup_pays_it_first(
    credited, open_topup, stripe_standin, user
):
    _, _, payment_intent = credited
    fund(user, 5_000_000)  # the rest was spent

    post_event("refund.created", refund_object(payment_intent, 1000))

    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (
        0,
        15_000_000,
        "debt",
    )

    next_topup = open_topup("10.00")
    post_event(COMPLETED, stripe_standin.complete(next_topup.checkout_session_id))

    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (5_000_000, 0, "")
    assert topup_entries(next_topup) == [("topup", 5_000_000, -15_000_000)]
    assert ledger_mismatches() == []


def test_a_failed_refund_gives_the_credits_back(credited, user):
    topup, _, payment_intent = credited
    refund = refund_object(payment_intent, 400, refund_id="re_bounced")
    before = balance(user)
    post_event("refund.created", refund)

    post_event("refund.failed", refund | {"status": "failed"})
    post_event("refund.failed", refund | {"status": "failed"})

    topup.refresh_from_db()
    assert (balance(user), topup.refunded_cents) == (before, 0)
    assert [kind for kind, _, _ in topup_entries(topup)] == ["topup", "refund", "reversal"]


def test_a_refund_that_fails_after_a_later_topup_paid_its_debt_gives_back_everything_it_took(
    credited, open_topup, stripe_standin, user
):
    _, _, payment_intent = credited
    fund(user, 5_000_000)  # the rest was spent
    refund = refund_object(payment_intent, 1000, refund_id="re_bounced")
    post_event("refund.created", refund)  # takes 5,000,000 and records 15,000,000 owed
    next_topup = open_topup("10.00")
    post_event(COMPLETED, stripe_standin.complete(next_topup.checkout_session_id))  # pays the 15,000,000 first

    response = post_event("refund.failed", refund | {"status": "failed"})

    assert response.status_code == 200
    # two paid $10 top-ups (40,000,000) less the 15,000,000 spent
    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (25_000_000, 0, "")
    assert ledger_mismatches() == []


def test_a_refund_that_failed_before_its_creation_arrived_is_never_taken(credited, user):
    topup, _, payment_intent = credited
    refund = refund_object(payment_intent, 400, refund_id="re_bounced", status="pending")
    before = balance(user)

    post_event("refund.failed", refund | {"status": "failed"})
    post_event("refund.created", refund)

    topup.refresh_from_db()
    assert (balance(user), topup.refunded_cents) == (before, 0)
    assert [kind for kind, _, _ in topup_entries(topup)] == ["topup"]


def test_a_refund_arriving_before_the_payment_events_credits_first_then_takes_back(paid_session, user):
    topup, session = paid_session
    before = balance(user)

    refund = post_event("refund.created", refund_object(session["payment_intent"], 1000, refund_id="re_early"))
    completed = post_event(COMPLETED, session)

    assert (refund.status_code, completed.status_code) == (200, 200)
    topup.refresh_from_db()
    assert (topup.status, topup.refunded_cents, balance(user)) == ("paid", 1000, before)
    assert topup_entries(topup) == [("topup", TEN_DOLLARS, 0), ("refund", -TEN_DOLLARS, 0)]
    assert ledger_mismatches() == []


@pytest.mark.parametrize("order", list(itertools.permutations(["completed", "refund", "charge"])))
def test_any_order_of_payment_and_refund_events_ends_with_the_same_ledger(paid_session, user, order):
    topup, session = paid_session
    payment_intent = session["payment_intent"]
    refund = refund_object(payment_intent, 300, refund_id="re_1")
    events = {
        "completed": (COMPLETED, session),
        "refund": ("refund.created", refund),
        "charge": ("charge.refunded", charge_object(payment_intent, 1000, [refund])),
    }
    before = balance(user)

    answers = [post_event(*events[name]).status_code for name in order]

    assert answers == [200, 200, 200]
    topup.refresh_from_db()
    assert topup_entries(topup) == [("topup", TEN_DOLLARS, 0), ("refund", -6_000_000, 0)]
    assert (topup.status, topup.refunded_cents, balance(user) - before) == ("paid", 300, TEN_DOLLARS - 6_000_000)


def test_an_out_of_order_refund_is_retried_later_when_stripe_cannot_be_asked(paid_session, user, settings):
    topup, session = paid_session
    refund = refund_object(session["payment_intent"], 1000, refund_id="re_early")
    payload, header = signed_event("refund.created", refund, secret=WEBHOOK_SECRET)
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    before = money_state(user)

    unavailable = post_signed(payload, header)

    assert unavailable.status_code == 503
    assert money_state(user) == before  # nothing recorded: Stripe delivers it again

    settings.STRIPE_SECRET_KEY = "sk_test_panels"
    assert post_signed(payload, header).status_code == 200
    topup.refresh_from_db()
    assert (topup.status, topup.refunded_cents, balance(user)) == ("paid", 1000, before[0])


def test_a_refund_of_a_payment_that_is_not_ours_is_recorded_and_answered_200(credited, user):
    before = money_state(user)

    response = post_event("refund.created", refund_object("pi_of_another_product", 1000))

    assert response.status_code == 200
    assert money_state(user)[:5] == before[:5]


# --- Disputes -------------------------------------------------------------------------------------------


def test_a_dispute_restricts_the_wallet_and_takes_the_credits_back(credited, user):
    _, _, payment_intent = credited
    before = balance(user)

    post_event("charge.dispute.created", dispute_object(payment_intent, 1000, dispute_id="dp_1"))

    assert (before - balance(user), wallet(user).restriction) == (TEN_DOLLARS, "dispute")
    assert StripeDispute.objects.get().status == "open"


def test_a_won_dispute_restores_the_credits_and_lifts_the_restriction(credited, user):
    _, _, payment_intent = credited
    dispute = dispute_object(payment_intent, 1000, dispute_id="dp_1")
    before = balance(user)
    post_event("charge.dispute.created", dispute)

    post_event("charge.dispute.closed", dispute | {"status": "won"})
    post_event("charge.dispute.closed", dispute | {"status": "won"})

    assert (balance(user), wallet(user).restriction) == (before, "")
    assert StripeDispute.objects.get().status == "won"
    assert ledger_mismatches() == []


def test_a_lost_dispute_keeps_the_credits_taken(credited, user):
    _, _, payment_intent = credited
    dispute = dispute_object(payment_intent, 1000, dispute_id="dp_1")
    before = balance(user)
    post_event("charge.dispute.created", dispute)

    post_event("charge.dispute.closed", dispute | {"status": "lost"})

    assert (before - balance(user), wallet(user).restriction) == (TEN_DOLLARS, "")
    assert StripeDispute.objects.get().status == "lost"


def test_a_dispute_won_after_a_later_topup_paid_its_debt_gives_back_everything_it_took(
    credited, open_topup, stripe_standin, user
):
    _, _, payment_intent = credited
    fund(user, 5_000_000)  # the rest was spent
    dispute = dispute_object(payment_intent, 1000, dispute_id="dp_1")
    post_event("charge.dispute.created", dispute)  # takes 5,000,000 and records 15,000,000 owed
    next_topup = open_topup("10.00")
    post_event(COMPLETED, stripe_standin.complete(next_topup.checkout_session_id))  # pays the 15,000,000 first

    response = post_event("charge.dispute.closed", dispute | {"status": "won"})

    assert response.status_code == 200
    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (25_000_000, 0, "")
    assert ledger_mismatches() == []


@pytest.mark.parametrize(("outcome", "taken"), [("won", 0), ("lost", TEN_DOLLARS)])
def test_a_dispute_closed_before_it_was_opened_ends_as_in_order(credited, user, outcome, taken):
    _, _, payment_intent = credited
    dispute = dispute_object(payment_intent, 1000, dispute_id="dp_1")
    before = balance(user)

    post_event("charge.dispute.closed", dispute | {"status": outcome})
    post_event("charge.dispute.created", dispute)

    assert (before - balance(user), wallet(user).restriction) == (taken, "")
    assert StripeDispute.objects.get().status == outcome
    assert LedgerEntry.objects.filter(idempotency_key="dispute:dp_1:opened").count() == 1


def test_a_dispute_arriving_before_the_payment_events_credits_first_then_takes_back(paid_session, user):
    topup, session = paid_session
    before = balance(user)

    post_event("charge.dispute.created", dispute_object(session["payment_intent"], 1000, dispute_id="dp_early"))
    post_event(COMPLETED, session)

    topup.refresh_from_db()
    assert (topup.status, balance(user), wallet(user).restriction) == ("paid", before, "dispute")
    assert topup_entries(topup) == [("topup", TEN_DOLLARS, 0), ("dispute", -TEN_DOLLARS, 0)]


def test_a_dispute_after_a_partial_refund_takes_back_only_what_was_not_refunded(credited, user):
    _, _, payment_intent = credited
    post_event("refund.created", refund_object(payment_intent, 400))
    before = balance(user)

    post_event("charge.dispute.created", dispute_object(payment_intent, 1000, dispute_id="dp_1"))

    assert before - balance(user) == 12_000_000  # the $6.00 not refunded


# --- Failed refunds: everything a refund changed goes back -----------------------------------------------


@pytest.fixture
def spent_dollar(open_topup, stripe_standin, user, priced_model):
    """Return (a paid $1 top-up, its PaymentIntent id) after replies spent 1,800,000 of its 2,000,000 credits."""
    fund(user, 0)
    topup = open_topup("1.00")
    session = stripe_standin.complete(topup.checkout_session_id)
    assert post_event(COMPLETED, session).status_code == 200
    (hold,) = place_holds(user=user, requests=[HoldRequest("message:spend", priced_model, 0, 1_500_000)])
    settle(hold=hold, usage=ChargedUsage(input_tokens=0, output_tokens=1_500_000))  # $0.90 of output
    assert wallet(user).balance_credits == 200_000
    topup.refresh_from_db()
    return topup, session["payment_intent"]


def test_a_failed_refund_of_a_spent_topup_pays_the_debt_back_and_lifts_the_restriction(
    spent_dollar, user, priced_model
):
    topup, payment_intent = spent_dollar
    refund = refund_object(payment_intent, 100, refund_id="re_whole_dollar")
    post_event("refund.created", refund)
    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (
        0,
        1_800_000,
        "debt",
    )

    response = post_event("refund.failed", refund | {"status": "failed"})

    assert response.status_code == 200
    topup.refresh_from_db()
    assert (wallet(user).balance_credits, wallet(user).debt_credits, wallet(user).restriction) == (200_000, 0, "")
    assert topup.refunded_cents == 0
    assert ledger_mismatches() == []
    place_holds(user=user, requests=[HoldRequest("message:after", priced_model, 1_000, 1_000)])  # not restricted


def test_a_refund_worth_no_credits_counts_its_cents_once_and_its_failure_gives_them_back(
    open_topup, stripe_standin, user
):
    BillingSettings.objects.filter(pk=1).update(credits_per_usd=50)  # 1 cent buys half a credit
    topup = open_topup("1.00")
    session = stripe_standin.complete(topup.checkout_session_id)
    post_event(COMPLETED, session)
    refund = refund_object(session["payment_intent"], 1, refund_id="re_one_cent")
    before = money_state(user)

    post_event("refund.created", refund)
    post_event("refund.updated", refund)  # the same refund told again
    topup.refresh_from_db()
    assert topup.refunded_cents == 1
    answer = post_event("refund.failed", refund | {"status": "failed"})
    post_event("refund.failed", refund | {"status": "failed"})

    topup.refresh_from_db()
    assert (answer.status_code, topup.refunded_cents) == (200, 0)
    assert topup_entries(topup) == [("topup", 50, 0)]  # no entry that changes nothing
    assert money_state(user)[:4] == before[:4]
    assert ledger_mismatches() == []


def test_a_refund_of_a_fully_refunded_topup_and_its_failure_change_nothing(credited, user):
    topup, _, payment_intent = credited
    post_event("refund.created", refund_object(payment_intent, 1000, refund_id="re_all"))
    extra = refund_object(payment_intent, 500, refund_id="re_beyond")
    before = money_state(user)

    created = post_event("refund.created", extra)
    failed = post_event("refund.failed", extra | {"status": "failed"})

    topup.refresh_from_db()
    assert (created.status_code, failed.status_code, topup.refunded_cents) == (200, 200, 1000)
    assert topup_entries(topup) == [("topup", TEN_DOLLARS, 0), ("refund", -TEN_DOLLARS, 0)]
    assert money_state(user)[:5] == before[:5]


def test_a_capped_refund_reversed_in_full_leaves_everything_as_before_it(credited, user):
    topup, _, payment_intent = credited
    fund(user, 12_000_000)  # some was spent
    post_event("refund.created", refund_object(payment_intent, 800, refund_id="re_most"))  # takes 16,000,000
    capped = refund_object(payment_intent, 500, refund_id="re_past_the_amount")  # only $2.00 of it is left
    before = money_state(user)

    post_event("refund.created", capped)
    topup.refresh_from_db()
    assert (topup.refunded_cents, wallet(user).debt_credits) == (1000, 8_000_000)
    post_event("refund.failed", capped | {"status": "failed"})

    topup.refresh_from_db()
    assert topup.refunded_cents == 800
    after = money_state(user)
    assert after[:3] == before[:3]  # balance, debt, restriction
    assert after[4] == before[4]  # top-ups, with what was refunded of each
    assert ledger_mismatches() == []
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "agree with their ledgers" in out.getvalue()


# --- Signed events of an unexpected shape: refused, nothing recorded ----------------------------------------


def post_event_shaped(type_: str, data_object, *, drop: tuple[str, ...] = (), **replace) -> HttpResponse:
    """POST a correctly signed event whose body lacks the `drop`ped top-level fields (or has others replaced)."""
    payload, _ = signed_event(type_, data_object, secret=WEBHOOK_SECRET)
    event = {key: value for key, value in json.loads(payload).items() if key not in drop} | replace
    body = json.dumps(event).encode()
    return post_signed(body, signature_header(body, secret=WEBHOOK_SECRET))


def test_a_signed_event_without_livemode_is_refused_with_400_and_changes_nothing(paid_session, user):
    _, session = paid_session
    before = money_state(user)

    response = post_event_shaped(COMPLETED, session, drop=("livemode",))

    assert response.status_code == 400
    assert b"livemode" in response.content
    assert money_state(user) == before


def test_a_signed_event_without_data_object_is_refused_with_400_and_changes_nothing(credited, user):
    before = money_state(user)

    response = post_event_shaped("refund.created", None, data={})

    assert response.status_code == 400
    assert b"data.object" in response.content
    assert money_state(user) == before


def missing(field):
    return lambda obj: {key: value for key, value in obj.items() if key != field}


def replaced(**fields):
    return lambda obj: obj | fields


@pytest.mark.parametrize(
    ("type_", "shape"),
    [
        ("refund.created", missing("amount")),
        ("refund.created", missing("id")),
        ("refund.created", replaced(amount="1000")),
        ("refund.created", replaced(amount=-300)),
        ("refund.created", replaced(amount=True)),
        ("refund.created", replaced(status=["succeeded"])),
        ("refund.created", replaced(payment_intent=["pi_1"])),
        ("refund.failed", replaced(status="failed", amount=None)),
        ("charge.dispute.created", missing("amount")),
        ("charge.dispute.closed", replaced(status={"won": True})),
    ],
)
def test_a_signed_refund_or_dispute_missing_what_we_read_is_refused_and_changes_nothing(credited, user, type_, shape):
    _, _, payment_intent = credited
    post_event("refund.created", refund_object(payment_intent, 100, refund_id="re_before"))
    shaped = (
        refund_object(payment_intent, 300)
        if type_.startswith("refund")
        else dispute_object(payment_intent, 300, dispute_id="dp_shaped", status="won")
    )
    before = money_state(user)

    response = post_event(type_, shape(shaped))

    assert response.status_code == 400
    assert money_state(user) == before


@pytest.mark.parametrize(
    ("type_", "data_object"),
    [
        ("checkout.session.completed", {"object": "checkout.session", "payment_status": "paid"}),
        ("checkout.session.completed", {"id": "cs_test_1", "metadata": ["topup_id"]}),
        ("checkout.session.expired", []),
        ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "refunds": [{"id": "re_1"}]}),
        ("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "refunds": {"data": [{"amount": 5}]}}),
    ],
)
def test_a_signed_session_or_charge_of_the_wrong_shape_is_refused_and_changes_nothing(
    credited, user, type_, data_object
):
    before = money_state(user)

    response = post_event(type_, data_object)

    assert response.status_code == 400
    assert money_state(user) == before


@pytest.mark.parametrize(("drop", "replace"), [(("id",), {}), (("type",), {}), ((), {"livemode": "false"})])
def test_a_signed_event_without_its_id_or_type_is_refused(paid_session, user, drop, replace):
    _, session = paid_session
    before = money_state(user)

    response = post_event_shaped(COMPLETED, session, drop=drop, **replace)

    assert response.status_code == 400
    assert money_state(user) == before


@pytest.mark.parametrize("body", [b"[]", b"null", b'"evt_1"', b"{}"])
def test_a_signed_body_that_is_not_an_event_object_is_refused(paid_session, user, body):
    before = money_state(user)

    response = post_signed(body, signature_header(body, secret=WEBHOOK_SECRET))

    assert response.status_code == 400
    assert money_state(user) == before
