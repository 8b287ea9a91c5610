"""Serve fake OpenAI and Anthropic APIs over real HTTP, so the real SDKs can be run and tested offline.

A dev and test tool, not a mock: it speaks the providers' wire formats (status codes, error bodies,
server-sent events) closely enough that the official `openai` and `anthropic` SDKs take it for the real thing.

Endpoints (matched on the end of the path, so a Gemini-style base URL such as `.../v1beta/openai` works too):
- `POST .../chat/completions`: OpenAI Chat Completions, streamed (`data:` lines, usage chunk, `[DONE]`) or not.
- `POST .../messages`: Anthropic Messages, streamed (`event:` + `data:` lines) or not.
- `GET .../models`: a model list, in Anthropic's shape when an `anthropic-version` header is sent.

Any API key is accepted (`Authorization: Bearer` or `x-api-key`) except `sim-bad-key`, which gets a 401 whose
message echoes the key, as some providers do, so tests can prove a key never reaches a person.

Replies are deterministic: `[Simulated reply from <model>]`, then lorem words picked from a hash of the model
and the messages. Tokens are one per word or punctuation mark. A request costs the tokens of every message
(the system prompt included) plus 4 per message, plus its images and documents (below); a reply costs one token
per piece streamed, the header included. A reply stops at the request's `max_tokens` (finish reason `length` /
`max_tokens`).

Images and documents are read from a message whose content is a list of parts (standins/attachments.py decodes
them and holds the formulas):
- OpenAI: `{"type": "text", "text": ...}`, `{"type": "image_url", "image_url": {"url": "data:image/png;base64,...",
  "detail": "low" | "high" | "auto"}}` (detail "auto" by default, read as "high") and `{"type": "file", "file":
  {"filename": ..., "file_data": "data:application/pdf;base64,..."}}`. Only data URLs: the simulator is offline.
- Anthropic: `{"type": "text", ...}`, `{"type": "image", "source": {"type": "base64", "media_type": "image/png" |
  "image/jpeg" | "image/gif" | "image/webp", "data": ...}}` and `{"type": "document", "source": {"type": "base64",
  "media_type": "application/pdf", "data": ...}}` or `{"type": "document", "source": {"type": "text",
  "media_type": "text/plain", "data": ...}}` (an optional "title" is not counted).
An image's tokens follow its provider's documented formula from its decoded size. OpenAI, detail "low": the base
only; "high": fit inside 2048x2048, then bring the shortest side down to 768 if over it, and add tile tokens per
512 px tile (base 2833 and tile 5667 for model ids starting with `gpt-4o-mini`, else 85 and 170). Anthropic: long
edge scaled down to 1568 if over it, then ceil(width x height / 750). A document costs the tokens of its text (a
PDF's extracted with pypdf) plus, at Anthropic, 1,600 per PDF page (each page is also read as an image); OpenAI
adds nothing per page. Bytes that are not a readable image or PDF, or not the media type claimed, get a 400 in
the provider's error shape.

A request with images or documents is answered with a line per attachment after the header, in message order,
then the lorem words (all counted as reply tokens):
    [Simulated reply from <model>]
    Seen: image 1000x800 image/png
    Seen: document application/pdf 3 pages
    Seen: document text/plain 120 characters
    lorem ipsum ...

Directives in the last user message (in its text parts) choose faults per request; combine them with commas or
repeat them, e.g. `[[sim:status=429,retry_after=7]]`:
- `[[sim:status=N]]`        answer HTTP N in the provider's error shape (401, 429, 500, 503, 529, ...).
- `[[sim:retry_after=S]]`   send `Retry-After: S` with that error.
- `[[sim:times=N]]`         fail only the first N identical requests (to test the SDK's retries).
- `[[sim:context_too_long]]` answer the provider's own 400 for a prompt over the context window.
- `[[sim:refuse]]`          stream a little text, then stop with `content_filter` / `refusal`.
- `[[sim:cut_after=N]]`     close the TCP connection abruptly after N content deltas (no usage, no end).
- `[[sim:stall_after=N]]`   stop sending after N content deltas but keep the connection open.
- `[[sim:delay=S]]`         wait S seconds before the first token (a slow first token, a model thinking).
- `[[sim:pause_after=N,pause=S]]` wait S seconds after N content deltas, then go on to the end.
- `[[sim:error_after=N]]`   send an in-stream "overloaded" error after N content deltas.
- `[[sim:tokens=N]]`        make the reply N tokens long.
- `[[sim:cached=N]]`        report N of the input tokens as read from the prompt cache.
- `[[sim:echo]]`            reply with the header (and "Seen:" lines), a blank line, then the prompt's text itself
                            without its directives (to check that a UI treats a hostile reply as text).
An unknown directive gets a 400, so a typo does not pass silently.

Every request served is appended to `ProviderSimulator.records` (a `RequestRecord`), with the usage it
reported and the images and documents it saw (and their tokens), so a test can compare an adapter's numbers with
the simulator's and see whether the client hung up.

Each response closes its connection (`connection: close`), unless the simulator is made with `keep_alive=True`:
then a connection answered to its end waits for the client's next request, as a real provider's does, and
`RequestRecord.connection` says which accepted connection served a request (to see a client reuse one).
"""

