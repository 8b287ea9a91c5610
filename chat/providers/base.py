"""The one interface every provider adapter implements, and the values that cross it.

An adapter takes a `CallRequest` and yields `Delta` events as text arrives, then exactly one `Finished`
carrying the provider's usage. Failures raise `ProviderError` subclasses (see chat/providers/errors.py).
Adapters know nothing of the database: the registry turns catalog rows into `ProviderConfig`.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]
WireFormat = Literal["openai", "anthropic"]


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
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class CallRequest:
    """One model call: the provider's own model id, the messages, and the output budget."""

    provider: ProviderConfig
    api_model_id: str
    messages: tuple[ChatMessage, ...]
    max_output_tokens: int


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
