"""A Chat Completions body is read into what Panels can honour, or refused with a sentence naming the field."""

import json

import pytest

from chat.api.requests import parse_completion_request
from chat.providers.base import ChatMessage
from errors import InvalidRequest


def body(**fields) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], **fields}).encode()


def test_a_full_body_is_read_with_its_options():
    request = parse_completion_request(
        body(
            messages=[
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Part one, "}, {"type": "text", "text": "two."}]},
                {"role": "assistant", "content": "Yes."},
                {"role": "user", "content": "And now?", "name": "ada"},
            ],
            stream=True,
            stream_options={"include_usage": True},
            max_completion_tokens=300,
            temperature=0,
            stop="END",
            seed=3,
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            user="someone",
        )
    )
    assert request.messages == (
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Part one, two."),
        ChatMessage("assistant", "Yes."),
        ChatMessage("user", "And now?"),
    )
    assert request.prompt == "And now?"
    assert (request.stream, request.include_usage, request.max_tokens) == (True, True, 300)
    assert (request.options.temperature, request.options.stop, request.options.seed) == (0, ("END",), 3)
    assert request.options.response_format["type"] == "json_schema"


def test_usage_is_only_streamed_when_streaming_and_text_format_is_no_format():
    request = parse_completion_request(body(stream_options={"include_usage": True}, response_format={"type": "text"}))
    assert (request.stream, request.include_usage, request.options.response_format) == (False, False, None)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"model": ""}, "`model`"),
        ({"messages": []}, "`messages`"),
        ({"messages": [{"role": "system", "content": "only a system prompt"}]}, "user message"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "image_url"),
        ({"messages": [{"role": "user", "content": 5}]}, "content"),
        ({"temperature": 2.5}, "`temperature`"),
        ({"temperature": True}, "`temperature`"),
        ({"top_p": -1}, "`top_p`"),
        ({"max_tokens": 0}, "`max_tokens`"),
        ({"max_tokens": "100"}, "`max_tokens`"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "`stop`"),
        ({"stream": "yes"}, "`stream`"),
        ({"n": 2}, "`n`"),
        ({"tools": [{"type": "function"}]}, "`tools`"),
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"response_format": {"type": "json_schema"}}, "json_schema"),
        ({"seed": 1.5}, "`seed`"),
    ],
)
def test_a_field_panels_cannot_honour_is_refused_by_name(fields, named):
    with pytest.raises(InvalidRequest) as refused:
        parse_completion_request(body(**fields))
    assert named in refused.value.detail


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", "\udcff".encode("utf-8", "surrogatepass")])
def test_a_body_that_is_not_a_json_object_is_refused(raw):
    with pytest.raises(InvalidRequest, match="JSON"):
        parse_completion_request(raw)
