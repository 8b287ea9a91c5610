"""Chat end to end: a real Daphne (and Redis when REDIS_URL is set), the real SDKs, the provider simulator.

Each test opens real websockets, sends frames as the browser does, and checks what a person and an
accountant would: the text, the usage, the credits, and the ledger.
"""

import json
import math
import uuid
from decimal import Decimal

import pytest

from billing.models import Hold, LedgerEntry, Wallet
from chat.models import Conversation, Message, Turn
from standins.providers import SimulatorThread
from standins.servers import DaphneServer, provider_environment
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def simulator():
    with SimulatorThread(reply_tokens=40, tokens_per_second=400) as sim:
        yield sim


@pytest.fixture(scope="module")
def chat_server(simulator, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = DaphneServer(**provider_environment(simulator))
    yield server
    server.stop()


@pytest.fixture
def open_socket(chat_server):
    sockets = []

    def opener(user, server=chat_server):
        socket = Socket(server, user)
        sockets.append(socket)
        return socket

    yield opener
    for socket in sockets:
        socket.close()


def record_for(simulator, text):
    """Return the simulator's record of the request whose reply was `text`."""
    matches = [r for r in simulator.records if r.text_sent == text]
    assert len(matches) == 1, (
        f"{len(matches)} simulator records sent {text!r}: {[r.text_sent for r in simulator.records]}"
    )
    return matches[0]


def test_a_two_model_turn_streams_both_replies_charged_exactly_as_reported(open_socket, user, simulator):
    fund(user, 2_000_000)
    socket = open_socket(user)
    started = socket.send_turn(["gpt-4o-mini", "claude-3-5-haiku"], "Compare tea and coffee in two lines.")
    assert started["type"] == "turn.started"
    ids = [m["message_id"] for m in started["messages"]]
    assert [m["model"] for m in started["messages"]] == ["gpt-4o-mini", "claude-3-5-haiku"]
    done = socket.until_done(ids)

    for message_id in ids:
        deltas = socket.deltas(message_id)
        assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))  # no gap, no duplicate
        text = socket.text(message_id)
        assert text.startswith("[Simulated reply from ")
        record = record_for(simulator, text)
        frame = done[message_id]
        assert frame["status"] == "complete" and frame["error"] is None
        assert (frame["input_tokens"], frame["output_tokens"]) == (record.input_tokens, record.output_tokens)
        assert frame["usage_estimated"] is False
        entry = LedgerEntry.objects.get(idempotency_key=f"usage:message:{message_id}")
        assert frame["credits"] == -entry.amount_credits > 0
        message = Message.objects.get(pk=message_id)
        assert (message.text, message.status, message.credits) == (text, "complete", frame["credits"])
        assert frame["ttft_ms"] is not None and frame["duration_ms"] >= frame["ttft_ms"]

    wallet = Wallet.objects.get(user=user)
    assert wallet.held_credits == 0
    assert wallet.balance_credits == 2_000_000 - sum(done[i]["credits"] for i in ids)
    wallet_frame = socket.until(lambda f: f["type"] == "wallet" and f["held_credits"] == 0)
    assert wallet_frame["balance_credits"] == wallet.balance_credits
    titled = [f for f in socket.frames if f["type"] == "conversation.updated"]  # the first turn titled it
    assert [(f["conversation_id"], f["title"]) for f in titled] == [
        (started["conversation_id"], "Compare tea and coffee in two lines")
    ]


def test_a_follow_up_continues_each_panel_s_own_thread(open_socket, user, simulator):
    fund(user, 2_000_000)
    socket = open_socket(user)
    first = socket.send_turn(["gpt-4o-mini", "claude-3-5-haiku"], "First question")
    socket.until_done([m["message_id"] for m in first["messages"]])
    mini_reply = socket.text(first["messages"][0]["message_id"])
    second = socket.send_turn(["gpt-4o-mini"], "Second question", conversation_id=first["conversation_id"])
    socket.until_done([m["message_id"] for m in second["messages"]])
    record = record_for(simulator, socket.text(second["messages"][0]["message_id"]))
    assert record.messages == [("user", "First question"), ("assistant", mini_reply), ("user", "Second question")]


