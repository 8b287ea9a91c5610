"""Attachments end to end: upload to a real Daphne, send one screenshot and one PDF to two models side by side.

The real SDKs carry the image and the PDF's text to the provider simulator, which counts the image's tokens by
each provider's formula and reports usage as each provider does; the test checks the hold covered it, and the
charge is exactly the reported usage at the model's price.
"""

import io
import secrets

import httpx2
import pytest
from django.test import Client
from PIL import Image, ImageDraw

from billing.models import BillingSettings, Hold, LedgerEntry, Wallet
from billing.pricing import cost_of
from billing.rates import rate_for
from chat.models import Attachment, Message
from standins.files import pdf
from standins.providers import SimulatorThread
from standins.servers import DaphneServer, provider_environment
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def simulator():
    with SimulatorThread(reply_tokens=30, tokens_per_second=600) as sim:
        yield sim


@pytest.fixture(scope="module")
def chat_server(simulator, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = DaphneServer(**provider_environment(simulator))
    yield server
    server.stop()


def browser_for(server, user) -> httpx2.Client:
    """Return an HTTP client logged in as `user`, sending the CSRF token as the page's scripts do."""
    client = Client()
    client.force_login(user)
    token = secrets.token_hex(16)
    return httpx2.Client(
        base_url=server.url,
        cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
        headers={"X-CSRFToken": token},
        timeout=20,
    )


def screenshot_png() -> bytes:
    image = Image.new("RGB", (1280, 720), "white")
    ImageDraw.Draw(image).rectangle((100, 100, 600, 400), fill=(30, 90, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_one_screenshot_and_one_pdf_to_two_models_side_by_side_priced_first_and_charged_exactly(
    chat_server, simulator, user
):
    fund(user, 5_000_000)
    with browser_for(chat_server, user) as http:
        image = http.post("/api/attachments/", files={"file": ("screen.png", screenshot_png(), "image/png")})
        document = http.post("/api/attachments/", files={"file": ("terms.pdf", pdf("Refunds within 30 days"))})
    assert (image.status_code, document.status_code) == (201, 201), (image.text, document.text)
    image, document = image.json(), document.json()

    socket = Socket(chat_server, user)
    try:
        started = socket.send_turn(
            ["gpt-4o-mini", "claude-3-5-haiku"],
            "What does the screenshot show, and what do the terms say about refunds?",
            attachment_ids=[image["id"], document["id"]],
        )
        assert started["type"] == "turn.started", started
        assert [a["name"] for a in started["attachments"]] == ["screen.png", "terms.pdf"]
        ids = [m["message_id"] for m in started["messages"]]
        done = socket.until_done(ids)
    finally:
        socket.close()

    for message_id, slug in zip(ids, ["gpt-4o-mini", "claude-3-5-haiku"], strict=True):
        text = socket.text(message_id)
        assert "Seen: image 1280x720 image/png" in text  # the model received the image itself
        record = next(r for r in simulator.records if r.text_sent == text)
        assert record.images == [(1280, 720, "image/png")]
        assert "Refunds within 30 days" in record.messages[-1][1]  # the PDF's text, inlined
        message = Message.objects.get(pk=message_id)
        # Priced first: the hold's estimate counted the image exactly as the provider counts it, and the text
        # (files included) on the high side.
        assert record.image_tokens == image["tokens"][slug] > 0
        hold = Hold.objects.get(reference=f"message:{message_id}")
        assert hold.estimated_input_tokens >= record.input_tokens
        assert message.attachment_tokens == image["tokens"][slug] + document["tokens"][slug]
        # Charged exactly: the reported usage at the model's price, on the ledger.
        frame = done[message_id]
        assert (frame["input_tokens"], frame["output_tokens"]) == (record.input_tokens, record.output_tokens)
        expected = cost_of(
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            cached_input_tokens=record.cached_input_tokens or 0,
            rate=rate_for(message.price, BillingSettings.load()),
        ).credits
        entry = LedgerEntry.objects.get(idempotency_key=f"usage:message:{message_id}")
        assert frame["credits"] == -entry.amount_credits == message.credits == expected > 0
    # GPT-4o mini counts this screenshot as 2,833 + 5,667 x 6 tiles (3 x 2 of 512 px); Claude by its pixels.
    assert image["tokens"] == {**image["tokens"], "gpt-4o-mini": 2833 + 5667 * 6, "claude-3-5-haiku": 1229}
    wallet = Wallet.objects.get(user=user)
    assert wallet.held_credits == 0
    assert wallet.balance_credits == 5_000_000 - sum(done[i]["credits"] for i in ids)
    assert Attachment.objects.filter(turn_id=started["turn_id"]).count() == 2


def test_a_dense_csv_is_held_for_at_least_its_tokens_so_it_is_charged_in_full(chat_server, simulator, user):
    """Numbers and commas run about 2 characters a token: a hold sized at 3 would cap the charge below the usage."""
    fund(user, 5_000_000)
    rows = "\n".join(f"{n},{n * 7919 % 100_000},{n % 97}.{n % 89:02d},north" for n in range(3_000))
    with browser_for(chat_server, user) as http:
        upload = http.post("/api/attachments/", files={"file": ("sales.csv", f"id,units,price,region\n{rows}\n")})
    assert upload.status_code == 201, upload.text

    socket = Socket(chat_server, user)
    try:
        started = socket.send_turn(
            ["gpt-4o-mini"],
            "Total the units per region.",
            attachment_ids=[upload.json()["id"]],
            panel_settings=[{"temperature": None, "max_output_tokens": 20}],  # a small hold beside the input
        )
        assert started["type"] == "turn.started", started
        message_id = started["messages"][0]["message_id"]
        done = socket.until_done([message_id])[message_id]
    finally:
        socket.close()

    record = next(r for r in simulator.records if r.text_sent == socket.text(message_id))
    hold = Hold.objects.get(reference=f"message:{message_id}")
    assert hold.estimated_input_tokens >= record.input_tokens > len(rows) / 3  # denser than 3 characters a token
    message = Message.objects.get(pk=message_id)
    owed = cost_of(
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        rate=rate_for(message.price, BillingSettings.load()),
    ).credits
    assert done["credits"] == message.credits == owed  # charged in full, not capped at a short hold
