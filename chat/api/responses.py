"""What the API sends back, in OpenAI's shapes: completions, stream chunks, the model list, and errors.

A program written for OpenAI reads these unchanged. Panels adds a few fields of its own that such a program
ignores: `panels` on a completion (the credits charged and, for Auto, the task and why), and `pricing` on a model.
"""

import json
import time

from django.http import JsonResponse

from billing.exceptions import (
    InsufficientCredits,
    InvalidApiKey,
    KeySpendLimitReached,
    PriceMissing,
    WalletRestricted,
)
from chat.exceptions import (
    Busy,
    ContextTooLong,
    Interrupted,
    ModelNotAllowed,
    ModelUnavailable,
    NotFound,
    TooManyRequests,
    UnknownModel,
)
from chat.providers import errors as provider
from errors import InvalidRequest, PanelsError

# Each error's HTTP status and OpenAI error type; anything else is a 500 `server_error`.
STATUS_AND_TYPE: dict[type[PanelsError], tuple[int, str]] = {
    InvalidRequest: (400, "invalid_request_error"),
    ContextTooLong: (400, "invalid_request_error"),
    InvalidApiKey: (401, "authentication_error"),
    InsufficientCredits: (402, "insufficient_quota"),
    KeySpendLimitReached: (402, "insufficient_quota"),
    WalletRestricted: (403, "permission_error"),
    ModelNotAllowed: (403, "permission_error"),
    UnknownModel: (404, "invalid_request_error"),
    NotFound: (404, "invalid_request_error"),
    TooManyRequests: (429, "rate_limit_error"),
    provider.RateLimited: (429, "rate_limit_error"),
    provider.BadKey: (502, "api_error"),
    provider.ProviderFailed: (502, "api_error"),
    provider.ConnectionDropped: (502, "api_error"),
    Interrupted: (502, "api_error"),
    ModelUnavailable: (503, "api_error"),
    PriceMissing: (503, "api_error"),
    Busy: (503, "api_error"),
    provider.Overloaded: (503, "api_error"),
    provider.ProviderTimeout: (504, "api_error"),
}
FINISH_REASONS = {  # Anthropic's stop reasons as OpenAI's finish reasons
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "refusal": "content_filter",
}


def status_and_type(error: PanelsError) -> tuple[int, str]:
    """Return the HTTP status and OpenAI error type of `error` (its class or nearest ancestor that has one)."""
    for cls in type(error).__mro__:
        if cls in STATUS_AND_TYPE:
            return STATUS_AND_TYPE[cls]
    return 500, "server_error"


def error_body(error: PanelsError, **extra) -> dict:
    """Return OpenAI's error object for `error`: its sentence, type and Panels' code."""
    _, kind = status_and_type(error)
    return {"error": {"message": error.detail, "type": kind, "param": None, "code": error.code, **extra}}


def error_response(error: PanelsError, **extra) -> JsonResponse:
    """Return `error` as OpenAI does, with its status and, when there is a wait to respect, `Retry-After`."""
    status, _ = status_and_type(error)
    response = JsonResponse(error_body(error, **extra), status=status)
    if status < 500:
        # A program's own mistake or limit, answered as designed: not a line in the server's log per request.
        response._has_been_logged = True
    wait = getattr(error, "retry_after_seconds", None)
    if wait is not None:
        response["Retry-After"] = str(wait)
    return response


def finish_reason_of(reason: str | None) -> str:
    """Return a provider's finish or stop reason as OpenAI names it."""
    return FINISH_REASONS.get(reason or "", reason or "stop")


def usage_json(input_tokens: int, output_tokens: int, cached_input_tokens: int) -> dict:
    """Return the usage of a reply as OpenAI reports it (cached input tokens are among the prompt tokens)."""
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_input_tokens},
    }


def panels_json(*, credits: int, estimated: bool, route_task: str, route_reason: str) -> dict:
    """Return Panels' own fields of a reply: what it cost and, for Auto, why its model was chosen."""
    route = {"task": route_task, "reason": route_reason} if route_task else None
    return {"credits": credits, "usage_estimated": estimated, "route": route}


def completion_json(
    *, completion_id: str, model: str, text: str, finish_reason: str, usage: dict, panels: dict
) -> dict:
    """Return a whole (non-streamed) completion."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage,
        "system_fingerprint": None,
        "panels": panels,
    }


class ChunkWriter:
    """Write one completion's stream chunks as server-sent events, each a `data:` line of JSON."""

    def __init__(self, *, completion_id: str, model: str, include_usage: bool):
        self.head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self.include_usage = include_usage
        self.role_sent = False

    def text(self, text: str) -> bytes:
        """Return a chunk with more of the reply's text (the first one also says the role)."""
        delta = {"content": text} if self.role_sent else {"role": "assistant", "content": text}
        self.role_sent = True
        return self._event(choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def finish(self, reason: str) -> bytes:
        """Return the chunk that ends the choice, with why it ended."""
        return self._event(choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}])

    def usage(self, usage: dict, panels: dict) -> bytes:
        """Return the usage chunk (`stream_options.include_usage`): no choices, the usage, and Panels' fields."""
        return self._event(choices=[], usage=usage, panels=panels)

    def error(self, error: PanelsError) -> bytes:
        """Return an error event: the SDKs raise it as an error of the stream."""
        return _event(error_body(error))

    @staticmethod
    def done() -> bytes:
        return b"data: [DONE]\n\n"

    def _event(self, **fields) -> bytes:
        body = {**self.head, **fields}
        if self.include_usage and "usage" not in body:
            body["usage"] = None
        return _event(body)


def _event(body: dict) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"
