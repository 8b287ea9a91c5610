"""Every websocket frame as a typed class, and the parser for frames that clients send.

The frames are the public contract documented in docs/websocket-protocol.md; a test checks each class
here against that document. Frames reject unknown fields, so a client's typo is an error, not a no-op.
"""

import json
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

import billing.exceptions
import catalog.exceptions
import chat.exceptions
import chat.providers.errors
import errors
from chat.limits import MAX_CONTENT_CHARS, MAX_MODELS_PER_TURN, UNSTORABLE, storable_text
from errors import InvalidRequest, PanelsError

MAX_FRAME_BYTES = 2 * 1024 * 1024  # room for a long pasted document
# What the server reads of one message before closing the socket (panels/serve.py): larger than the
# protocol's limit, so a frame between the two is answered with an `error` frame instead of a closed socket.
SERVER_READ_LIMIT_BYTES = 2 * MAX_FRAME_BYTES
MAX_REQUEST_ID_CHARS = 64
MAX_OUTPUT_TOKENS_ASKED = 1_000_000  # a reply's output limit is also capped by its model's own
MAX_ID = 2**63 - 1  # ids are 64-bit in both databases; a larger number cannot name anything

Text = Annotated[str, AfterValidator(storable_text)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# Every error a person can be shown, each with a code of its own: the codes an `error` frame may carry are
# read from these classes, never listed by hand beside them. The modules are named, so the list does not
# depend on what else happens to be imported.
ERROR_CLASSES: tuple[type[PanelsError], ...] = tuple(
    value
    for module in (errors, catalog.exceptions, billing.exceptions, chat.exceptions, chat.providers.errors)
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, PanelsError) and value.__module__ == module.__name__
)
ErrorCode = Literal[tuple(error.code for error in ERROR_CLASSES)]
Status = Literal["complete", "stopped", "error"]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientFrame(Frame):
    """A frame the browser sends."""


class ServerFrame(Frame):
    """A frame the server sends."""


class Ping(ClientFrame):
    type: Literal["ping"] = "ping"


class PanelSettings(Frame):
    """One panel's sampling temperature and output limit; null leaves the model's default."""

    temperature: Annotated[Decimal, Field(ge=0, le=2, max_digits=3, decimal_places=2)] | None = None
    max_output_tokens: Annotated[int, Field(ge=1, le=MAX_OUTPUT_TOKENS_ASKED)] | None = None


class Send(ClientFrame):
    type: Literal["send"] = "send"
    request_id: Text = Field(min_length=1, max_length=MAX_REQUEST_ID_CHARS)
    conversation_id: Id | None = None
    models: list[Annotated[Text, Field(max_length=100)]] = Field(min_length=1, max_length=MAX_MODELS_PER_TURN)
    content: Text = Field(default="", max_length=MAX_CONTENT_CHARS)  # may be blank when files are attached
    after_turn_id: Id | None = None  # the last turn of the branch the tab shows; None: the conversation's current
    edit_of_turn_id: Id | None = None  # an edited prompt: the new turn is this one's sibling, a new branch
    system_prompt: Annotated[Text, Field(max_length=MAX_CONTENT_CHARS)] | None = None
    panel_settings: list[PanelSettings] | None = None  # one per model, in order
    # Files uploaded to /api/attachments/ that go with the prompt (the server checks their number and size).
    attachment_ids: list[Annotated[Text, Field(max_length=36)]] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def is_consistent(self):
        if not self.content.strip() and not self.attachment_ids:
            raise ValueError("content must not be blank")
        if self.after_turn_id is not None and self.edit_of_turn_id is not None:
            raise ValueError("give after_turn_id or edit_of_turn_id, not both")
        if self.conversation_id is None and (self.after_turn_id or self.edit_of_turn_id):
            raise ValueError("a new conversation has no turns to follow or edit")
        if self.panel_settings is not None and len(self.panel_settings) != len(self.models):
            raise ValueError("panel_settings needs one entry per model")
        return self


