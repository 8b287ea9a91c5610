"""Stripe webhooks: verify the signature on the raw body, apply each event once, dispatch to the services.

An event is recorded (`StripeEvent`, keyed by its id) in the same transaction as its effects, so a replay or
a concurrent redelivery of the same event changes nothing. Different events can tell the same fact (a
completed session, then its `async_payment_succeeded`; `charge.refunded` and `refund.created`), so every
service called here is also idempotent on its business key (session, refund or dispute id).

| event                                        | effect                                                          |
|----------------------------------------------|-----------------------------------------------------------------|
| checkout.session.completed                   | paid: credit the top-up; unpaid: leave it awaiting payment      |
| checkout.session.async_payment_succeeded     | credit the top-up                                               |
| checkout.session.async_payment_failed        | mark the top-up failed (a paid one is never changed back)       |
| checkout.session.expired                     | mark the top-up expired (idem)                                  |
| refund.created / refund.updated              | pending or succeeded: take back that refund's credits, once     |
| refund.failed (or status failed / canceled)  | give them back (a reversal entry)                               |
| charge.refunded                              | each refund listed in `refunds.data`, as above                  |
| charge.dispute.created                       | restrict the wallet, take back the disputed credits             |
| charge.dispute.closed                        | won (or warning_closed): restore them; lost: keep them taken    |
| anything else                                | recorded, nothing else                                          |

Stripe does not order events. A refund or dispute can arrive before the payment's own events: the
Checkout Session of its payment is then fetched from the API and the top-up credited first, so the ledger
reads in the order things happened and ends the same in any order (that API read happens inside the event's
transaction, which meanwhile locks nothing but this event id). A refund seen as failed or canceled is
never taken back later by an older snapshot of it. A dispute closed before it was opened is opened first.

Answers: 400 for a missing, forged or stale signature (nothing recorded); 200 once the event is applied, was
applied before, is for the other mode (test vs live), or concerns no top-up of ours (logged); 503 when the
API was needed and unreachable, and 500 on an unexpected error: nothing is recorded, so Stripe retries.
"""

import logging

from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_gateway
from billing.checkout import fulfil_checkout, topup_for_session
from billing.exceptions import InvalidWebhook, PaymentProviderError
from billing.models import StripeEvent, TopUp
from billing.services import apply_refund, close_dispute, fail_topup, open_dispute, reverse_refund
from billing.stripe_gateway import CheckoutSession

logger = logging.getLogger(__name__)

