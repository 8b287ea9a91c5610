"""One SDK client per provider and event loop: calls reuse its connections, and a changed key gets a new one."""

import asyncio
from dataclasses import replace

import pytest

from chat.providers import clients
from chat.providers.anthropic import AnthropicAdapter
from chat.providers.base import ProviderConfig
from chat.providers.clients import client_for
from chat.providers.openai import OpenAIAdapter
from standins.providers import ProviderSimulator

PROVIDER = ProviderConfig(name="Simulated", wire_format="openai", base_url="http://127.0.0.1:9/v1", api_key="key-1")


class RecordingClient:
    """Stands in for an SDK client: remembers what it was built for and whether it was closed."""

    def __init__(self, provider: ProviderConfig):
        self.provider = provider
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def borrow(provider: ProviderConfig = PROVIDER) -> RecordingClient:
    async with client_for(provider, RecordingClient) as client:
        return client


@pytest.fixture
async def simulator():
    """Keep a connection open between requests, as a real provider does (the requests' fixtures aim here)."""
    async with ProviderSimulator(reply_tokens=40, keep_alive=True) as sim:
        yield sim


ADAPTERS = pytest.mark.parametrize(
    ("adapter", "wire_format"), [(OpenAIAdapter(), "openai"), (AnthropicAdapter(), "anthropic")]
)


async def test_calls_to_one_provider_on_one_loop_share_one_client_and_leave_it_open():
    first, second = await borrow(), await borrow()

    assert first is second
    assert not first.closed


@pytest.mark.parametrize(
    "change", [{"api_key": "key-2"}, {"base_url": "http://127.0.0.1:10/v1"}, {"timeout_seconds": 5.0}]
)
async def test_a_changed_key_address_or_timeout_gets_a_new_client_and_the_idle_old_one_is_closed(change):
    old = await borrow()
    new = await borrow(replace(PROVIDER, **change))

    assert new is not old
    assert (old.closed, new.closed) == (True, False)
    assert await borrow(new.provider) is new


async def test_a_client_replaced_during_a_call_closes_when_that_call_ends():
    async with client_for(PROVIDER, RecordingClient) as old:
        new = await borrow(replace(PROVIDER, api_key="key-2"))
        assert not old.closed  # the call still reads through it

    assert (old.closed, new.closed) == (True, False)


async def test_other_providers_get_clients_of_their_own():
    other = replace(PROVIDER, name="Another")

    assert await borrow(other) is not await borrow()


def test_each_event_loop_has_its_own_clients_closed_when_the_loop_ends():
    first, second = asyncio.run(borrow()), asyncio.run(borrow())

    assert first is not second
    assert first.closed and second.closed
    assert not [loop for loop in clients._loops if loop.is_closed()]  # nothing kept for a finished loop


@ADAPTERS
async def test_sequential_calls_reuse_one_connection_and_a_new_key_opens_another(
    simulator, stream, request, adapter, wire_format
):
    make = request.getfixturevalue(f"{wire_format}_request")

    outcomes = [await stream(adapter, make("Hello")) for _ in range(2)]
    outcomes.append(await stream(adapter, make("Hello", api_key="rotated-key")))

    assert [outcome.error for outcome in outcomes] == [None, None, None]
    assert [record.completed for record in simulator.records] == [True, True, True]
    assert [record.connection for record in simulator.records] == [1, 1, 2]
    assert simulator.connections_accepted == 2


@ADAPTERS
async def test_a_cancelled_stream_closes_its_connection_and_the_next_call_opens_a_fresh_one(
    simulator, stream, request, adapter, wire_format
):
    make = request.getfixturevalue(f"{wire_format}_request")
    simulator.tokens_per_second = 2  # the next delta is at least 0.5 s away when the first arrives
    stopped = await stream(adapter, make("Tell me a story."), cancel_after_deltas=1)
    simulator.tokens_per_second = 0

    after = await stream(adapter, make("Hello"))

    cancelled, next_call = simulator.records
    assert (len(stopped.deltas), stopped.error, stopped.seconds_to_stop < 0.3) == (1, None, True)
    assert (cancelled.client_disconnected, cancelled.completed) == (True, False)
    assert (after.error, next_call.completed) == (None, True)
    assert (cancelled.connection, next_call.connection) == (1, 2)  # the half-read connection was not reused
