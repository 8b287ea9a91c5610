"""Buying credits: the top-up form opens a Stripe Checkout Session, and the pages Checkout returns to."""

import urllib.error
import urllib.request
from decimal import Decimal

import pytest
import stripe
from django.test import Client

from billing import stripe_gateway
from billing.models import BillingSettings, CreditPack, LedgerEntry, TopUp
from standins.stripe import signed_event
from tests.factories import WEBHOOK_SECRET, balance, money_state, post_event

pytestmark = pytest.mark.django_db

TOPUP_URL = "/billing/topup/"
SUCCESS_URL = "/billing/topup/success/"


@pytest.fixture
def ada(client, user):
    """Return a test client logged in as Ada."""
    client.force_login(user)
    return client


@pytest.fixture
def pack():
    return CreditPack.objects.create(name="Starter", amount_usd=Decimal("5.00"))


def checkout_request(stripe_standin):
    """Return the parameters of the one Checkout Session the stand-in was asked to create."""
    creates = [r for r in stripe_standin.received if r.method == "POST" and r.path == "/v1/checkout/sessions"]
    assert len(creates) == 1, stripe_standin.received
    return creates[0]


def test_topup_with_a_pack_sends_the_person_to_checkout_for_the_pack_price(ada, stripe_standin, pack, user):
    response = ada.post(TOPUP_URL, {"pack": pack.pk})

    topup = TopUp.objects.get(wallet__user=user)
    assert response.status_code == 303
    assert response["Location"] == f"{stripe_standin.url}/pay/{topup.checkout_session_id}"
    sent = checkout_request(stripe_standin)
    assert sent.params["mode"] == "payment"
    assert sent.params["client_reference_id"] == str(topup.id)
    assert sent.params["metadata"] == {"topup_id": str(topup.id)}
    assert sent.params["payment_intent_data"] == {"metadata": {"topup_id": str(topup.id)}}
    assert sent.params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "usd",
                "unit_amount": "500",
                "product_data": {"name": "Panels credits: 10,000,000"},
            },
        }
    ]
    assert sent.params["success_url"] == "http://testserver/billing/topup/success/?session_id={CHECKOUT_SESSION_ID}"
    assert sent.params["cancel_url"] == "http://testserver/billing/topup/cancelled/"
    assert sent.headers["idempotency-key"] == f"topup-checkout:{topup.id}"
    assert (topup.pack, topup.amount_cents, topup.credits, topup.status) == (pack, 500, 10_000_000, "awaiting_payment")


def test_topup_with_a_custom_amount_charges_that_amount(ada, stripe_standin, user):
    before = balance(user)

    response = ada.post(TOPUP_URL, {"amount_usd": "12.50"})

    topup = TopUp.objects.get(wallet__user=user)
    assert response.status_code == 303
    assert response["Location"] == stripe_standin.session(topup.checkout_session_id)["url"]
    assert checkout_request(stripe_standin).params["line_items"][0]["price_data"]["unit_amount"] == "1250"
    assert (topup.amount_cents, topup.credits) == (1250, int(Decimal("12.50") * BillingSettings.load().credits_per_usd))
    assert balance(user) == before  # nothing is credited before Stripe says it is paid


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount_usd": "0.99"}, "Top up between $1.00 and $500.00."),
        ({"amount_usd": "500.01"}, "Top up between $1.00 and $500.00."),
        ({"amount_usd": "-5"}, "Top up between $1.00 and $500.00."),
        ({"amount_usd": "ten dollars"}, "Enter an amount in dollars and cents, like 12.50."),
        ({"amount_usd": "NaN"}, "Enter an amount in dollars and cents, like 12.50."),
        ({"amount_usd": "12.345"}, "Enter an amount in dollars and cents, like 12.50."),
        ({}, "Choose a credit pack or enter an amount."),
        ({"amount_usd": ""}, "Choose a credit pack or enter an amount."),
        ({"amount_usd": "10", "pack": "PACK"}, "Choose a credit pack or enter an amount."),
        ({"pack": "999999"}, "That credit pack is not offered."),
    ],
)
def test_an_invalid_topup_is_refused_with_a_readable_message(ada, stripe_standin, user, pack, form, message):
    form = {key: str(pack.pk) if value == "PACK" else value for key, value in form.items()}
    before = money_state(user)

    response = ada.post(TOPUP_URL, form)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert money_state(user) == before
    assert stripe_standin.received == []


