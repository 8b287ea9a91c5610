"""Billing fixtures for Stripe: the local API stand-in, top-ups opened through it, and signed webhook posts."""

import secrets
from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.test import Client

from billing import stripe_gateway
from billing.models import LedgerEntry, StripeDispute, StripeEvent, TopUp, Wallet
from billing.services import create_topup, record_checkout_session
from standins.stripe import StripeStandin, signed_event

STRIPE_KEY = "sk_test_panels"
WEBHOOK_SECRET = "whsec_test_panels"
WEBHOOK_URL = "/billing/stripe/webhook/"


@pytest.fixture(scope="session")
def stripe_standin_server():
    """Serve the Stripe stand-in on a free port for the whole session."""
    server = StripeStandin(api_key=STRIPE_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_standin(stripe_standin_server, settings):
    """Return the stand-in, emptied, with the app's Stripe settings pointed at it."""
    stripe_standin_server.reset()
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_standin_server.url
    yield stripe_standin_server
    stripe_standin_server.webhook_url = stripe_standin_server.webhook_secret = None


@pytest.fixture
def open_topup(stripe_standin, user):
    """Return a function that starts a top-up as the top-up view does: a TopUp with an open Checkout Session."""

    def open_topup(amount_usd: str = "10.00", *, owner=None) -> TopUp:
        topup = create_topup(user=owner or user, amount_usd=Decimal(amount_usd))
        session = stripe_gateway.create_checkout_session(
            topup=topup,
            success_url="http://testserver/billing/topup/success/?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="http://testserver/billing/topup/cancelled/",
        )
        record_checkout_session(topup=topup, checkout_session_id=session.id)
        topup.refresh_from_db()
        return topup

    return open_topup


def post_event(type_: str, data_object: dict, **signing) -> HttpResponse:
    """POST a Stripe event signed with the webhook secret (or `secret=`), as Stripe does: no CSRF token."""
    signing.setdefault("secret", WEBHOOK_SECRET)
    payload, header = signed_event(type_, data_object, **signing)
    return post_signed(payload, header)


def post_signed(payload: bytes, header: str | None) -> HttpResponse:
    """POST a webhook body with the given `Stripe-Signature` header (None: without one)."""
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    return Client(enforce_csrf_checks=True).post(WEBHOOK_URL, payload, content_type="application/json", **extra)


def refund_object(payment_intent: str, amount_cents: int, *, refund_id: str | None = None, status: str = "succeeded"):
    """Return a Stripe Refund object."""
    return {
        "id": refund_id or f"re_{secrets.token_hex(12)}",
        "object": "refund",
        "amount": amount_cents,
        "currency": "usd",
        "charge": f"ch_for_{payment_intent}",
        "payment_intent": payment_intent,
        "status": status,
        "metadata": {},
    }


def charge_object(payment_intent: str, amount_cents: int, refunds: list[dict] | None = None) -> dict:
    """Return a Stripe Charge object; `refunds=None` omits the list, as API versions since 2022-11-15 do."""
    charge = {
        "id": f"ch_for_{payment_intent}",
        "object": "charge",
        "amount": amount_cents,
        "amount_refunded": sum(refund["amount"] for refund in refunds or []),
        "currency": "usd",
        "payment_intent": payment_intent,
        "refunded": sum(refund["amount"] for refund in refunds or []) == amount_cents,
        "metadata": {},
    }
    if refunds is not None:
        charge["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return charge


def dispute_object(payment_intent: str, amount_cents: int, *, dispute_id: str, status: str = "needs_response"):
    """Return a Stripe Dispute object."""
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount_cents,
        "currency": "usd",
        "charge": f"ch_for_{payment_intent}",
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    }


def money_state(user) -> tuple:
    """Return everything a refused request must leave as it was: wallet, ledger, top-ups, events, disputes."""
    wallet = Wallet.objects.get(user=user)
    return (
        wallet.balance_credits,
        wallet.debt_credits,
        wallet.restriction,
        list(LedgerEntry.objects.order_by("id").values_list("id", "idempotency_key")),
        list(TopUp.objects.order_by("id").values_list("id", "status", "checkout_session_id", "refunded_cents")),
        StripeEvent.objects.count(),
        list(StripeDispute.objects.values_list("dispute_id", "status")),
    )


def balance(user) -> int:
    return Wallet.objects.get(user=user).balance_credits
