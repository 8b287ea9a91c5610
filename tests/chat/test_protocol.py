"""The websocket frames: the parser's answers to bad input, and the classes against docs/websocket-protocol.md."""

import json
import re

import pytest

from chat.protocol import CLIENT_FRAMES, MAX_FRAME_BYTES, SERVER_FRAMES, Ping, ProtocolError, parse_client_frame
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "websocket-protocol.md").read_text()


def documented_examples() -> dict[str, dict]:
    """Return the JSON example under each level-3 heading (a frame type) of the protocol doc, by type."""
    examples = {}
    for heading, example in re.findall(r"^### `([a-z.]+)`\n.*?```json\n(.*?)\n```", DOC, flags=re.M | re.S):
        examples[heading] = json.loads(example)
    return examples


@pytest.mark.parametrize("frame_class", CLIENT_FRAMES + SERVER_FRAMES, ids=lambda c: c.__name__)
def test_every_frame_class_is_documented_with_exactly_its_fields(frame_class):
    frame_type = frame_class.model_fields["type"].default
    example = documented_examples().get(frame_type)
    assert example is not None, f"docs/websocket-protocol.md has no example for {frame_type!r}"
    assert example["type"] == frame_type
    assert set(example) == set(frame_class.model_fields)
    frame_class.model_validate(example)  # the documented example is itself a valid frame


def test_every_documented_frame_exists_in_code():
    in_code = {c.model_fields["type"].default for c in CLIENT_FRAMES + SERVER_FRAMES}
    assert set(documented_examples()) == in_code


def test_a_valid_frame_is_parsed_to_its_class():
    assert parse_client_frame('{"type": "ping"}') == Ping()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Empty frame"),
        ("{oops", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"kind": "ping"}', "Unknown frame type None"),
        ('{"type": ["ping"]}', "Unknown frame type"),
        ('{"type": "ping", "extra": 1}', "extra: Extra inputs are not permitted"),
        (b"\xff\xfe", "not valid JSON"),
        ("x" * (MAX_FRAME_BYTES + 1), "Frame too large"),
    ],
)
def test_bad_frames_are_refused_with_a_reason(raw, says):
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.frame.code == "invalid_request"
    assert says in refused.value.frame.detail


def test_the_request_id_of_a_refused_frame_is_echoed():
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame('{"type": "teleport", "request_id": "abc"}')
    assert refused.value.frame.request_id == "abc"


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ({"models": []}, "models: List should have at least 1 item"),
        ({"models": ["a", "b", "c", "d", "e"]}, "models: List should have at most 4 items"),
        ({"content": ""}, "content: String should have at least 1 character"),
        ({"content": "   "}, "content must not be blank"),
        ({"content": "x" * 400_001}, "content: String should have at most 400000 characters"),
        ({"request_id": ""}, "request_id: String should have at least 1 character"),
    ],
)
def test_a_send_outside_the_limits_is_refused_with_a_reason(frame, says):
    send = {"type": "send", "request_id": "r-9", "conversation_id": None, "models": ["gpt-4o-mini"], "content": "hi"}
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(json.dumps({**send, **frame}))
    assert says in refused.value.frame.detail


def test_a_stop_names_exactly_one_target():
    with pytest.raises(ProtocolError, match="either message_id or turn_id"):
        parse_client_frame('{"type": "stop", "message_id": 1, "turn_id": 2}')
    with pytest.raises(ProtocolError, match="either message_id or turn_id"):
        parse_client_frame('{"type": "stop"}')
