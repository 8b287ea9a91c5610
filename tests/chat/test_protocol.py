"""The websocket frames: the parser's answers to bad input, and the classes against docs/websocket-protocol.md."""

import json
import re
from decimal import Decimal
from typing import get_args

import pytest

from chat.protocol import (
    CLIENT_FRAMES,
    ERROR_CLASSES,
    MAX_FRAME_BYTES,
    SERVER_FRAMES,
    Error,
    ErrorCode,
    Ping,
    ProtocolError,
    Send,
    parse_client_frame,
)
from errors import InvalidRequest
from tests import ROOT

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


def documented_error_codes() -> list[str]:
    """Return the codes in the table of the protocol doc's Errors section, in order."""
    section = re.search(r"^## Errors\n(.*?)^## ", DOC, flags=re.M | re.S).group(1)
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)


def test_the_protocol_doc_lists_exactly_the_error_codes():
    documented = documented_error_codes()
    assert len(documented) == len(set(documented)), "a code is documented twice"
    assert set(documented) == set(get_args(ErrorCode))


def test_the_error_codes_are_the_codes_of_the_error_classes():
    assert sorted(get_args(ErrorCode)) == sorted(error_class.code for error_class in ERROR_CLASSES)


def test_an_error_frame_refuses_a_code_no_error_class_has():
    with pytest.raises(ValueError, match="code"):
        Error(code="something_else", detail="A sentence.")


def test_a_valid_frame_is_parsed_to_its_class():
    assert parse_client_frame('{"type": "ping"}') == Ping()


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Empty frame"),
        ("{oops", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"kind": "ping"}', "A frame needs a text 'type'"),
        ('{"type": ["ping"]}', "A frame needs a text 'type'"),
        ('{"type": "ping", "extra": 1}', "extra: Extra inputs are not permitted"),
        (b"\xff\xfe", "not valid JSON"),
        (json.dumps({"type": "ping", "pad": "x" * MAX_FRAME_BYTES}), "Frame too large"),
    ],
)
def test_bad_frames_are_refused_with_a_reason(raw, says):
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert refused.value.frame.code == InvalidRequest.code == "invalid_request"
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
        ({"content": ""}, "content must not be blank"),
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


def test_a_send_follows_a_branch_or_edits_a_turn_but_not_both():
    send = {"type": "send", "request_id": "r-9", "conversation_id": 7, "models": ["claude-3-5-haiku"], "content": "hi"}
    assert parse_client_frame(json.dumps({**send, "after_turn_id": 30})).after_turn_id == 30
    assert parse_client_frame(json.dumps({**send, "edit_of_turn_id": 31})).edit_of_turn_id == 31
    with pytest.raises(ProtocolError, match="not both"):
        parse_client_frame(json.dumps({**send, "after_turn_id": 30, "edit_of_turn_id": 31}))
    with pytest.raises(ProtocolError, match="no turns to follow"):
        parse_client_frame(json.dumps({**send, "conversation_id": None, "edit_of_turn_id": 31}))


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ([{"temperature": 2.5}], "less than or equal to 2"),
        ([{"temperature": 0.255}], "2 decimal places"),
        ([{"max_output_tokens": 0}], "greater than or equal to 1"),
        ([{}, {}], "one entry per model"),
        ([{"top_k": 3}], "Extra inputs are not permitted"),
    ],
)
def test_panel_settings_out_of_range_are_refused_saying_why(settings, says):
    send = {"type": "send", "request_id": "r-9", "models": ["claude-3-5-haiku"], "content": "hi"}
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(json.dumps({**send, "panel_settings": settings}))
    assert says in refused.value.frame.detail


def test_panel_settings_keep_the_temperature_exact():
    send = {"type": "send", "request_id": "r-9", "models": ["a", "b"], "content": "hi"}
    frame = parse_client_frame(json.dumps({**send, "panel_settings": [{"temperature": 0.7}, {"max_output_tokens": 9}]}))
    assert [(s.temperature, s.max_output_tokens) for s in frame.panel_settings] == [(Decimal("0.7"), None), (None, 9)]


def test_a_stop_names_exactly_one_target():
    with pytest.raises(ProtocolError, match="either message_id or turn_id"):
        parse_client_frame('{"type": "stop", "message_id": 1, "turn_id": 2}')
    with pytest.raises(ProtocolError, match="either message_id or turn_id"):
        parse_client_frame('{"type": "stop"}')


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"type": "stop", "turn_id": 9223372036854775808}', "less than or equal to 9223372036854775807"),
        ('{"type": "stop", "message_id": 0}', "greater than or equal to 1"),
        ('{"type": "subscribe", "conversation_id": -1}', "greater than or equal to 1"),
        ('{"type": "subscribe", "conversation_id": 1, "after_seq": 1e400}', "after_seq"),
        ('{"type": "ping", "n": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"type": "send", "request_id": "r", "models": ["gpt-4o-mini\\u0000"], "content": "hi"}', "NUL character"),
        ('{"type": "send", "request_id": "r\\u0000", "models": ["gpt-4o-mini"], "content": "hi"}', "NUL character"),
        ('{"type": "send", "request_id": "r", "models": ["gpt-4o-mini"], "content": "a\\u0000b"}', "NUL character"),
        ('{"type": "send", "request_id": "r", "models": ["gpt-4o-mini"], "content": "a\\ud800b"}', "content"),
        ('{"type": "send", "request_id": "r\\udfff", "models": ["gpt-4o-mini"], "content": "hi"}', "request_id"),
    ],
)
def test_hostile_frames_are_refused_with_a_reason(raw, says):
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(raw)
    assert says in refused.value.frame.detail
    refused.value.frame.model_dump_json()  # the answer itself can be sent


def test_an_unstorable_request_id_is_not_echoed_back():
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame('{"type": "teleport", "request_id": "a\\u0000b"}')
    assert refused.value.frame.request_id is None


def test_the_size_limit_counts_utf8_bytes_not_characters():
    prompt = "中" * 360_000  # 1.03 MiB of UTF-8: within the limit
    frame = json.dumps(
        {"type": "send", "request_id": "r", "models": ["gpt-4o-mini"], "content": prompt}, ensure_ascii=False
    )
    assert isinstance(parse_client_frame(frame), Send)
    too_large = "中" * (MAX_FRAME_BYTES // 3 + 10)  # fewer characters than the limit, more bytes
    assert len(too_large) < MAX_FRAME_BYTES
    with pytest.raises(ProtocolError, match="Frame too large"):
        parse_client_frame(json.dumps({"type": "ping", "pad": too_large}, ensure_ascii=False))
