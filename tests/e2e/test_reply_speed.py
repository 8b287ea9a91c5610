"""A reply's speed is measured from its first token to its last, whether it completed or was stopped."""

import time

import pytest

from chat.models import Message
from chat.tokens import estimate_tokens
from standins.providers import SimulatorThread, count_tokens
from standins.servers import DaphneServer, provider_environment
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)
TOKENS_PER_SECOND = 100


@pytest.fixture(scope="module")
def chat_server(django_db_setup, django_db_blocker):
    with SimulatorThread(reply_tokens=60, tokens_per_second=TOKENS_PER_SECOND) as simulator:
        with django_db_blocker.unblock():
            server = DaphneServer(**provider_environment(simulator))
        yield server
        server.stop()


@pytest.fixture
def socket(chat_server, user):
    fund(user, 20_000_000)
    socket = Socket(chat_server, user)
    yield socket
    socket.close()


def run_turn(socket, content, *, stop_after_seconds=None):
    started = socket.send_turn(["gpt-4o-mini"], content)
    message_id = started["messages"][0]["message_id"]
    if stop_after_seconds is not None:
        socket.until(lambda f: f["type"] == "message.delta" and f["message_id"] == message_id)
        time.sleep(stop_after_seconds)
        socket.send(type="stop", message_id=message_id, turn_id=None)
    return socket.until_done([message_id])[message_id], socket.text(message_id)


def test_a_stopped_reply_is_timed_to_its_last_token_not_to_the_stop(socket):
    # The simulator sends 5 deltas, then holds the connection open: the stop comes a second after the last token.
    done, text = run_turn(socket, "Tell me more [[sim:stall_after=5]]", stop_after_seconds=1.0)

    assert done["status"] == "stopped" and done["usage_estimated"] is True
    assert done["output_tokens"] == estimate_tokens(text)
    assert done["streaming_ms"] is not None
    assert done["streaming_ms"] < done["duration_ms"] - done["ttft_ms"] - 900  # the stall is not streaming time
    assert Message.objects.get(pk=done["message_id"]).streaming_ms == done["streaming_ms"]


def test_stopped_and_complete_replies_stream_at_the_same_measured_rate(socket):
    complete, complete_text = run_turn(socket, "A short answer")
    stopped, stopped_text = run_turn(socket, "A long answer [[sim:tokens=4000]]", stop_after_seconds=0.5)

    assert (complete["status"], stopped["status"]) == ("complete", "stopped")
    assert complete["output_tokens"] == count_tokens(complete_text)  # reported by the provider
    # Over first-to-last-token time, the tokens the simulator actually sent give the same rate either way;
    # the stopped reply's shown count is Panels' estimate, which leans high (and is marked so).
    rates = [
        (count_tokens(text) - 1) / (done["streaming_ms"] / 1000)
        for done, text in [(complete, complete_text), (stopped, stopped_text)]
    ]
    assert rates[1] == pytest.approx(rates[0], rel=0.25)
    assert stopped["output_tokens"] >= count_tokens(stopped_text)
