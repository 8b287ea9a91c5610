"""A socket following a reply: when the reply's log goes silent, the database has the last word.

A reply's log can lose its end: Redis restarted without persistence while the process that streamed the
reply died, or the end never reached Redis. The reply is finished and saved all the same (by its process or
by a survivor), so a follower that hears nothing for a while looks the reply up, sends what its log lost as
one more delta, then the `message.done`, instead of waiting forever.
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from chat import consumers
from chat.consumers import ChatConsumer
from chat.models import Conversation, Message, Turn
from chat.reply_log import reply_log

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def streaming_reply(user, model) -> Message:
    conversation = Conversation.objects.create(user=user)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id="r1", content="Q")
    return Message.objects.create(turn=turn, panel=0, model=model, requested_model=model.slug)


@database_sync_to_async
def finish_in_the_database(message: Message, text: str) -> None:
    Message.objects.filter(pk=message.pk).update(
        status="complete", text=text, credits=42, output_tokens=9, finished_at=timezone.now()
    )


async def subscribed_socket(user, message: Message) -> WebsocketCommunicator:
    """Return a connected socket of `user` that subscribed to the conversation of `message`."""
    socket = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    socket.scope["user"] = user
    assert (await socket.connect())[0]
    await socket.send_json_to(
        {"type": "subscribe", "conversation_id": message.turn.conversation_id, "after_seq": 0, "message_id": None}
    )
    return socket


async def test_a_follower_whose_log_went_silent_gets_the_saved_end_from_the_database(user, priced_model, monkeypatch):
    monkeypatch.setattr(consumers, "FOLLOW_CHECK_SECONDS", 0.3)
    message = await streaming_reply(user, priced_model)
    key = str(message.stream_key)
    log = reply_log()
    log.append(key, 1, {"type": "message.delta", "message_id": message.pk, "seq": 1, "text": "Hello"})
    log.append(key, 2, {"type": "message.delta", "message_id": message.pk, "seq": 2, "text": ", wor"})
    socket = await subscribed_socket(user, message)
    try:
        frames = [await socket.receive_json_from(timeout=5) for _ in range(3)]
        assert [f["type"] for f in frames] == ["message.started", "message.delta", "message.delta"]

        await finish_in_the_database(message, "Hello, world.")  # its end never reaches the log
        healed, done = await socket.receive_json_from(timeout=5), await socket.receive_json_from(timeout=5)
        assert healed == {"type": "message.delta", "message_id": message.pk, "seq": 3, "text": "ld."}
        assert (done["type"], done["status"], done["credits"]) == ("message.done", "complete", 42)
        assert "".join(f["text"] for f in [*frames[1:], healed]) == "Hello, world."

        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}  # the socket lives on
    finally:
        await socket.disconnect()


async def test_a_follower_of_a_reply_still_streaming_keeps_waiting(user, priced_model, monkeypatch):
    monkeypatch.setattr(consumers, "FOLLOW_CHECK_SECONDS", 0.2)
    message = await streaming_reply(user, priced_model)
    socket = await subscribed_socket(user, message)
    try:
        assert (await socket.receive_json_from(timeout=5))["type"] == "message.started"
        assert await socket.receive_nothing(timeout=1)  # several silent checks: still streaming, nothing sent
        reply_log().append(
            str(message.stream_key), 1, {"type": "message.delta", "message_id": message.pk, "seq": 1, "text": "Hi"}
        )
        assert (await socket.receive_json_from(timeout=5))["text"] == "Hi"
    finally:
        await socket.disconnect()
