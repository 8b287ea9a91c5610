"""Every error a person can be shown, raised while the socket handles a frame, comes back as an `error` frame."""

from types import SimpleNamespace

import pytest
from channels.testing import WebsocketCommunicator

from billing.exceptions import InsufficientCredits
from chat.consumers import ChatConsumer
from chat.exceptions import Busy, ChatError, TooManyRequests
from chat.protocol import ERROR_CLASSES, Error
from errors import PanelsError

A_PERSON = SimpleNamespace(pk=2**40, is_authenticated=True)  # the frames below never reach the database


def example(error_class: type[PanelsError]) -> PanelsError:
    """Return an error of `error_class`, with what its constructor asks for."""
    if error_class is InsufficientCredits:
        return InsufficientCredits(needed=5_000, available=1_200)
    if error_class is Busy:
        return Busy("The server is busy; try again in a few seconds.", retry_after_seconds=5)
    if error_class is TooManyRequests:  # the API's; the socket never sends it, but the code stays its own
        return TooManyRequests("Too many requests this minute.", retry_after_seconds=5)
    return error_class("A sentence a person can act on.")


async def answer_to_a_stop_that_raises(monkeypatch, error: Exception) -> dict:
    """Return the frame a socket sends back when handling a `stop` frame raises `error`."""

    async def stop(self, frame):
        raise error

    monkeypatch.setattr(ChatConsumer, "stop", stop)
    socket = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    socket.scope["user"] = A_PERSON
    assert (await socket.connect())[0]
    try:
        await socket.send_json_to({"type": "stop", "message_id": 7})
        return await socket.receive_json_from(timeout=5)
    finally:
        await socket.disconnect()


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=lambda c: c.__name__)
async def test_every_error_class_is_sent_as_an_error_frame_with_its_code(monkeypatch, error_class):
    error = example(error_class)

    frame = await answer_to_a_stop_that_raises(monkeypatch, error)

    assert Error.model_validate(frame) == Error(
        code=error_class.code, detail=error.detail, retry_after=5 if error_class is Busy else None
    )


async def test_a_bare_chat_error_is_sent_as_a_chat_error(monkeypatch):
    frame = await answer_to_a_stop_that_raises(monkeypatch, ChatError("Something in the chat went wrong."))

    assert (frame["type"], frame["code"], frame["detail"]) == (
        "error",
        "chat_error",
        "Something in the chat went wrong.",
    )


async def test_an_unexpected_failure_is_sent_as_a_server_error(monkeypatch):
    frame = await answer_to_a_stop_that_raises(monkeypatch, RuntimeError("a bug"))

    assert (frame["type"], frame["code"]) == ("error", "server_error")
    assert "a bug" not in frame["detail"]
