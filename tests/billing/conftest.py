"""Billing fixtures for Stripe: the local API stand-in, the app pointed at it, and top-ups opened through it."""

from decimal import Decimal

import pytest

from billing import stripe_gateway
from billing.models import TopUp
from billing.services import create_topup, record_checkout_session
from standins.stripe import StripeStandin
from tests.factories import WEBHOOK_SECRET

STRIPE_KEY = "sk_test_panels"


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
