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
| refund.failed (or status failed / canceled)  | give back its credits, debt and cents (a reversal entry)        |
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

A correctly signed event that lacks a field this module reads (`id`, `type`, `livemode`, `data.object`, or
the id, amount or status of its refund, dispute or session), or has one of another type, is also a 400 and
changes nothing, not even the record of the event: such a body means Stripe and this code disagree on the
event's shape (an API version change), so Stripe keeps retrying it for days, the dashboard shows the
failures, and the events are applied once the code is fixed instead of being lost behind a 200.
"""

import logging
from collections.abc import Mapping

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
ID_MAX_LENGTH = 200  # Stripe's ids are about 30 characters; ledger keys add a prefix to them (255 at most)
CENTS_MAX = 2**31 - 1  # the largest amount the database stores; Stripe's own limit is far below it


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Receive one Stripe event (see the module docstring for what each does)."""
    try:
        event = stripe_gateway.verify_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except InvalidWebhook as error:
        logger.warning("Refused a Stripe webhook: %s", error.detail)
        return HttpResponseBadRequest(error.detail, content_type="text/plain")
    event = event.to_dict(for_json=True)
    try:
        if _flag(event, "livemode", "event") != stripe_gateway.key_is_live():
            logger.warning(
                "Ignored Stripe event %s (%s): it is for the other mode than this server's key.",
                event.get("id"),
                event.get("type"),
            )
            return HttpResponse("Ignored: the event is for the other mode.", content_type="text/plain")
        applied = apply_event(event)
    except InvalidWebhook as error:
        logger.error("Refused a signed Stripe event %r of an unexpected shape: %s", event.get("id"), error.detail)
        return HttpResponseBadRequest(error.detail, content_type="text/plain")
    except PaymentProviderError as error:
        return HttpResponse(error.detail, status=503, content_type="text/plain")
    return HttpResponse("Applied." if applied else "Already applied.", content_type="text/plain")


def apply_event(event: dict) -> bool:
    """Record a verified event and apply it, in one transaction; return False if it was applied before.

    Raise InvalidWebhook (nothing recorded, nothing changed) if the event lacks a field that is read.
    """
    event_id, event_type = _id(event, "id", "event"), _id(event, "type", "event")
    livemode = _flag(event, "livemode", "event")
    data_object = _object(_object(event, "data", "event"), "object", "event.data")
    with transaction.atomic():
        try:
            with transaction.atomic():  # only a duplicate event id may be taken for "already applied"
                StripeEvent.objects.create(event_id=event_id, type=event_type, livemode=livemode, payload=event)
        except IntegrityError:
            return False
        handler = HANDLERS.get(event_type)
        if handler is not None:
            handler(data_object)  # a field it lacks raises InvalidWebhook, which rolls the record back too
    return True


# --- Reading fields: each one this module uses, of the type it needs, or InvalidWebhook -----------------


def _missing(where: str, name: str, wanted: str) -> InvalidWebhook:
    return InvalidWebhook(f"The signed event has no valid {where}.{name}: {wanted} expected.")


def _object(parent: Mapping, name: str, where: str) -> dict:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise _missing(where, name, "an object")
    return value


def _id(parent: Mapping, name: str, where: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str) or not value or len(value) > ID_MAX_LENGTH:
        raise _missing(where, name, f"a string of 1 to {ID_MAX_LENGTH} characters")
    return value


def _optional_text(parent: Mapping, name: str, where: str) -> str | None:
    value = parent.get(name)
    if value is not None and not isinstance(value, str):
        raise _missing(where, name, "a string or null")
    return value


def _flag(parent: Mapping, name: str, where: str) -> bool:
    value = parent.get(name)
    if not isinstance(value, bool):
        raise _missing(where, name, "true or false")
    return value


def _cents(parent: Mapping, where: str) -> int:
    value = parent.get("amount")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= CENTS_MAX:
        raise _missing(where, "amount", "a whole number of cents")
    return value