def test_a_pack_no_longer_offered_is_refused(ada, stripe_standin, user, pack):
    pack.active = False
    pack.save()
    before = money_state(user)

    response = ada.post(TOPUP_URL, {"pack": pack.pk})

    assert response.status_code == 400
    assert "That credit pack is no longer offered." in response.content.decode()
    assert money_state(user) == before


def test_topup_is_refused_without_a_csrf_token(user, stripe_standin, pack):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    before = money_state(user)

    response = browser.post(TOPUP_URL, {"pack": pack.pk})

    assert response.status_code == 403
    assert money_state(user) == before
    assert stripe_standin.received == []


def test_topup_sends_an_anonymous_visitor_to_log_in(client, stripe_standin, pack):
    response = client.post(TOPUP_URL, {"pack": pack.pk})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/billing/topup/")
    assert not TopUp.objects.exists()


def test_topup_only_accepts_post(ada, stripe_standin):
    assert ada.get(TOPUP_URL).status_code == 405


def test_when_stripe_refuses_the_person_is_told_nothing_was_charged(ada, stripe_standin, settings, user, pack):
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    before = balance(user)

    response = ada.post(TOPUP_URL, {"pack": pack.pk})

    assert response.status_code == 502
    assert "Payments are unavailable right now; nothing was charged." in response.content.decode()
    assert list(TopUp.objects.values_list("status", "checkout_session_id")) == [("failed", None)]
    assert balance(user) == before


def test_without_a_stripe_key_payments_are_not_configured(ada, stripe_standin, settings, user, pack):
    settings.STRIPE_SECRET_KEY = ""
    before = balance(user)

    response = ada.post(TOPUP_URL, {"pack": pack.pk})

    assert response.status_code == 503
    assert "Payments are not set up on this server yet; nothing was charged." in response.content.decode()
    assert stripe_standin.received == []
    assert list(TopUp.objects.values_list("status", "checkout_session_id")) == [("failed", None)]
    assert balance(user) == before


def test_a_retried_session_request_for_one_topup_opens_one_session(open_topup, stripe_standin):
    topup = open_topup()

    again = stripe_gateway.create_checkout_session(
        topup=topup,
        success_url="http://testserver/billing/topup/success/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/billing/topup/cancelled/",
    )

    assert again.id == topup.checkout_session_id
    assert list(stripe_standin.sessions) == [topup.checkout_session_id]


# --- Coming back from Checkout --------------------------------------------------------------------------


def test_success_page_credits_a_paid_topup_before_the_webhook_and_the_webhook_changes_nothing(
    ada, open_topup, stripe_standin, user
):
    topup = open_topup()
    session = stripe_standin.complete(topup.checkout_session_id)
    before = balance(user)

    response = ada.get(SUCCESS_URL, {"session_id": topup.checkout_session_id})

    assert response.status_code == 200
    assert "20,000,000 credits added" in response.content.decode()
    assert balance(user) == before + topup.credits
    entry = LedgerEntry.objects.get(idempotency_key=f"topup:{topup.checkout_session_id}")
    assert (entry.kind, entry.amount_credits, entry.topup_id) == ("topup", topup.credits, topup.id)
    topup.refresh_from_db()
    assert (topup.status, topup.payment_intent_id) == ("paid", session["payment_intent"])
    after_page = money_state(user)

    webhook = post_event("checkout.session.completed", session)
    reload = ada.get(SUCCESS_URL, {"session_id": topup.checkout_session_id})

    assert (webhook.status_code, reload.status_code) == (200, 200)
    state = money_state(user)
    assert state[:5] == after_page[:5]  # balance, debt, restriction, ledger and top-ups unchanged
    assert state[5] == after_page[5] + 1  # the webhook's event is recorded
    assert balance(user) == before + topup.credits


