"""The one interface every provider adapter implements, and the values that cross it.

An adapter takes a `CallRequest` and yields `Delta` events as text arrives, then exactly one `Finished`
carrying the provider's usage. Failures raise `ProviderError` subclasses (see chat/providers/errors.py).
Adapters know nothing of the database: the registry turns catalog rows into `ProviderConfig`.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

Role = Literal["system", "user", "assistant"]
WireFormat = Literal["openai", "anthropic"]
# The sampling temperatures each wire format takes: OpenAI's Chat Completions 0 to 2, Anthropic's Messages 0 to 1.
MAX_TEMPERATURE: dict[WireFormat, Decimal] = {"openai": Decimal(2), "anthropic": Decimal(1)}
LOWEST_MAX_TEMPERATURE = min(MAX_TEMPERATURE.values())  # what any model may take (Auto's choice is not known)
T = TypeVar("T")


@dataclass(frozen=True)
class ProviderConfig:
    """Where and how to reach one provider. The key is never printed (repr=False)."""

    name: str  # shown to people, e.g. "OpenAI", "Google Gemini"
    wire_format: WireFormat
    base_url: str
    api_key: str = field(repr=False)
    timeout_seconds: float = 60.0
    max_retries: int = 2


@dataclass(frozen=True)
class ImageInput:
    """An image sent with a message: its content type and bytes (checked and re-encoded when it was attached)."""

    media_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    images: tuple[ImageInput, ...] = ()


@dataclass(frozen=True)
class CallOptions:
    """Sampling and format options a program may set through the API; None leaves the provider's default.

    `json_output` asks for a JSON object (OpenAI's `response_format`, passed on as it came); adapters whose
    provider has no such switch leave it to the prompt (the API adds an instruction).
    """

    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: dict | None = None


@dataclass(frozen=True)
class CallRequest:
    """One model call: the provider's own model id, the messages, the output budget and any options."""

    provider: ProviderConfig
    api_model_id: str
    messages: tuple[ChatMessage, ...]
    max_output_tokens: int
    options: CallOptions = field(default_factory=CallOptions)


@dataclass(frozen=True)
class Usage:
    """What one call used, as the provider reported it."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    finish_reason: str | None = None
    provider_request_id: str | None = None


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    usage: Usage


StreamEvent = Delta | Finished


class ProviderAdapter(Protocol):
    def stream(self, request: CallRequest, cancel: asyncio.Event) -> AsyncIterator[StreamEvent]:
        """Yield `Delta`s as text arrives, then one `Finished`; stop early and close upstream on `cancel`."""
        ...


async def unless_cancelled(awaitable: Awaitable[T], cancel: asyncio.Event) -> T | None:
    """Await `awaitable`, or abandon it and return None once `cancel` is set (even if it finished too).

    Adapters read the upstream stream through this, so a stop takes effect mid-read, not at the next token.
    """
    work = asyncio.ensure_future(awaitable)
    stopping = True  # until the work is known to have finished first (also if this task is cancelled)
    try:
        if not cancel.is_set():
            cancelled = asyncio.ensure_future(cancel.wait())
            try:
                await asyncio.wait({work, cancelled}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                cancelled.cancel()
            stopping = cancel.is_set()
    finally:
        if stopping:
            work.cancel()
            await asyncio.wait({work})  # let the read unwind: the SDK closes its HTTP response as it does
            if not work.cancelled():
                work.exception()  # mark it retrieved: the caller asked to stop, so a late failure does not matter
    return None if stopping else work.result()
