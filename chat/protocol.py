"""Every websocket frame as a typed class, and the parser for frames that clients send.

The frames are the public contract documented in docs/websocket-protocol.md; a test checks each class
here against that document. Frames reject unknown fields, so a client's typo is an error, not a no-op.
"""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_FRAME_BYTES = 64 * 1024

ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "unknown_model",
    "model_unavailable",
    "insufficient_credits",
    "rate_limited",
]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientFrame(Frame):
    """A frame the browser sends."""


class ServerFrame(Frame):
    """A frame the server sends."""


class Ping(ClientFrame):
    type: Literal["ping"] = "ping"


class Pong(ServerFrame):
    type: Literal["pong"] = "pong"


class Error(ServerFrame):
    type: Literal["error"] = "error"
    request_id: str | None = None
    code: ErrorCode
    detail: str


CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (Ping,)
SERVER_FRAMES: tuple[type[ServerFrame], ...] = (Pong, Error)

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