import asyncio
import contextlib
import hashlib
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from standins.attachments import (
    PDF,
    AttachmentError,
    Document,
    Image,
    anthropic_image_tokens,
    decode_base64,
    openai_image_tokens,
    read_data_url,
    read_image,
    read_pdf,
)

BAD_KEY = "sim-bad-key"
# Parameters recorded as received (not acted on), so a test can see what a client passed on, in either format.
OPTIONS = (
    "temperature",
    "top_p",
    "stop",
    "stop_sequences",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
)
MESSAGE_OVERHEAD_TOKENS = 4
DEFAULT_REPLY_TOKENS = 60
DEFAULT_CONTEXT_WINDOW = 200_000
REFUSAL_AFTER_DELTAS = 3
LISTED_MODELS = ("sim-gpt", "sim-claude", "sim-gemini", "sim-mistral")
LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore "
    "magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo "
    "consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur"
)
LOREM = LOREM_TEXT.split()
TOKEN_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")
DIRECTIVE = re.compile(r"\[\[sim:([^\]]*)\]\]")
INT_DIRECTIVES = {
    "status",
    "retry_after",
    "times",
    "cut_after",
    "stall_after",
    "error_after",
    "tokens",
    "cached",
    "delay",
    "pause_after",
    "pause",
}
FLAG_DIRECTIVES = {"refuse", "context_too_long", "echo"}
OPENAI_DETAILS = ("low", "high", "auto")
ANTHROPIC_TOKENS_PER_PDF_PAGE = 1600  # Anthropic also reads each page as an image


def token_pieces(text: str) -> list[str]:
    """Split text into token pieces (a word or a punctuation mark, with the spaces before it)."""
    return TOKEN_PIECE.findall(text)


def count_tokens(text: str) -> int:
    """Return the simulator's token count for `text`."""
    return len(token_pieces(text))


def input_tokens_for(texts: list[str]) -> int:
    """Return the input tokens of a request made of these message texts."""
    return sum(count_tokens(text) + MESSAGE_OVERHEAD_TOKENS for text in texts)


def reply_header(model: str, seen: Sequence[str] = ()) -> str:
    """Return the first line of every reply, and a line for each attachment seen (`seen`, "Seen: ...")."""
    return "\n".join([f"[Simulated reply from {model}]", *seen])


def reply_pieces(model: str, seed_text: str, length: int, seen: Sequence[str] = ()) -> list[str]:
    """Return the reply's token pieces: the header (with the `seen` lines), then lorem words up to `length` tokens."""
    rng = random.Random(hashlib.sha256(f"{model}\n{seed_text}".encode()).digest())  # noqa: S311 (text, not secrets)
    pieces = token_pieces(reply_header(model, seen))
    header_length = len(pieces)
    while len(pieces) < length:
        # After "Seen:" lines the words start a line of their own.
        separator = "\n" if seen and len(pieces) == header_length else " "
        pieces.append(separator + rng.choice(LOREM))
        if rng.random() < 0.12:
            pieces.append(rng.choice(",."))
    return pieces[: max(length, header_length)]


def group_pieces(pieces: list[str], seed_text: str) -> list[str]:
    """Join pieces into deltas of one to three pieces each, as providers batch tokens unevenly."""
    rng = random.Random(seed_text)  # noqa: S311 (delta sizes, not secrets)
    deltas, index = [], 0
    while index < len(pieces):
        size = rng.randint(1, 3)
        deltas.append("".join(pieces[index : index + size]))
        index += size
    return deltas


@dataclass(frozen=True)
class Directives:
    status: int | None = None
    retry_after: int | None = None
    times: int | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    delay: int | None = None
    pause_after: int | None = None
    pause: int | None = None
    error_after: int | None = None
    tokens: int | None = None
    cached: int | None = None
    refuse: bool = False
    context_too_long: bool = False
    echo: bool = False


