"""The only module that talks to Stripe: Checkout Sessions out, verified webhook events in.

The rest of the app sees plain values (`CheckoutSession`) and billing errors, never a `stripe` error. The
key and the API base are read from the settings on every call (tests and the local stand-in point
`STRIPE_API_BASE` elsewhere), through a client of our own rather than the library's global state.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import stripe
from django.conf import settings

from billing.exceptions import InvalidWebhook, PaymentProviderError, PaymentsNotConfigured
from billing.models import TopUp

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 20  # a person is waiting on the other side of the redirect
NETWORK_RETRIES = 2  # safe: a session is created with an idempotency key, and reads have no effect


@dataclass(frozen=True)
class CheckoutSession:
    """What Panels reads of a Stripe Checkout Session."""

    id: str
    url: str | None = None
    status: str | None = None  # open, complete, expired
    payment_status: str | None = None  # paid, unpaid, no_payment_required
    client_reference_id: str | None = None
    topup_id: str | None = None  # metadata["topup_id"]
    payment_intent_id: str | None = None
    amount_total: int | None = None  # cents
    currency: str | None = None

    @classmethod
    def from_object(cls, session: Mapping) -> "CheckoutSession":
        """Read a session from its JSON shape: an API answer or a webhook event's `data.object`."""
        payment_intent = session.get("payment_intent")
        if isinstance(payment_intent, Mapping):  # expanded
            payment_intent = payment_intent.get("id")
        return cls(
            id=session["id"],
            url=session.get("url"),
            status=session.get("status"),
            payment_status=session.get("payment_status"),
            client_reference_id=session.get("client_reference_id"),
            topup_id=(session.get("metadata") or {}).get("topup_id"),
            payment_intent_id=payment_intent,
            amount_total=session.get("amount_total"),
            currency=session.get("currency"),
        )

    @property
    def is_paid(self) -> bool:
        return self.payment_status == "paid"


def create_checkout_session(*, topup: TopUp, success_url: str, cancel_url: str) -> CheckoutSession:
    """Start Stripe Checkout for a top-up; a repeated call for the same top-up returns the same session.

    `success_url` may contain Stripe's `{CHECKOUT_SESSION_ID}` placeholder.
    """
    metadata = {"topup_id": str(topup.id)}
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": topup.amount_cents,
                    "product_data": {"name": f"Panels credits: {topup.credits:,}"},
                },
            }
        ],
        "client_reference_id": str(topup.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    session = _call(
        "create a Checkout Session",
        lambda client: client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"topup-checkout:{topup.id}"}
        ),
    )
    return CheckoutSession.from_object(session.to_dict())


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    """Return a Checkout Session as Stripe knows it now."""
    session = _call("retrieve a Checkout Session", lambda client: client.v1.checkout.sessions.retrieve(session_id))
    return CheckoutSession.from_object(session.to_dict())


def checkout_session_for_payment(payment_intent_id: str) -> CheckoutSession | None:
    """Return the Checkout Session that created a PaymentIntent, or None if none did."""
    sessions = _call(
        "find a Checkout Session",
        lambda client: client.v1.checkout.sessions.list(params={"payment_intent": payment_intent_id, "limit": 1}),
    )
    found = sessions.to_dict().get("data") or []
    return CheckoutSession.from_object(found[0]) if found else None


def verify_webhook(payload: bytes, signature_header: str) -> stripe.Event:
    """Return the event in a webhook body if its `Stripe-Signature` is valid and at most 300 s old.

    Raise InvalidWebhook otherwise. Pass the raw body: a re-serialized one does not verify. A replay
    within the tolerance does verify, so callers must de-duplicate on the event id.
    """
    if not settings.STRIPE_WEBHOOK_SECRET:
        logger.error("A Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set; refused it.")
        raise InvalidWebhook("Webhooks are not configured.")
    try:
        return stripe.Webhook.construct_event(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook("Invalid Stripe signature.") from error
    except (ValueError, AttributeError) as error:  # not UTF-8, not JSON, or JSON but not an object (signed)
        raise InvalidWebhook("The body is not a Stripe event.") from error


def key_is_live() -> bool:
    """Return whether the configured key is a live-mode key (events of the other mode are not ours)."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))


def _call(action: str, call):
    """Run one API request with the configured client, turning every Stripe failure into PaymentProviderError."""
    if not settings.STRIPE_SECRET_KEY:
        logger.error("Could not %s: STRIPE_SECRET_KEY is not set.", action)
        raise PaymentsNotConfigured()
    try:
        return call(_client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE.rstrip("/")))
    except stripe.StripeError as error:
        logger.error("Could not %s: %s (Stripe request %s)", action, error, error.request_id)
        raise PaymentProviderError() from error


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    """Return a client for one key and API base (cached: it keeps its connections open per thread)."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )
