"""Chat fixtures: requests aimed at the provider simulator (tests/conftest.py), and a way to run an adapter."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from chat.providers.base import CallRequest, ChatMessage, Delta, Finished, ProviderAdapter, ProviderConfig, Usage
from chat.providers.errors import ProviderError

TEST_KEY = "test-key-7f3a9c"  # distinctive, so a leak is easy to spot


def request_factory(wire_format: str, base_url: str) -> Callable[..., CallRequest]:
    def make(*messages: str | ChatMessage, max_output_tokens: int = 500, **config: object) -> CallRequest:
        """Return a call; a plain string is a user message; `config` overrides the provider's settings."""
        defaults = {"name": "Simulated", "wire_format": wire_format, "base_url": base_url, "api_key": TEST_KEY}
        provider = ProviderConfig(**{**defaults, "timeout_seconds": 5.0, "max_retries": 0, **config})
        return CallRequest(
            provider=provider,
            api_model_id="sim-model-1",
            messages=tuple(m if isinstance(m, ChatMessage) else ChatMessage("user", m) for m in messages),
            max_output_tokens=max_output_tokens,
        )

    return make


@pytest.fixture
def openai_request(simulator):
    return request_factory("openai", simulator.base_url_openai)


@pytest.fixture
def anthropic_request(simulator):
    return request_factory("anthropic", simulator.base_url_anthropic)


@dataclass
class Outcome:
    """Everything one adapter call produced, in order."""

    deltas: list[str] = field(default_factory=list)
    usage: Usage | None = None
    error: ProviderError | None = None
    events_after_cancel: int = 0
    seconds_to_stop: float | None = None  # from setting the cancel event to the end of the stream

    @property
    def text(self) -> str:
        return "".join(self.deltas)


async def run_stream(
    adapter: ProviderAdapter, request: CallRequest, *, cancel_after_deltas: int | None = None
) -> Outcome:
    """Run an adapter to its end; after some deltas, set the cancel event as a person's Stop would.

    Stop comes from another task while the adapter waits for the provider, 50 ms after the last delta.
    """
    outcome, cancel = Outcome(), asyncio.Event()
    cancelled_at = None

    def press_stop() -> None:
        nonlocal cancelled_at
        cancelled_at = time.monotonic()
        cancel.set()

    try:
        async for event in adapter.stream(request, cancel):
            if cancel.is_set():
                outcome.events_after_cancel += 1
            if isinstance(event, Delta):
                outcome.deltas.append(event.text)
                if len(outcome.deltas) == cancel_after_deltas:
                    asyncio.get_running_loop().call_later(0.05, press_stop)
            elif isinstance(event, Finished):
                assert outcome.usage is None, "a second Finished"
                outcome.usage = event.usage
    except ProviderError as error:
        outcome.error = error
    if cancelled_at is not None:
        outcome.seconds_to_stop = time.monotonic() - cancelled_at
    return outcome


@pytest.fixture
def stream():
    """Return `run_stream`, to run an adapter and collect what it yields."""
    return run_stream