def test_stopping_a_reply_charges_its_input_and_the_delivered_output(open_socket, user):
    fund(user, 2_000_000)
    socket = open_socket(user)
    started = socket.send_turn(["gpt-4o-mini"], "Tell me a long story [[sim:tokens=4000]]")
    message_id = started["messages"][0]["message_id"]
    socket.until(lambda f: f["type"] == "message.delta" and f["message_id"] == message_id)
    socket.send(type="stop", message_id=message_id, turn_id=None)
    frame = socket.until_done([message_id])[message_id]
    assert frame["status"] == "stopped"
    assert frame["usage_estimated"] is True
    assert 0 < frame["output_tokens"] < 4000
    message = Message.objects.get(pk=message_id)
    assert message.text == socket.text(message_id)  # what was delivered is what is saved
    entry = LedgerEntry.objects.get(idempotency_key=f"usage:message:{message_id}")
    assert -entry.amount_credits == frame["credits"] > 0
    assert entry.usage_estimated is True
    assert Wallet.objects.get(user=user).held_credits == 0


def test_a_reply_outlives_its_socket_and_a_new_socket_resumes_it_without_gap(open_socket, user):
    fund(user, 2_000_000)
    first = open_socket(user)
    started = first.send_turn(["gpt-4o-mini"], "Keep going [[sim:tokens=1500]]")
    message_id = started["messages"][0]["message_id"]
    for _ in range(3):
        first.until(lambda f: f["type"] == "message.delta")
    seen = first.deltas(message_id)
    first.close()  # the tab goes away mid-stream

    second = open_socket(user)
    after = seen[-1]["seq"]
    second.send(type="subscribe", conversation_id=started["conversation_id"], after_seq=after, message_id=message_id)
    done = second.until_done([message_id])[message_id]
    resumed = second.deltas(message_id)
    assert resumed[0]["seq"] == after + 1
    assert [d["seq"] for d in resumed] == list(range(after + 1, after + 1 + len(resumed)))
    full_text = "".join(d["text"] for d in seen) + second.text(message_id)
    message = Message.objects.get(pk=message_id)
    assert (message.status, message.text, done["status"]) == ("complete", full_text, "complete")


def test_subscribing_to_a_conversation_announces_its_streaming_replies(open_socket, user):
    fund(user, 2_000_000)
    sender = open_socket(user)
    started = sender.send_turn(["gpt-4o-mini", "claude-3-haiku"], "Two at once [[sim:tokens=1500]]")
    ids = [m["message_id"] for m in started["messages"]]
    watcher = open_socket(user)
    watcher.send(type="subscribe", conversation_id=started["conversation_id"], after_seq=0, message_id=None)
    announced = {watcher.until(lambda f: f["type"] == "message.started")["message_id"] for _ in ids}
    assert announced == set(ids)
    watcher.until_done(ids)
    sender.until_done(ids)
    for message_id in ids:
        assert watcher.text(message_id) == sender.text(message_id) == Message.objects.get(pk=message_id).text


def test_a_repeated_request_id_does_not_start_a_second_turn(open_socket, user):
    fund(user, 2_000_000)
    socket = open_socket(user)
    request_id = str(uuid.uuid4())
    first = socket.send_turn(["gpt-4o-mini"], "Once only", request_id=request_id)
    again = socket.send_turn(["gpt-4o-mini"], "Once only", request_id=request_id)
    assert again["turn_id"] == first["turn_id"]
    assert Turn.objects.filter(user=user).count() == 1
    socket.until_done([first["messages"][0]["message_id"]])
    assert LedgerEntry.objects.filter(kind="usage", wallet__user=user).count() == 1


def test_a_turn_the_wallet_cannot_cover_is_refused_and_writes_nothing(open_socket, user):
    fund(user, 100)
    socket = open_socket(user)
    refused = socket.send_turn(["gpt-4o-mini", "claude-3-5-haiku"], "Too expensive for me")
    assert refused["type"] == "error" and refused["code"] == "insufficient_credits"
    assert "Top up" in refused["detail"]
    assert not Turn.objects.exists() and not Conversation.objects.exists() and not Hold.objects.exists()
    assert Wallet.objects.get(user=user).balance_credits == 100
    assert socket.send_turn(["nonexistent-model"], "Hello")["code"] == "unknown_model"  # still usable


def test_another_person_s_conversation_and_replies_are_not_found(open_socket, user, django_user_model):
    fund(user, 2_000_000)
    owner = open_socket(user)
    started = owner.send_turn(["gpt-4o-mini"], "Private thoughts")
    owner.until_done([started["messages"][0]["message_id"]])
    intruder_user = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(intruder_user, 2_000_000)
    intruder = open_socket(intruder_user)
    conversation_id, message_id = started["conversation_id"], started["messages"][0]["message_id"]

    refused = intruder.send_turn(["gpt-4o-mini"], "Let me in", conversation_id=conversation_id)
    assert refused["code"] == "not_found"
    intruder.send(type="subscribe", conversation_id=conversation_id, after_seq=0, message_id=None)
    assert intruder.until(lambda f: f["type"] == "error")["code"] == "not_found"
    intruder.send(type="stop", message_id=message_id, turn_id=None)
    assert intruder.until(lambda f: f["type"] == "error")["code"] == "not_found"
    assert Turn.objects.filter(conversation_id=conversation_id).count() == 1


def test_a_failing_panel_ends_in_error_while_its_neighbour_completes(simulator, user, django_db_blocker):
    fund(user, 2_000_000)
    server = DaphneServer(**provider_environment(simulator, ANTHROPIC_API_KEY="sim-bad-key"))
    try:
        socket = Socket(server, user)
        started = socket.send_turn(["gpt-4o-mini", "claude-3-5-haiku"], "One of you will fail")
        healthy, failing = (m["message_id"] for m in started["messages"])
        done = socket.until_done([healthy, failing])
        socket.close()
    finally:
        server.stop()
    assert done[healthy]["status"] == "complete" and done[healthy]["credits"] > 0
    assert done[failing]["status"] == "error"
    assert done[failing]["error"]["code"] == "bad_key"
    assert "sim-bad-key" not in json.dumps(done[failing])  # the key is never shown
    assert done[failing]["credits"] == 0  # failed before any output: no charge
    assert not LedgerEntry.objects.filter(idempotency_key=f"usage:message:{failing}").exists()
    assert Wallet.objects.get(user=user).held_credits == 0


@pytest.mark.services
def test_two_daphne_processes_show_the_same_stream(open_socket, chat_server, simulator, user):
    fund(user, 2_000_000)
    other_server = DaphneServer(**provider_environment(simulator))
    try:
        sender = open_socket(user)
        started = sender.send_turn(["gpt-4o-mini"], "Seen from two processes [[sim:tokens=1500]]")
        message_id = started["messages"][0]["message_id"]
        watcher = open_socket(user, server=other_server)
        watcher.send(type="subscribe", conversation_id=started["conversation_id"], after_seq=0, message_id=None)
        watcher.until_done([message_id])
        sender.until_done([message_id])
        watcher.close()
    finally:
        other_server.stop()
    assert watcher.text(message_id) == sender.text(message_id) == Message.objects.get(pk=message_id).text
    assert [d["seq"] for d in watcher.deltas(message_id)] == [d["seq"] for d in sender.deltas(message_id)]


def test_auto_routes_a_code_review_to_the_better_reasoner_and_says_why(open_socket, user, simulator):
    fund(user, 2_000_000)
    socket = open_socket(user)
    prompt = (
        "Can you review this function and explain the bug?\n\n```python\ndef mean(xs):\n"
        "    return sum(xs) / len(xs) - 1\n```"
    )
    started = socket.send_turn(["auto", "gpt-4o-mini"], prompt)
    auto, fixed = started["messages"]
    assert (auto["requested_model"], auto["model"]) == ("auto", "claude-3-5-haiku")
    assert auto["route"]["task"] == "code_review" and auto["route"]["reason"]
    assert (fixed["requested_model"], fixed["route"]) == ("gpt-4o-mini", None)
    done = socket.until_done([auto["message_id"], fixed["message_id"]])
    assert socket.text(auto["message_id"]).startswith("[Simulated reply from claude-3-5-haiku")
    message = Message.objects.get(pk=auto["message_id"])
    assert (message.requested_model, message.route_task) == ("auto", "code_review")
    assert done[auto["message_id"]]["credits"] > 0
    # the same tokens on the other candidate, GPT-4o mini ($0.15 / $0.60 per 1M, 2,000,000 credits per USD)
    frame = done[auto["message_id"]]
    on_mini = math.ceil((frame["input_tokens"] * Decimal("0.15") + frame["output_tokens"] * Decimal("0.60")) * 2)
    assert frame["comparison"] == {"model": "gpt-4o-mini", "credits": on_mini}
    assert done[fixed["message_id"]]["comparison"] is None