def parse_directives(text: str) -> Directives:
    """Read the `[[sim:...]]` directives in `text`; raise ValueError on one the simulator does not know."""
    values: dict[str, Any] = {}
    for block in DIRECTIVE.findall(text):
        for item in filter(None, (part.strip() for part in block.split(","))):
            key, has_value, value = item.partition("=")
            if key in INT_DIRECTIVES and has_value:
                values[key] = int(value)
            elif key in FLAG_DIRECTIVES and not has_value:
                values[key] = True
            else:
                raise ValueError(f"unknown simulator directive {item!r}")
    return Directives(**values)


@dataclass
class RequestRecord:
    """What the simulator did for one request, as a test would check it."""

    request_id: str
    path: str
    model: str | None = None
    system: str | None = None  # Anthropic's `system` parameter as received
    messages: list[tuple[str, str]] = field(default_factory=list)  # (role, text) as received, text parts joined
    images: list[tuple[int, int, str]] = field(default_factory=list)  # (width, height, media type) of each image
    documents: list[tuple[str, int | None]] = field(default_factory=list)  # (media type, PDF pages or None)
    # The input tokens counted for them, part of input_tokens.
    image_tokens: int = 0
    document_tokens: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # the sampling and format parameters received (OPTIONS)
    stream: bool = False
    status: int = 200
    # The usage in the final report (None if none went out); input counts cached tokens in either format.
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None  # in the provider's own words
    deltas_sent: int = 0
    text_sent: str = ""
    connection: int = 0  # which accepted connection served it, counting from 1
    completed: bool = False  # the response went out as planned, to its end
    client_disconnected: bool = False  # the client hung up before the end


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def api_key(self) -> str:
        bearer = self.headers.get("authorization", "")
        return bearer.removeprefix("Bearer ").strip() if bearer else self.headers.get("x-api-key", "")


async def read_request(reader: asyncio.StreamReader, start: bytes = b"") -> HttpRequest:
    """Read one HTTP/1.1 request with a Content-Length body (what both SDKs send), after its first `start` bytes."""
    head = (start + await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *header_lines = head.split("\r\n")
    method, target, _version = request_line.split(" ", 2)
    headers = {}
    for line in filter(None, header_lines):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return HttpRequest(method, target.split("?", 1)[0], headers, body)


class ClientGone(Exception):
    """The client closed the connection while the simulator was still answering."""


class Connection:
    """One client connection: write a response, notice when the client hangs up, or cut it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, keep_alive: bool = False):
        self._writer = writer
        self.keep_alive = keep_alive
        # Flush every write to the socket, so a cut really happens after the deltas already sent.
        writer.transport.set_write_buffer_limits(high=0)
        # The client sends nothing after its request, so the end of its side means it hung up.
        self._hangup = asyncio.ensure_future(reader.read(1))

    @property
    def client_gone(self) -> bool:
        return self._hangup.done()

    async def pause(self, seconds: float) -> None:
        """Wait `seconds`, ending early (with ClientGone) if the client hangs up meanwhile."""
        if seconds > 0:
            await asyncio.wait({self._hangup}, timeout=seconds)
        if self.client_gone:
            raise ClientGone

    async def wait_for_hangup(self) -> None:
        await asyncio.shield(self._hangup)
        raise ClientGone

    async def write(self, data: bytes) -> None:
        if self.client_gone:
            raise ClientGone
        try:
            self._writer.write(data)
            await self._writer.drain()
        except ConnectionError as error:
            raise ClientGone from error

    async def send_head(self, status: int, headers: dict[str, str]) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Overloaded" if status == 529 else "Error"
        lines = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in headers.items())]
        if not self.keep_alive:
            lines.append("connection: close")
        await self.write(("\r\n".join([*lines, "", ""])).encode("latin-1"))

    async def send_json(self, status: int, body: dict, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        await self.send_head(status, {"content-type": "application/json", "content-length": str(len(data)), **headers})
        await self.write(data)

    async def send_chunk(self, data: bytes, *, last: bool = False) -> None:
        # The final event and the end of the body go out together, so a client that hangs up as soon as it
        # has read the final event is not mistaken for one that left early.
        await self.write(f"{len(data):x}\r\n".encode() + data + b"\r\n" + (b"0\r\n\r\n" if last else b""))

    async def next_request_start(self) -> bytes | None:
        """Stop watching for a hang-up; return what of the next request it read (b"" if none), or None if gone.

        A client sends its next request on a kept-alive connection only once it has read the whole response,
        so the watch may have read that request's first byte.
        """
        self._hangup.cancel()
        await asyncio.wait({self._hangup})
        if self._hangup.cancelled():
            return b""
        if self._hangup.exception() is not None or not self._hangup.result():
            return None
        return self._hangup.result()

    def cut(self) -> None:
        """Drop the connection without ending the body, as a failing network or provider does."""
        self._writer.transport.abort()

    async def close(self) -> None:
        self._hangup.cancel()
        self._writer.close()
        with contextlib.suppress(ConnectionError):  # the client was gone already
            await self._writer.wait_closed()


@dataclass(frozen=True)
class Attachment:
    """An image or a document as the call's provider reads it, with the input tokens it costs there."""

    content: Image | Document
    tokens: int


@dataclass
class Call:
    """One model call as the simulator will answer it, whatever the wire format."""

    model: str
    turns: list[tuple[str, str]]  # (role, text) of each message, as sent
    max_tokens: int | None
    stream: bool
    include_usage: bool
    directives: Directives
    request_id: str
    system: str | None = None  # Anthropic's separate system prompt
    options: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)  # in message order
    message_id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])

    @property
    def texts(self) -> list[str]:
        return ([self.system] if self.system else []) + [text for _role, text in self.turns]

    @property
    def seed_text(self) -> str:
        return "\n".join(self.texts)

    @property
    def input_tokens(self) -> int:
        return input_tokens_for(self.texts) + sum(attachment.tokens for attachment in self.attachments)

    @property
    def seen(self) -> list[str]:
        """Return the reply's line for each attachment: what the model saw."""
        return [f"Seen: {attachment.content.describe()}" for attachment in self.attachments]

    def tokens_of(self, kind: type[Image | Document]) -> int:
        return sum(attachment.tokens for attachment in self.attachments if isinstance(attachment.content, kind))

    @property
    def cached_tokens(self) -> int:
        return min(self.directives.cached or 0, self.input_tokens)


def text_of(content: Any) -> str:
    """Return the text of a message's content, given as a string or as a list of parts (its text parts)."""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content or () if isinstance(block, dict))


def read_messages(
    messages: list[dict], read_part: Callable[[dict], Attachment | None]
) -> tuple[list[tuple[str, str]], list[Attachment]]:
    """Return each message's (role, text) and the attachments among their parts, read by `read_part`."""
    turns, attachments = [], []
    for message in messages:
        content = message.get("content")
        turns.append((message.get("role"), text_of(content)))
        if isinstance(content, list):
            attachments += filter(None, (read_part(part) for part in content if isinstance(part, dict)))
    return turns, attachments


def document_tokens(document: Document, tokens_per_pdf_page: int) -> int:
    """Return the input tokens of a document: those of its text, plus a fixed amount per PDF page."""
    return count_tokens(document.text) + tokens_per_pdf_page * (document.pages or 0)


def sse_json(data: dict, event: str | None = None) -> bytes:
    """Encode one server-sent event; Anthropic names each event, OpenAI does not."""
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class OpenAIWire:
    """The Chat Completions format (OpenAI, and the compatible APIs of Gemini, Mistral, Ollama, ...)."""

    request_id_header = "x-request-id"
    overloaded_status = 503
    finish_reasons = {"stop": "stop", "length": "length", "refused": "content_filter"}
    errors = {
        400: ("invalid_request_error", None, "Invalid request."),
        404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access."),
        429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
        500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
        503: ("server_error", None, "The engine is currently overloaded, please try again later."),
        529: ("server_error", None, "The engine is currently overloaded, please try again later."),
    }

    def parse(self, body: dict, request_id: str) -> Call:
        messages, model = body["messages"], body["model"]
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        turns, attachments = read_messages(messages, lambda part: self.read_part(part, model))
        return Call(
            model=model,
            turns=turns,
            attachments=attachments,
            max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
            stream=bool(body.get("stream")),
            # A whole reply always carries usage; a stream only when asked for it.
            include_usage=not body.get("stream") or bool((body.get("stream_options") or {}).get("include_usage")),
            directives=parse_directives(text_of(last_user.get("content"))),
            request_id=request_id,
            options={name: body[name] for name in OPTIONS if name in body},
        )

    def read_part(self, part: dict, model: str) -> Attachment | None:
        """Return the image or PDF in a content part (None for text), with what it costs `model`."""
        if part.get("type") == "image_url":
            image_url = part["image_url"]
            detail = image_url.get("detail") or "auto"
            if detail not in OPENAI_DETAILS:
                raise ValueError(f"image_url.detail must be one of {', '.join(OPENAI_DETAILS)}, not {detail!r}")
            media_type, data = read_data_url(image_url.get("url"), "image")
            image = read_image(data, media_type)
            return Attachment(image, openai_image_tokens(image, model=model, detail=detail))
        if part.get("type") == "file":
            media_type, data = read_data_url(part["file"].get("file_data"), "file")
            if media_type != PDF:
                raise AttachmentError(f"Unsupported file media type {media_type}: only {PDF} is read.", "invalid_file")
            document = read_pdf(data)
            return Attachment(document, document_tokens(document, tokens_per_pdf_page=0))
        return None

    def error(self, status: int, message: str | None, request_id: str) -> dict:
        kind, code, default = self.errors.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None, f"Simulated error {status}.")
        )
        return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}

    def bad_key_error(self, key: str, request_id: str) -> dict:
        body = self.error(401, f"Incorrect API key provided: {key}.", request_id)
        body["error"]["code"] = "invalid_api_key"
        return body

    def attachment_error(self, error: AttachmentError, request_id: str) -> dict:
        body = self.error(400, error.message, request_id)
        body["error"].update(param="messages", code=error.code)
        return body

    def context_error(self, tokens: int, window: int, request_id: str) -> dict:
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages resulted in "
            f"{tokens} tokens. Please reduce the length of the messages."
        )
        body = self.error(400, message, request_id)
        body["error"].update(param="messages", code="context_length_exceeded")
        return body

    def _chunk(self, call: Call, choices: list[dict], **extra: Any) -> bytes:
        chunk = {
            "id": f"chatcmpl-{call.message_id}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": call.model,
            "system_fingerprint": "fp_simulator",
            "choices": choices,
        }
        if call.include_usage:
            chunk["usage"] = None  # as OpenAI does on every chunk but the last
        return sse_json({**chunk, **extra})

    def _choice(self, delta: dict, finish_reason: str | None = None) -> list[dict]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]

    def _usage(self, call: Call, output_tokens: int) -> dict:
        return {
            "prompt_tokens": call.input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": call.input_tokens + output_tokens,
            "prompt_tokens_details": {"cached_tokens": call.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def opening(self, call: Call) -> list[bytes]:
        return [self._chunk(call, self._choice({"role": "assistant", "content": "", "refusal": None}))]

    def delta(self, call: Call, text: str) -> bytes:
        return self._chunk(call, self._choice({"content": text}))

    def closing(self, call: Call, finish_reason: str, output_tokens: int) -> list[bytes]:
        events = [self._chunk(call, self._choice({}, finish_reason))]
        if call.include_usage:
            events.append(self._chunk(call, [], usage=self._usage(call, output_tokens)))
        return [*events, b"data: [DONE]\n\n"]

    def stream_error(self, request_id: str) -> bytes:
        return sse_json(self.error(503, None, request_id))

    def whole(self, call: Call, text: str, finish_reason: str, output_tokens: int) -> dict:
        message = {"role": "assistant", "content": text, "refusal": None}
        return {
            "id": f"chatcmpl-{call.message_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
            "usage": self._usage(call, output_tokens),
        }

    def models(self) -> dict:
        models = [{"id": model, "object": "model", "created": 0, "owned_by": "simulator"} for model in LISTED_MODELS]
        return {"object": "list", "data": models}


class AnthropicWire:
    """The Anthropic Messages format."""

    request_id_header = "request-id"
    overloaded_status = 529
    finish_reasons = {"stop": "end_turn", "length": "max_tokens", "refused": "refusal"}
    errors = {
        400: ("invalid_request_error", "Invalid request."),
        401: ("authentication_error", "invalid x-api-key"),
        403: ("permission_error", "Your API key does not have permission to use the specified resource."),
        404: ("not_found_error", "The requested resource could not be found."),
        413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        429: ("rate_limit_error", "This request would exceed the rate limit for your organization."),
        500: ("api_error", "Internal server error"),
        529: ("overloaded_error", "Overloaded"),
    }

    def parse(self, body: dict, request_id: str) -> Call:
        messages = body["messages"]
        if "max_tokens" not in body:
            raise ValueError("max_tokens: Field required")
        last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        system = text_of(body.get("system") or "")
        turns, attachments = read_messages(messages, self.read_block)
        return Call(
            model=body["model"],
            turns=turns,
            attachments=attachments,
            system=system or None,
            max_tokens=body["max_tokens"],
            stream=bool(body.get("stream")),
            include_usage=True,  # Anthropic always reports usage
            directives=parse_directives(text_of(last_user.get("content"))),
            request_id=request_id,
            options={name: body[name] for name in OPTIONS if name in body},
        )

    def read_block(self, block: dict) -> Attachment | None:
        """Return the image or document in a content block (None for text), with what it costs."""
        kind, source = block.get("type"), block.get("source") or {}
        if kind == "image":
            if source.get("type") != "base64":
                raise AttachmentError("The simulator only accepts base64 image sources.")
            image = read_image(decode_base64(source["data"], "image"), source.get("media_type"))
            return Attachment(image, anthropic_image_tokens(image))
        if kind != "document":
            return None
        if (source.get("type"), source.get("media_type")) == ("base64", PDF):
            document = read_pdf(decode_base64(source["data"], "PDF"))
        elif (source.get("type"), source.get("media_type")) == ("text", "text/plain"):
            document = Document(media_type="text/plain", text=source["data"])
        else:
            raise AttachmentError(
                f"The simulator reads base64 {PDF} and text text/plain documents, not {source.get('type')} "
                f"{source.get('media_type')}."
            )
        return Attachment(document, document_tokens(document, tokens_per_pdf_page=ANTHROPIC_TOKENS_PER_PDF_PAGE))

    def error(self, status: int, message: str | None, request_id: str) -> dict:
        kind, default = self.errors.get(status, ("api_error", f"Simulated error {status}."))
        return {"type": "error", "error": {"type": kind, "message": message or default}, "request_id": request_id}

    def bad_key_error(self, key: str, request_id: str) -> dict:
        return self.error(401, None, request_id)

    def attachment_error(self, error: AttachmentError, request_id: str) -> dict:
        return self.error(400, error.message, request_id)

    def context_error(self, tokens: int, window: int, request_id: str) -> dict:
        return self.error(400, f"prompt is too long: {tokens} tokens > {window} maximum", request_id)

    def _usage(self, call: Call, output_tokens: int) -> dict:
        # Anthropic's input_tokens leaves out the tokens read from the cache.
        return {
            "input_tokens": call.input_tokens - call.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": call.cached_tokens,
            "output_tokens": output_tokens,
        }

    def _message(self, call: Call, content: list[dict], stop_reason: str | None, output_tokens: int) -> dict:
        return {
            "id": f"msg_sim{call.message_id}",
            "type": "message",
            "role": "assistant",
            "model": call.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": self._usage(call, output_tokens),
        }

    def _event(self, data: dict) -> bytes:
        return sse_json(data, event=data["type"])

    def opening(self, call: Call) -> list[bytes]:
        return [
            self._event({"type": "message_start", "message": self._message(call, [], None, 1)}),
            self._event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            self._event({"type": "ping"}),
        ]

    def delta(self, call: Call, text: str) -> bytes:
        return self._event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})

    def closing(self, call: Call, finish_reason: str, output_tokens: int) -> list[bytes]:
        delta = {"stop_reason": finish_reason, "stop_sequence": None}
        return [
            self._event({"type": "content_block_stop", "index": 0}),
            # Cumulative, and carrying the input counts again, as the live API does.
            self._event({"type": "message_delta", "delta": delta, "usage": self._usage(call, output_tokens)}),
            self._event({"type": "message_stop"}),
        ]

    def stream_error(self, request_id: str) -> bytes:
        return sse_json(self.error(529, None, request_id), event="error")

    def whole(self, call: Call, text: str, finish_reason: str, output_tokens: int) -> dict:
        return self._message(call, [{"type": "text", "text": text}], finish_reason, output_tokens)

    def models(self) -> dict:
        models = [
            {"id": model, "type": "model", "display_name": model, "created_at": "2025-01-01T00:00:00Z"}
            for model in LISTED_MODELS
        ]
        return {"data": models, "has_more": False, "first_id": LISTED_MODELS[0], "last_id": LISTED_MODELS[-1]}


Wire = OpenAIWire | AnthropicWire


class ProviderSimulator:
    """Serve both wire formats on one port, on the running event loop.

    Use `async with ProviderSimulator() as sim:` in async code, or `SimulatorThread` from sync code.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens_per_second: float = 0,
        reply_tokens: int = DEFAULT_REPLY_TOKENS,
        first_token_ms: int = 0,
        context_window: int = DEFAULT_CONTEXT_WINDOW,
        keep_alive: bool = False,
    ):
        self.host, self.port = host, port
        self.tokens_per_second = tokens_per_second  # 0 sends as fast as the socket takes it
        self.reply_tokens = reply_tokens
        self.first_token_ms = first_token_ms
        self.context_window = context_window
        self.keep_alive = keep_alive  # then `wait_until_idle` also waits for clients to close their idle connections
        self.connections_accepted = 0
        self.records: list[RequestRecord] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task] = set()
        self._failures_served: dict[str, int] = {}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url_openai(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def base_url_anthropic(self) -> str:
        return self.base_url  # the Anthropic SDK appends /v1/messages itself

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every open connection, stalled ones included."""
        if self._server is None:
            return
        self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def serve_forever(self) -> None:
        await self._server.serve_forever()

    async def wait_until_idle(self, timeout: float = 5.0) -> None:
        """Wait until every connection has been answered and closed, so the records are final."""
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=timeout)

    async def __aenter__(self) -> "ProviderSimulator":
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def should_fail(self, request: HttpRequest, times: int | None) -> bool:
        """Fail always, or only the first `times` requests with this very body."""
        if times is None:
            return True
        key = hashlib.sha256(request.path.encode() + request.body).hexdigest()
        served = self._failures_served.get(key, 0)
        self._failures_served[key] = served + 1
        return served < times

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._handlers.add(asyncio.current_task())
        self.connections_accepted += 1
        try:
            await self._answer(reader, writer, self.connections_accepted)
        except asyncio.CancelledError:
            pass  # `stop()` dropped the connection; ending cancelled would make Python 3.11 log a bogus error
        finally:
            writer.close()
            self._handlers.discard(asyncio.current_task())

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        start = b""
        while start is not None:
            try:
                request = await read_request(reader, start)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
                return  # not an HTTP request, or the client left before sending one
            record = RequestRecord(request_id=f"req_sim_{uuid.uuid4().hex[:24]}", path=request.path, connection=number)
            self.records.append(record)
            connection = Connection(reader, writer, keep_alive=self.keep_alive)
            start = None
            try:
                await Exchange(self, request, connection, record).answer()
                if self.keep_alive and record.completed:
                    start = await connection.next_request_start()
            except ClientGone:
                record.client_disconnected = True
            finally:
                if start is None:
                    await connection.close()


class Exchange:
    """Answer one request in the wire format its path asks for, and keep its record up to date."""

    def __init__(
        self, simulator: ProviderSimulator, request: HttpRequest, connection: Connection, record: RequestRecord
    ):
        self.simulator, self.request, self.connection, self.record = simulator, request, connection, record
        path = request.path.rstrip("/")
        self.is_call = request.method == "POST" and path.endswith(("/messages", "/chat/completions"))
        self.is_models = request.method == "GET" and path.endswith("/models")
        anthropic = path.endswith("/messages") or "anthropic-version" in request.headers
        self.wire: Wire = AnthropicWire() if anthropic else OpenAIWire()
        self.headers = {self.wire.request_id_header: record.request_id}

    async def fail(self, status: int, body: dict, **headers: str) -> None:
        self.record.status = status
        await self.connection.send_json(status, body, {**self.headers, **headers})
        self.record.completed = True

    async def answer(self) -> None:
        request, wire, request_id = self.request, self.wire, self.record.request_id
        if not (self.is_call or self.is_models):
            return await self.fail(404, wire.error(404, f"No route for {request.method} {request.path}.", request_id))
        if request.api_key in ("", BAD_KEY):
            return await self.fail(401, wire.bad_key_error(request.api_key, request_id))
        if self.is_models:
            await self.connection.send_json(200, wire.models(), self.headers)
            self.record.completed = True
            return
        try:
            call = wire.parse(json.loads(request.body), request_id)
        except AttachmentError as error:
            return await self.fail(400, wire.attachment_error(error, request_id))
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            return await self.fail(400, wire.error(400, f"Invalid request: {error}", request_id))
        record = self.record
        record.model, record.system, record.messages, record.stream = call.model, call.system, call.turns, call.stream
        record.options = call.options
        seen = [attachment.content for attachment in call.attachments]
        record.images = [(image.width, image.height, image.media_type) for image in seen if isinstance(image, Image)]
        record.documents = [
            (document.media_type, document.pages) for document in seen if isinstance(document, Document)
        ]
        record.image_tokens, record.document_tokens = call.tokens_of(Image), call.tokens_of(Document)
        await self.answer_call(call)

    async def answer_call(self, call: Call) -> None:
        simulator, directives = self.simulator, call.directives
        if directives.status and simulator.should_fail(self.request, directives.times):
            retry = {"retry-after": str(directives.retry_after)} if directives.retry_after is not None else {}
            return await self.fail(
                directives.status, self.wire.error(directives.status, None, call.request_id), **retry
            )
        if directives.context_too_long or call.input_tokens > simulator.context_window:
            tokens = max(call.input_tokens, simulator.context_window + 1)
            return await self.fail(400, self.wire.context_error(tokens, simulator.context_window, call.request_id))

        pieces = reply_pieces(call.model, call.seed_text, directives.tokens or simulator.reply_tokens, call.seen)
        if directives.echo:
            prompt = next((text for role, text in reversed(call.turns) if role == "user"), "")
            pieces = token_pieces(reply_header(call.model, call.seen) + "\n\n" + DIRECTIVE.sub("", prompt).strip())
        finish = "stop"
        if call.max_tokens is not None and call.max_tokens < len(pieces):
            pieces, finish = pieces[: call.max_tokens], "length"
        deltas = group_pieces(pieces, call.seed_text)
        if directives.refuse:
            deltas, finish = deltas[:REFUSAL_AFTER_DELTAS], "refused"
        if call.stream:
            await self.stream(call, deltas, finish)
        else:
            await self.answer_whole(call, deltas, finish)

    def seconds_for(self, text: str) -> float:
        """Return how long `text` takes to generate at the configured speed."""
        rate = self.simulator.tokens_per_second
        return count_tokens(text) / rate if rate else 0

    def report_usage(self, call: Call, finish: str) -> int:
        """Record the final usage about to go out, and return its output tokens."""
        record = self.record
        output_tokens = count_tokens(record.text_sent)
        record.finish_reason = self.wire.finish_reasons[finish]
        if call.include_usage:
            record.input_tokens, record.cached_input_tokens = call.input_tokens, call.cached_tokens
            record.output_tokens = output_tokens
        return output_tokens

    async def answer_whole(self, call: Call, deltas: list[str], finish: str) -> None:
        directives, wire = call.directives, self.wire
        if directives.cut_after is not None:
            return self.connection.cut()
        if directives.stall_after is not None:
            await self.connection.wait_for_hangup()
        if directives.error_after is not None:
            return await self.fail(wire.overloaded_status, wire.error(wire.overloaded_status, None, call.request_id))
        text = "".join(deltas)
        waited = self.simulator.first_token_ms / 1000 + (directives.delay or 0) + (directives.pause or 0)
        await self.connection.pause(waited + self.seconds_for(text))
        self.record.text_sent = text
        output_tokens = self.report_usage(call, finish)
        await self.connection.send_json(
            200, wire.whole(call, text, self.record.finish_reason, output_tokens), self.headers
        )
        self.record.completed = True

    async def stream(self, call: Call, deltas: list[str], finish: str) -> None:
        connection, directives, record = self.connection, call.directives, self.record
        head = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
        await connection.send_head(200, {**head, "transfer-encoding": "chunked", **self.headers})
        for event in self.wire.opening(call):
            await connection.send_chunk(event)
        await connection.pause(self.simulator.first_token_ms / 1000 + (directives.delay or 0))
        for index in range(len(deltas) + 1):
            if index == directives.pause_after:
                await connection.pause(directives.pause or 0)
            if index == directives.cut_after:
                return connection.cut()
            if index == directives.stall_after:
                await connection.wait_for_hangup()
            if index == directives.error_after:
                await connection.send_chunk(self.wire.stream_error(call.request_id), last=True)
                record.completed = True
                return
            if index == len(deltas):
                break
            await connection.send_chunk(self.wire.delta(call, deltas[index]))
            record.deltas_sent += 1
            record.text_sent += deltas[index]
            await connection.pause(self.seconds_for(deltas[index]))
        output_tokens = self.report_usage(call, finish)
        *events, last = self.wire.closing(call, record.finish_reason, output_tokens)
        for event in events:
            await connection.send_chunk(event)
        await connection.send_chunk(last, last=True)
        record.completed = True


class SimulatorThread:
    """Run a `ProviderSimulator` on its own event loop in a background thread, for sync code.

    `with SimulatorThread(reply_tokens=20) as sim: ... sim.base_url_openai ... sim.records`
    """

    def __init__(self, **options: Any):
        self.simulator = ProviderSimulator(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="provider-simulator", daemon=True)

    def _run(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> "SimulatorThread":
        self._thread.start()
        self._run(self.simulator.start())
        return self

    def stop(self) -> None:
        self._run(self.simulator.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def wait_until_idle(self, timeout: float = 5.0) -> None:
        self._run(self.simulator.wait_until_idle(timeout), timeout + 1)

    @property
    def records(self) -> list[RequestRecord]:
        return self.simulator.records

    @property
    def base_url_openai(self) -> str:
        return self.simulator.base_url_openai

    @property
    def base_url_anthropic(self) -> str:
        return self.simulator.base_url_anthropic

    def __enter__(self) -> "SimulatorThread":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