def test_success_page_says_processing_while_the_payment_is_not_confirmed(ada, open_topup, stripe_standin, user):
    topup = open_topup()
    stripe_standin.complete(topup.checkout_session_id, paid=False)  # a delayed payment method
    before = money_state(user)

    response = ada.get(SUCCESS_URL, {"session_id": topup.checkout_session_id})

    assert response.status_code == 200
    assert "Payment processing" in response.content.decode()
    assert money_state(user) == before


def test_success_page_says_processing_when_stripe_cannot_be_reached(ada, open_topup, stripe_standin, settings, user):
    topup = open_topup()
    stripe_standin.complete(topup.checkout_session_id)
    settings.STRIPE_SECRET_KEY = "sk_test_revoked"
    before = money_state(user)

    response = ada.get(SUCCESS_URL, {"session_id": topup.checkout_session_id})

    assert response.status_code == 200
    assert "Payment processing" in response.content.decode()
    assert money_state(user) == before


def test_success_page_of_another_persons_session_is_not_found(open_topup, stripe_standin, django_user_model, user):
    topup = open_topup()
    stripe_standin.complete(topup.checkout_session_id)
    mallory = django_user_model.objects.create_user(email="mallory@example.com", password="correct-horse-battery")
    browser = Client()
    browser.force_login(mallory)
    before = (money_state(user), balance(mallory))

    response = browser.get(SUCCESS_URL, {"session_id": topup.checkout_session_id})

    assert response.status_code == 404
    assert (money_state(user), balance(mallory)) == before
    assert [r.path for r in stripe_standin.received if r.method == "GET"] == []


def test_success_page_without_a_session_is_not_found(ada, open_topup, stripe_standin):
    open_topup()

    assert ada.get(SUCCESS_URL).status_code == 404


def test_cancelled_page_says_no_money_was_taken(ada):
    response = ada.get("/billing/topup/cancelled/")

    assert response.status_code == 200
    assert "no money was taken" in response.content.decode()


# --- The stand-in's pay page (the local demo of the whole flow) -------------------------------------------


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.django_db(transaction=True)
def test_the_standin_pay_button_sends_a_signed_webhook_that_credits_the_topup(
    live_server, stripe_standin, open_topup, user
):
    stripe_standin.webhook_url = f"{live_server.url}/billing/stripe/webhook/"
    stripe_standin.webhook_secret = WEBHOOK_SECRET
    topup = open_topup()
    pay_url = stripe_standin.session(topup.checkout_session_id)["url"]
    before = balance(user)

    with urllib.request.urlopen(pay_url) as page:  # noqa: S310 (the local stand-in)
        assert "Pay $10.00 (test)" in page.read().decode()
    opener = urllib.request.build_opener(NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(urllib.request.Request(pay_url, data=b"", method="POST"))  # noqa: S310 (idem)

    assert redirect.value.code == 303
    assert redirect.value.headers["Location"] == (
        f"http://testserver/billing/topup/success/?session_id={topup.checkout_session_id}"
    )
    assert balance(user) == before + topup.credits  # credited by the webhook alone
    topup.refresh_from_db()
    assert topup.status == "paid"


def test_standin_signatures_are_the_ones_stripe_computes():
    payload, header = signed_event("checkout.session.completed", {"id": "cs_test_1"}, secret="whsec_x", timestamp=1)

    assert header == stripe.WebhookSignature.generate_signature_header(payload.decode(), "whsec_x", timestamp=1)
