"""The chat socket under the deployed server (panels/serve.py): permessage-deflate when offered, plain frames when not.

Both kinds of client stream a whole reply whose deltas assemble into the saved text, and the server's read
limit holds for the inflated message, not the few kilobytes that crossed the wire.
"""

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import PerMessageDeflate

from chat.models import Message
from chat.protocol import SERVER_READ_LIMIT_BYTES
from panels.serve import INFLATE_WINDOW_BITS
from standins.providers import SimulatorThread
from standins.servers import DaphneServer, provider_environment
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def chat_server(django_db_setup, django_db_blocker):
    with SimulatorThread(reply_tokens=120, tokens_per_second=400) as simulator, django_db_blocker.unblock():
        server = DaphneServer(**provider_environment(simulator))
        yield server
        server.stop()


def stream_one_reply(socket: Socket) -> tuple[dict, Message]:
    """Send a one-model turn and read it to its end; return its `message.done` frame and its saved reply."""
    started = socket.send_turn(["gpt-4o-mini"], "Describe a cup of tea.")
    message_id = started["messages"][0]["message_id"]
    done = socket.until_done([message_id])[message_id]
    deltas = socket.deltas(message_id)
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    return done, Message.objects.get(pk=message_id)


def test_a_client_offering_deflate_gets_compressed_frames_and_whole_replies(chat_server, user):
    fund(user, 2_000_000)
    socket = Socket(chat_server, user)
    try:
        [extension] = socket.ws.protocol.extensions
        assert isinstance(extension, PerMessageDeflate)
        assert extension.remote_no_context_takeover is False  # the envelope of every delta costs a few bytes
        assert extension.local_max_window_bits == INFLATE_WINDOW_BITS
        for _ in range(2):  # the second reply is read through the context the first one left
            done, message = stream_one_reply(socket)
            assert done["status"] == message.status == "complete"
            assert socket.text(message.pk) == message.text
            assert message.text.startswith("[Simulated reply from ")
    finally:
        socket.close()


def test_a_client_that_does_not_offer_deflate_gets_plain_frames_and_whole_replies(chat_server, user):
    fund(user, 2_000_000)
    socket = Socket(chat_server, user, compression=None)
    try:
        assert socket.ws.protocol.extensions == []
        done, message = stream_one_reply(socket)
        assert done["status"] == message.status == "complete"
        assert socket.text(message.pk) == message.text
    finally:
        socket.close()


def test_a_compressed_message_that_inflates_past_the_read_limit_closes_the_socket(chat_server, user):
    socket = Socket(chat_server, user)
    try:
        assert isinstance(socket.ws.protocol.extensions[0], PerMessageDeflate)
        socket.send(type="ping")
        assert socket.until(lambda f: f["type"] == "pong", timeout=5)
        with pytest.raises(ConnectionClosed):  # about 4 KiB on the wire, 4 MiB and a byte inflated
            socket.ws.send("x" * (SERVER_READ_LIMIT_BYTES + 1))
            socket.receive(timeout=10)
        assert socket.ws.close_code is not None
    finally:
        socket.close()
