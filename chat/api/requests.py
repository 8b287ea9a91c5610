"""Read a Chat Completions request body into a `CompletionRequest`, or say in an `InvalidRequest` what is wrong.

Only what Panels can honour is accepted: text messages, one choice, and the sampling and format options the
providers share. Fields OpenAI's SDK may send that change nothing here (`user`, `metadata`, `store`...) are
ignored; fields that would change the answer and cannot be honoured (tools, images, `n` > 1) are refused.
"""

import json
from dataclasses import dataclass, field

from chat.providers.base import CallOptions, ChatMessage
from errors import InvalidRequest

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
REFUSED_FIELDS = {
    "tools": "Tools (function calling) are not supported yet.",
    "functions": "Functions (function calling) are not supported yet.",
    "logprobs": "Log probabilities are not supported.",
    "audio": "Audio output is not supported.",
}
RESPONSE_FORMATS = {"text", "json_object", "json_schema"}
MAX_STOP_SEQUENCES = 4


@dataclass(frozen=True)
class CompletionRequest:
    """What a program asked for: a model slug (or `auto`), the messages, streaming, an output cap, options."""

    model: str
    messages: tuple[ChatMessage, ...]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None  # None: the site's reply budget
    options: CallOptions = field(default_factory=CallOptions)

    @property
    def prompt(self) -> str:
        """Return the last user message: what Auto reads to choose a model."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


def parse_completion_request(body: bytes) -> CompletionRequest:
    """Return the request in `body` (JSON); raise InvalidRequest naming the first field that is wrong."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object with `model` and `messages`.")
    for name, why in REFUSED_FIELDS.items():
        if data.get(name):
            raise InvalidRequest(f"`{name}`: {why}")
    if data.get("n") not in (None, 1):
        raise InvalidRequest("`n`: only one choice per request is supported.")
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("`model` is required: a model id from GET /v1/models, or `auto`.")
    stream = _boolean(data, "stream")
    stream_options = data.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise InvalidRequest('`stream_options` must be an object, such as {"include_usage": true}.')
    max_tokens = data.get("max_completion_tokens", data.get("max_tokens"))
    if max_tokens is not None and (not _is_int(max_tokens) or max_tokens < 1):
        raise InvalidRequest("`max_tokens` must be a whole number of at least 1.")
    return CompletionRequest(
        model=model.strip(),
        messages=_messages(data.get("messages")),
        stream=stream,
        include_usage=stream and _boolean(stream_options, "include_usage"),
        max_tokens=max_tokens,
        options=CallOptions(
            temperature=_number(data, "temperature", 0, 2),
            top_p=_number(data, "top_p", 0, 1),
            stop=_stop(data.get("stop")),
            seed=_seed(data.get("seed")),
            presence_penalty=_number(data, "presence_penalty", -2, 2),
            frequency_penalty=_number(data, "frequency_penalty", -2, 2),
            response_format=_response_format(data.get("response_format")),
        ),
    )


def _messages(value) -> tuple[ChatMessage, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest('`messages` must be a non-empty list of {"role", "content"} objects.')
    messages = []
    for index, message in enumerate(value):
        if not isinstance(message, dict):
            raise InvalidRequest(f"`messages[{index}]` must be an object with `role` and `content`.")
        role = ROLES.get(message.get("role"))
        if role is None:
            raise InvalidRequest(
                f"`messages[{index}].role` must be system, developer, user or assistant "
                f"(tool messages are not supported yet), not {message.get('role')!r}."
            )
        if message.get("tool_calls"):
            raise InvalidRequest(f"`messages[{index}]`: tool calls are not supported yet.")
        messages.append(ChatMessage(role, _content(message.get("content"), index)))
    if not any(message.role == "user" for message in messages):
        raise InvalidRequest("`messages` needs at least one user message.")
    return tuple(messages)


def _content(value, index: int) -> str:
    """Return a message's text: a string, or the text parts of a list of parts (no images yet)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        texts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise InvalidRequest(f"`messages[{index}].content`: only text parts are supported yet, not {kind!r}.")
            texts.append(part["text"])
        return "".join(texts)
    raise InvalidRequest(f"`messages[{index}].content` must be a string or a list of text parts.")


def _boolean(data: dict, field: str) -> bool:
    value = data.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"`{field}` must be true or false.")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(data: dict, field: str, low: float, high: float) -> float | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"`{field}` must be a number from {low} to {high}.")
    return value


def _stop(value) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP_SEQUENCES
        or not all(isinstance(stop, str) and stop for stop in stops)
    ):
        raise InvalidRequest(f"`stop` must be a string or a list of up to {MAX_STOP_SEQUENCES} non-empty strings.")
    return tuple(stops)


def _seed(value) -> int | None:
    if value is not None and not _is_int(value):
        raise InvalidRequest("`seed` must be a whole number.")
    return value


def _response_format(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in RESPONSE_FORMATS:
        raise InvalidRequest("`response_format.type` must be text, json_object or json_schema.")
    if value["type"] == "text":
        return None
    if value["type"] == "json_schema" and not isinstance(value.get("json_schema"), dict):
        raise InvalidRequest("`response_format.json_schema` must be an object with the schema.")
    return value