def _session(session_object: dict) -> CheckoutSession:
    """Read a Checkout Session, checking the fields that decide which top-up it pays and whether it is paid."""
    _id(session_object, "id", "session")
    for name in ("client_reference_id", "payment_status", "currency"):
        _optional_text(session_object, name, "session")
    if not isinstance(session_object.get("metadata") or {}, Mapping):
        raise _missing("session", "metadata", "an object")
    amount_total = session_object.get("amount_total")
    if amount_total is not None and (isinstance(amount_total, bool) or not isinstance(amount_total, int)):
        raise _missing("session", "amount_total", "a whole number of cents")
    payment_intent = session_object.get("payment_intent")
    if isinstance(payment_intent, Mapping):  # expanded
        _id(payment_intent, "id", "session.payment_intent")
    elif payment_intent is not None:
        _id(session_object, "payment_intent", "session")
    return CheckoutSession.from_object(session_object)


# --- Checkout Sessions -------------------------------------------------------------------------------


def _session_paid_or_pending(session_object: dict) -> None:
    session = _session(session_object)
    topup = topup_for_session(session)
    if topup is not None:
        fulfil_checkout(topup=topup, session=session)


def _session_failed(session_object: dict) -> None:
    topup = topup_for_session(_session(session_object))
    if topup is not None:
        fail_topup(topup=topup, status=TopUp.Status.FAILED)


def _session_expired(session_object: dict) -> None:
    topup = topup_for_session(_session(session_object))
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


def _refund_fields(refund: Mapping) -> tuple[str, int, str | None]:
    """Return a refund's id, amount in cents and status, or raise InvalidWebhook."""
    return _id(refund, "id", "refund"), _cents(refund, "refund"), _optional_text(refund, "status", "refund")


def _apply_refund_state(topup: TopUp, refund_id: str, amount_cents: int, status: str | None) -> None:
    if status in REFUND_TAKEN:
        if _refund_undone(refund_id):
            logger.info("Refund %s already failed; a late '%s' snapshot of it is ignored.", refund_id, status)
            return
        apply_refund(topup=topup, refund_id=refund_id, amount_cents=amount_cents)
    elif status in REFUND_UNDONE:
        reverse_refund(topup=topup, refund_id=refund_id, amount_cents=amount_cents)


def _refund_changed(refund: dict) -> None:
    fields = _refund_fields(refund)
    topup = _topup_for_payment(_optional_text(refund, "payment_intent", "refund"))
    if topup is not None:
        _apply_refund_state(topup, *fields)


def _charge_refunded(charge: dict) -> None:
    # Since API version 2022-11-15 a charge no longer lists its refunds; refund.* events then carry them.
    listed = charge.get("refunds") or {}
    refunds = (listed.get("data") or []) if isinstance(listed, Mapping) else None
    if not isinstance(refunds, list) or not all(isinstance(refund, Mapping) for refund in refunds):
        raise _missing("charge", "refunds.data", "a list of refunds")
    if not refunds:
        return
    fields = [_refund_fields(refund) for refund in refunds]
    topup = _topup_for_payment(_optional_text(charge, "payment_intent", "charge"))
    if topup is not None:
        for refund_fields in fields:
            _apply_refund_state(topup, *refund_fields)


def _dispute_created(dispute: dict) -> None:
    dispute_id, amount_cents = _id(dispute, "id", "dispute"), _cents(dispute, "dispute")
    topup = _topup_for_payment(_optional_text(dispute, "payment_intent", "dispute"))
    if topup is not None:
        open_dispute(topup=topup, dispute_id=dispute_id, amount_cents=amount_cents)


def _dispute_closed(dispute: dict) -> None:
    dispute_id, amount_cents = _id(dispute, "id", "dispute"), _cents(dispute, "dispute")
    status = _optional_text(dispute, "status", "dispute")
    payment_intent = _optional_text(dispute, "payment_intent", "dispute")
    won = DISPUTE_WON.get(status)
    if won is None:
        logger.warning("Dispute %s closed with status %r; left open.", dispute_id, status)
        return
    topup = _topup_for_payment(payment_intent)
    if topup is not None:
        open_dispute(topup=topup, dispute_id=dispute_id, amount_cents=amount_cents)  # if it came first
        close_dispute(dispute_id=dispute_id, won=won)


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
