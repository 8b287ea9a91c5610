"""Property: whatever a client sends on the chat socket, it gets frames of the protocol back and the socket lives.

Hypothesis throws arbitrary JSON (unicode with NUL and unpaired surrogates, numbers past 64 bits, deep
nesting, wrong types, unknown fields) shaped like each client frame, and bytes that are not JSON at all, at a
real Daphne on the test database. After each frame a `ping` must be answered with a `pong`; every frame that
came back must be a valid server frame (an `error` with a sentence, for everything here); and at the end
nothing was written or charged.
"""

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import Hold, LedgerEntry, Wallet
from chat.models import Conversation, Turn
from chat.protocol import SERVER_FRAMES
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

SERVER_FRAME_BY_TYPE = {frame.model_fields["type"].default: frame for frame in SERVER_FRAMES}
FIELDS = ["request_id", "conversation_id", "models", "content", "message_id", "turn_id", "after_seq"]
FRAMES_PER_SOCKET = 8  # well inside a socket's burst allowance (20), so no answer is `too_many_frames`

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\ud83d", "gpt-4o-mini\x00", " ", "\u202e", "\ufeff"]),
)
hostile_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    st.none() | st.booleans() | hostile_numbers | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["send", "stop", "subscribe", "ping"]) | hostile_text},
    optional={name: json_values for name in FIELDS} | {"extra": json_values},
)
raw_frames = st.one_of(
    frames.map(lambda frame: json.dumps(frame)),  # ensure_ascii: unpaired surrogates travel as \\ud800
    json_values.map(json.dumps),
    st.text(max_size=60).filter(lambda text: text.strip() != ""),
    st.integers(min_value=1_000, max_value=50_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1_000, max_value=50_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
)


class Session:
    """A user's socket that is replaced before its frame allowance could run out."""

    def __init__(self, server, user):
        self.server, self.user, self.socket, self.sent = server, user, None, 0

    def exchange(self, raw: str) -> list[dict]:
        """Send `raw`, then a ping; return every frame that came back before the pong."""
        if self.socket is None or self.sent >= FRAMES_PER_SOCKET:
            self.close()
            self.socket, self.sent = Socket(self.server, self.user), 0
            time.sleep(0.05)
        self.sent += 2
        self.socket.ws.send(raw)
        self.socket.send(type="ping")
        answers = []
        while (frame := self.socket.receive(timeout=10))["type"] != "pong":
            answers.append(frame)
        return answers

    def close(self):
        if self.socket is not None:
            self.socket.close()


@pytest.fixture
def session(daphne_server, user):
    session = Session(daphne_server, user)
    yield session
    session.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=raw_frames)
def test_any_frame_is_answered_with_protocol_frames_and_the_socket_stays_open(session, raw):
    for frame in session.exchange(raw):
        SERVER_FRAME_BY_TYPE[frame["type"]].model_validate(frame)  # a frame of the protocol, as documented
        if frame["type"] == "error":
            assert frame["code"] != "server_error", (raw[:200], frame)
            assert len(frame["detail"]) > 10


def test_hostile_frames_write_nothing_and_charge_nothing(daphne_server, user):
    fund(user, 1_000_000)
    before = LedgerEntry.objects.count()
    session = Session(daphne_server, user)
    try:
        hostile = [
            {"type": "send", "request_id": "r\x00", "models": ["gpt-4o-mini"], "content": "hi"},
            {"type": "send", "request_id": "r", "models": ["gpt-4o-mini\x00"], "content": "hi"},
            {"type": "send", "request_id": "r", "models": ["gpt-4o-mini"], "content": "a\ud800"},
            {"type": "send", "request_id": "r", "models": ["gpt-4o-mini"], "content": "hi", "conversation_id": 2**63},
            {"type": "stop", "turn_id": 9223372036854775808},
            {"type": "subscribe", "conversation_id": 2**64, "after_seq": -1},
        ]
        for frame in hostile:
            answers = session.exchange(json.dumps(frame))
            assert [a["type"] for a in answers] == ["error"], (frame, answers)
            assert answers[0]["code"] == "invalid_request"
    finally:
        session.close()
    assert not Turn.objects.filter(user=user).exists() and not Conversation.objects.filter(user=user).exists()
    assert not Hold.objects.exists() and LedgerEntry.objects.count() == before
    assert Wallet.objects.get(user=user).held_credits == 0