class Regenerate(ClientFrame):
    """Ask one panel of a turn again: a new version of that reply, in place; the earlier versions stay."""

    type: Literal["regenerate"] = "regenerate"
    request_id: Text = Field(min_length=1, max_length=MAX_REQUEST_ID_CHARS)
    message_id: Id
    panel_settings: PanelSettings | None = None  # None: the settings the regenerated version had


class Stop(ClientFrame):
    type: Literal["stop"] = "stop"
    message_id: Id | None = None
    turn_id: Id | None = None

    @model_validator(mode="after")
    def names_one_target(self):
        if (self.message_id is None) == (self.turn_id is None):
            raise ValueError("give either message_id or turn_id")
        return self


class Subscribe(ClientFrame):
    type: Literal["subscribe"] = "subscribe"
    conversation_id: Id
    after_seq: int = Field(default=0, ge=0, le=MAX_ID)
    message_id: Id | None = None


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
    version: int = 1
    temperature: float | None = None
    max_output_tokens: int | None = None
    attachment_tokens: int = 0  # of the input estimate, what the files attached add for this model


class AttachmentInfo(Frame):
    """A file sent with a prompt; `url` serves it to its owner only."""

    id: str
    name: str
    kind: str
    content_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    url: str


class TurnStarted(ServerFrame):
    type: Literal["turn.started"] = "turn.started"
    request_id: str
    conversation_id: int
    turn_id: int
    parent_turn_id: int | None = None
    content: str = ""
    attachments: list[AttachmentInfo] = []
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
    streaming_ms: int | None
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


CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (Send, Regenerate, Stop, Subscribe, Ping)
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
    """A client frame that cannot be accepted; carries the `error` frame (an invalid request) to send back."""

    def __init__(self, detail: str, *, request_id: str | None = None):
        super().__init__(detail)
        self.frame = Error(code=InvalidRequest.code, detail=detail, request_id=request_id)


def parse_client_frame(raw: str | bytes | None) -> ClientFrame:
    """Return the typed frame for a raw websocket message, or raise ProtocolError saying what is wrong."""
    if raw is None or len(raw) == 0:
        raise ProtocolError("Empty frame: send a JSON object with a 'type'.")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):  # ValueError also covers a number of more than 4,300 digits
        raise ProtocolError("Frame is not valid JSON.") from None
    except RecursionError:
        raise ProtocolError("Frame is nested too deeply to be a frame of this protocol.") from None
    if not isinstance(payload, dict):
        raise ProtocolError("Frame must be a JSON object with a 'type'.")
    request_id = _echoable(payload.get("request_id"))
    if _too_large(raw):  # checked after parsing (the server reads at most twice the limit), to name the request
        raise ProtocolError(
            f"Frame too large: at most {MAX_FRAME_BYTES:,} bytes of UTF-8; a prompt may have "
            f"{MAX_CONTENT_CHARS:,} characters.",
            request_id=request_id,
        )
    kind = payload.get("type")
    frame_class = _CLIENT_FRAME_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if frame_class is None:
        known = ", ".join(sorted(_CLIENT_FRAME_BY_TYPE))
        problem = f"Unknown frame type {kind[:40]!r}" if isinstance(kind, str) else "A frame needs a text 'type'"
        raise ProtocolError(f"{problem}; expected one of: {known}.", request_id=request_id)
    try:
        return frame_class.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['msg']}" for e in error.errors())
        raise ProtocolError(f"Invalid {payload['type']!r} frame: {problems}.", request_id=request_id) from None


def _echoable(request_id) -> str | None:
    """Return the request id to repeat in an error frame: only one that is itself valid, so the frame is too."""
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID_CHARS:
        return None
    return None if UNSTORABLE.search(request_id) else request_id


def _too_large(raw: str | bytes) -> bool:
    """Return whether a frame is over MAX_FRAME_BYTES of UTF-8, encoding it only when its length cannot tell."""
    if isinstance(raw, bytes) or len(raw) > MAX_FRAME_BYTES:  # a character is at least one byte
        return len(raw) > MAX_FRAME_BYTES
    if len(raw) * 4 <= MAX_FRAME_BYTES:  # and at most four
        return False
    return len(raw.encode("utf-8", errors="surrogatepass")) > MAX_FRAME_BYTES
