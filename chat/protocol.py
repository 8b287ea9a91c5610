"""Every websocket frame as a typed class, and the parser for frames that clients send.

The frames are the public contract documented in docs/websocket-protocol.md; a test checks each class
here against that document. Frames reject unknown fields, so a client's typo is an error, not a no-op.
"""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_FRAME_BYTES = 2 * 1024 * 1024  # room for a long pasted document
MAX_CONTENT_CHARS = 400_000
MAX_MODELS_PER_TURN = 4

ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "unknown_model",
    "model_unavailable",
    "insufficient_credits",
    "wallet_restricted",
    "context_too_long",
    "rate_limited",
    "busy",
    "server_error",
]
Status = Literal["complete", "stopped", "error"]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientFrame(Frame):
    """A frame the browser sends."""


class ServerFrame(Frame):
    """A frame the server sends."""


class Ping(ClientFrame):
    type: Literal["ping"] = "ping"


class Send(ClientFrame):
    type: Literal["send"] = "send"
    request_id: str = Field(min_length=1, max_length=64)
    conversation_id: int | None = None
    models: list[str] = Field(min_length=1, max_length=MAX_MODELS_PER_TURN)
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)

    @model_validator(mode="after")
    def content_is_not_blank(self):
        if not self.content.strip():
            raise ValueError("content must not be blank")
        return self


class Stop(ClientFrame):
    type: Literal["stop"] = "stop"
    message_id: int | None = None
    turn_id: int | None = None

    @model_validator(mode="after")
    def names_one_target(self):
        if (self.message_id is None) == (self.turn_id is None):
            raise ValueError("give either message_id or turn_id")
        return self


class Subscribe(ClientFrame):
    type: Literal["subscribe"] = "subscribe"
    conversation_id: int
    after_seq: int = Field(default=0, ge=0)
    message_id: int | None = None


class Pong(ServerFrame):
    type: Literal["pong"] = "pong"


class Route(Frame):
    task: str
    reason: str


class TurnMessage(Frame):
    message_id: int
    model: str
    panel: int
    requested_model: str
    route: Route | None = None
    dropped_turns: int = 0


class TurnStarted(ServerFrame):
    type: Literal["turn.started"] = "turn.started"
    request_id: str
    conversation_id: int
    turn_id: int
    messages: list[TurnMessage]
    held_credits: int


class MessageStarted(ServerFrame):
    type: Literal["message.started"] = "message.started"
    message_id: int
    turn_id: int
    model: str
    panel: int


class MessageDelta(ServerFrame):
    type: Literal["message.delta"] = "message.delta"
    message_id: int
    seq: int
    text: str


class ErrorInfo(Frame):
    code: str
    detail: str


class Comparison(Frame):
    """What the same reply would have cost on Auto's other candidate, at the same token counts."""

    model: str
    credits: int


class MessageDone(ServerFrame):
    type: Literal["message.done"] = "message.done"
    message_id: int
    status: Status
    input_tokens: int
    output_tokens: int
    usage_estimated: bool
    credits: int
    ttft_ms: int | None
    duration_ms: int | None
    error: ErrorInfo | None
    comparison: Comparison | None = None  # only for a reply Auto routed; optional, so older clients parse


class WalletUpdate(ServerFrame):
    type: Literal["wallet"] = "wallet"
    balance_credits: int
    held_credits: int


class ConversationUpdated(ServerFrame):
    type: Literal["conversation.updated"] = "conversation.updated"
    conversation_id: int
    title: str


class Error(ServerFrame):
    type: Literal["error"] = "error"
    request_id: str | None = None
    code: ErrorCode
    detail: str
    retry_after: int | None = None  # seconds to wait before trying again (with `busy`)


CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (Send, Stop, Subscribe, Ping)
SERVER_FRAMES: tuple[type[ServerFrame], ...] = (
    TurnStarted,
    MessageStarted,
    MessageDelta,
    MessageDone,
    WalletUpdate,
    ConversationUpdated,
    Pong,
    Error,
)

_CLIENT_FRAME_BY_TYPE = {frame.model_fields["type"].default: frame for frame in CLIENT_FRAMES}


class ProtocolError(Exception):
    """A client frame that cannot be accepted; carries the `error` frame to send back."""

    def __init__(self, detail: str, *, code: ErrorCode = "invalid_request", request_id: str | None = None):
        super().__init__(detail)
        self.frame = Error(code=code, detail=detail, request_id=request_id)


def parse_client_frame(raw: str | bytes | None) -> ClientFrame:
    """Return the typed frame for a raw websocket message, or raise ProtocolError saying what is wrong."""
    if raw is None or len(raw) == 0:
        raise ProtocolError("Empty frame: send a JSON object with a 'type'.")
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError(f"Frame too large: at most {MAX_FRAME_BYTES} bytes.")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("Frame is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise ProtocolError("Frame must be a JSON object with a 'type'.")
    request_id = payload.get("request_id") if isinstance(payload.get("request_id"), str) else None
    kind = payload.get("type")
    frame_class = _CLIENT_FRAME_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if frame_class is None:
        known = ", ".join(sorted(_CLIENT_FRAME_BY_TYPE))
        raise ProtocolError(f"Unknown frame type {kind!r}; expected one of: {known}.", request_id=request_id)
    try:
        return frame_class.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['msg']}" for e in error.errors())
        raise ProtocolError(f"Invalid {payload['type']!r} frame: {problems}.", request_id=request_id) from None