REFUND_TAKEN = {"pending", "succeeded"}  # pending: the money is on its way back, so the credits stop now
REFUND_UNDONE = {"failed", "canceled"}  # final states: the money stayed with us
DISPUTE_WON = {"won": True, "warning_closed": True, "lost": False}


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Receive one Stripe event (see the module docstring for what each does)."""
    try:
        event = stripe_gateway.verify_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except InvalidWebhook as error:
        logger.warning("Refused a Stripe webhook: %s", error.detail)
        return HttpResponseBadRequest(error.detail, content_type="text/plain")
    if event.livemode != stripe_gateway.key_is_live():
        logger.warning(
            "Ignored Stripe event %s (%s): it is for the other mode than this server's key.", event.id, event.type
        )
        return HttpResponse("Ignored: the event is for the other mode.", content_type="text/plain")
    try:
        applied = apply_event(event.to_dict(for_json=True))
    except PaymentProviderError as error:
        return HttpResponse(error.detail, status=503, content_type="text/plain")
    return HttpResponse("Applied." if applied else "Already applied.", content_type="text/plain")


def apply_event(event: dict) -> bool:
    """Record a verified event and apply it, in one transaction; return False if it was applied before."""
    with transaction.atomic():
        try:
            with transaction.atomic():  # only a duplicate event id may be taken for "already applied"
                StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], livemode=event["livemode"], payload=event
                )
        except IntegrityError:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is not None:
            handler(event["data"]["object"])
    return True


# --- Checkout Sessions -------------------------------------------------------------------------------


def _session_paid_or_pending(session_object: dict) -> None:
    session = CheckoutSession.from_object(session_object)
    topup = topup_for_session(session)
    if topup is not None:
        fulfil_checkout(topup=topup, session=session)


def _session_failed(session_object: dict) -> None:
    topup = topup_for_session(CheckoutSession.from_object(session_object))
    if topup is not None:
        fail_topup(topup=topup, status=TopUp.Status.FAILED)


def _session_expired(session_object: dict) -> None:
    topup = topup_for_session(CheckoutSession.from_object(session_object))
    if topup is not None:
        fail_topup(topup=topup, status=TopUp.Status.EXPIRED)


# --- Refunds and disputes ----------------------------------------------------------------------------


def _topup_for_payment(payment_intent_id: str | None) -> TopUp | None:
    """Return the top-up a PaymentIntent paid for, credited first if its own events have not arrived yet."""
    if not payment_intent_id:
        logger.warning("A Stripe refund or dispute names no PaymentIntent; ignored.")
        return None
    topup = TopUp.objects.filter(payment_intent_id=payment_intent_id).first()
    if topup is not None:
        return topup
    session = stripe_gateway.checkout_session_for_payment(payment_intent_id)
    topup = topup_for_session(session) if session is not None else None
    if topup is None:
        logger.warning(
            "PaymentIntent %s paid for no known top-up; its refund or dispute is ignored.", payment_intent_id
        )
        return None
    if not fulfil_checkout(topup=topup, session=session):
        logger.warning("Top-up %s is refunded or disputed but Stripe does not show it paid.", topup.pk)
    topup.refresh_from_db()
    return topup


def _refund_undone(refund_id: str) -> bool:
    """Return whether an earlier event showed this refund failed or canceled (final states)."""
    return StripeEvent.objects.filter(
        type__startswith="refund.",
        payload__data__object__id=refund_id,
        payload__data__object__status__in=sorted(REFUND_UNDONE),
    ).exists()


def _apply_refund_state(topup: TopUp, refund: dict) -> None:
    status = refund.get("status")
    if status in REFUND_TAKEN:
        if _refund_undone(refund["id"]):
            logger.info("Refund %s already failed; a late '%s' snapshot of it is ignored.", refund["id"], status)
            return
        apply_refund(topup=topup, refund_id=refund["id"], amount_cents=refund["amount"])
    elif status in REFUND_UNDONE:
        reverse_refund(topup=topup, refund_id=refund["id"], amount_cents=refund["amount"])


def _refund_changed(refund: dict) -> None:
    topup = _topup_for_payment(refund.get("payment_intent"))
    if topup is not None:
        _apply_refund_state(topup, refund)


def _charge_refunded(charge: dict) -> None:
    # Since API version 2022-11-15 a charge no longer lists its refunds; refund.* events then carry them.
    refunds = (charge.get("refunds") or {}).get("data") or []
    if not refunds:
        return
    topup = _topup_for_payment(charge.get("payment_intent"))
    if topup is not None:
        for refund in refunds:
            _apply_refund_state(topup, refund)


def _dispute_created(dispute: dict) -> None:
    topup = _topup_for_payment(dispute.get("payment_intent"))
    if topup is not None:
        open_dispute(topup=topup, dispute_id=dispute["id"], amount_cents=dispute["amount"])


def _dispute_closed(dispute: dict) -> None:
    won = DISPUTE_WON.get(dispute.get("status"))
    if won is None:
        logger.warning("Dispute %s closed with status %r; left open.", dispute["id"], dispute.get("status"))
        return
    topup = _topup_for_payment(dispute.get("payment_intent"))
    if topup is not None:
        open_dispute(topup=topup, dispute_id=dispute["id"], amount_cents=dispute["amount"])  # if it came first
        close_dispute(dispute_id=dispute["id"], won=won)


HANDLERS = {
    "checkout.session.completed": _session_paid_or_pending,
    "checkout.session.async_payment_succeeded": _session_paid_or_pending,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "refund.created": _refund_changed,
    "refund.updated": _refund_changed,
    "refund.failed": _refund_changed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
