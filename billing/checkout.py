"""Checkout Sessions to top-ups: which top-up a session pays for, and the one rule for crediting it.

The webhook and the success page both fulfil through `fulfil_checkout`, so whichever comes first credits
the top-up and the other changes nothing (`credit_topup` is idempotent on the session id).
"""

import logging
import uuid

from billing.models import TopUp
from billing.services import credit_topup, record_checkout_session
from billing.stripe_gateway import CheckoutSession

logger = logging.getLogger(__name__)


def topup_for_session(session: CheckoutSession) -> TopUp | None:
    """Return the top-up a Checkout Session pays for, or None if it is not one of ours.

    Found by `client_reference_id`, else `metadata.topup_id`, else the recorded session id. A top-up
    already tied to a different session is not this session's (logged).
    """
    topup = None
    for reference in (session.client_reference_id, session.topup_id):
        try:
            topup = TopUp.objects.filter(pk=uuid.UUID(str(reference))).first()
        except ValueError:
            continue
        if topup is not None:
            break
    if topup is None:
        topup = TopUp.objects.filter(checkout_session_id=session.id).first()
    if topup is None:
        logger.warning("Checkout Session %s pays for no known top-up.", session.id)
        return None
    if topup.checkout_session_id not in (None, session.id):
        logger.error(
            "Checkout Session %s names top-up %s, which belongs to session %s; ignored.",
            session.id,
            topup.pk,
            topup.checkout_session_id,
        )
        return None
    return topup


def fulfil_checkout(*, topup: TopUp, session: CheckoutSession) -> bool:
    """Credit the top-up if Stripe says its session is paid for the expected amount; return whether it is credited.

    An unpaid session (a delayed payment method still processing) leaves the top-up awaiting payment. A
    session whose amount or currency differs from the top-up's is never credited automatically: it is
    logged as an error for a person to look at.
    """
    if session.amount_total != topup.amount_cents or (session.currency or "").lower() != "usd":
        logger.error(
            "Checkout Session %s charged %s %s but top-up %s expects %s usd; not credited.",
            session.id,
            session.amount_total,
            session.currency,
            topup.pk,
            topup.amount_cents,
        )
        return False
    if not session.is_paid:
        record_checkout_session(topup=topup, checkout_session_id=session.id)
        return False
    credit_topup(topup=topup, checkout_session_id=session.id, payment_intent_id=session.payment_intent_id)
    return True
