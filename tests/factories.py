"""Test data made as the product makes it: real requests through the real views, the real services, no mocks.

Accounts are signed up through allauth's pages, wallets funded and turns answered through the services, and
Stripe's events signed with the webhook secret and posted to the webhook, as Stripe does.
"""

import json
import re
import secrets
import uuid

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from allauth.core import ratelimit
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.forms import ACCOUNTS_CREATED
from accounts.rate_limits import forget
from billing.models import LedgerEntry, StripeDispute, StripeEvent, TopUp, Wallet
from billing.services import grant_credits, wallet_for
from catalog.models import AIModel
from chat.api.calls import finish_call, start_call
from chat.api.requests import parse_completion_request
from chat.models import ApiCall, Conversation, Message, Turn
from chat.services import ReplyOutcome, finish_reply, start_turn
from standins.stripe import signed_event

SIGNUP_PASSWORD = "correct-horse-battery"
WEBHOOK_SECRET = "whsec_test_panels"
WEBHOOK_URL = "/billing/stripe/webhook/"


def sign_up(client, email: str, *, address: str = "127.0.0.1", password: str = SIGNUP_PASSWORD, **headers):
    """Sign up through allauth's page as a browser at client `address` would; return the response."""
    form = {"email": email, "password1": password, "password2": password}
    return client.post("/accounts/signup/", form, REMOTE_ADDR=address, **headers)


def confirmation_link(message) -> str:
    """Return the path of the confirmation link in an allauth email `message`."""
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def confirm_email(client, message) -> None:
    """Open the confirmation link of an allauth email `message` and press its Confirm button."""
    link = confirmation_link(message)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302


def forget_signups(*addresses: str) -> None:
    """Clear the sign-ups counted for these client addresses: accounts per hour (and per network), attempts.

    The cache outlives a test (and, with Redis, the test run), so tests that sign up clear what they used.
    """
    for address in addresses:
        forget(address, action=ACCOUNTS_CREATED, seconds=3600)
        request = RequestFactory().post("/accounts/signup/", REMOTE_ADDR=address)
        ratelimit.clear(request, action="signup")  # allauth's own limit on attempts per minute


def verify_email(user) -> None:
    """Mark the user's email address verified as allauth does when its link is followed (same signal)."""
    address, _ = EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"primary": True})
    address.set_verified()
    email_confirmed.send(sender=EmailAddress, request=None, email_address=address)


def fund(user, credits: int):
    """Set the user's wallet to exactly `credits` through an admin grant; return the wallet."""
    wallet = wallet_for(user)
    difference = credits - wallet.balance_credits
    if difference:
        grant_credits(user=user, credits=difference, reason="test funding", key=f"test-fund:{user.pk}:{credits}")
    return Wallet.objects.get(pk=wallet.pk)


def balance(user) -> int:
    return Wallet.objects.get(user=user).balance_credits


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


def answer_turn(user, models: list[str], content: str, *, usage) -> list:
    """Start a turn through `start_turn` and finish each reply with `usage` (None: failed before any output).

    Return the turn's messages, fresh from the database, in panel order.
    """
    started = start_turn(
        user=user,
        request_id=str(uuid.uuid4()),
        conversation_id=None,
        model_slugs=models,
        content=content,
    )
    for reply in started.replies:
        outcome = ReplyOutcome(
            text="A reply." if usage else "", usage=usage, stopped=False, error_code="" if usage else "overloaded"
        )
        finish_reply(message_id=reply.message_id, outcome=outcome, estimated_input_tokens=reply.estimated_input_tokens)
    return list(Message.objects.filter(turn_id=started.turn.pk).select_related("model").order_by("panel"))


def write_turn(conversation: Conversation, content: str, replies: list[tuple], *, parent: Turn | None = None) -> Turn:
    """Write a turn of `conversation` after `parent` with one current reply per panel, as its replies ended.

    Each reply is (model, text, status, input tokens, output tokens, credits); a streaming one has no end yet.
    """
    turn = Turn.objects.create(
        conversation=conversation, user=conversation.user, parent=parent, request_id=str(uuid.uuid4()), content=content
    )
    for panel, (model, text, status, input_tokens, output_tokens, credits) in enumerate(replies):
        Message.objects.create(
            turn=turn,
            panel=panel,
            model=model,
            requested_model=model.slug,
            text=text,
            status=status,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            credits=credits,
            finished_at=None if status == Message.Status.STREAMING else timezone.now(),
        )
    return turn


def answer_api_call(secret: str, model: str, content: str, *, usage) -> ApiCall:
    """Make an API call with the key `secret` and settle it with `usage` (None: failed before any output).

    Admitted by `start_call`, as POST /v1/chat/completions admits it, and finished by `finish_call`, as its
    stream finishes it. Return the call, fresh from the database.
    """
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": content}]}).encode()
    started = start_call(secret=secret, request=parse_completion_request(body), process_id=None)
    outcome = ReplyOutcome(
        text="A reply." if usage else "", usage=usage, stopped=False, error_code="" if usage else "overloaded"
    )
    finish_call(call_id=started.call_id, outcome=outcome, estimated_input_tokens=started.estimated_input_tokens)
    return ApiCall.objects.select_related("model").get(pk=started.call_id)


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


def compared_turn(user, content: str, models: list[str]) -> list[Message]:
    """Write a finished side-by-side turn of `models` in a new conversation, without holds or charges.

    For tests of what happens after the replies (marking winners, what Auto learns from them), many turns at
    a time; `answer_turn` starts and settles a turn the way the product does, at several times the cost.
    Return its replies in panel order.
    """
    conversation = Conversation.objects.create(user=user, title=content[:40], chosen_models=models)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id=str(uuid.uuid4()), content=content)
    named = {model.slug: model for model in AIModel.objects.filter(slug__in=models)}
    return Message.objects.bulk_create(
        Message(
            turn=turn,
            panel=panel,
            model=named[slug],
            requested_model=slug,
            text="A reply.",
            status=Message.Status.COMPLETE,
            finished_at=timezone.now(),
        )
        for panel, slug in enumerate(models)
    )
