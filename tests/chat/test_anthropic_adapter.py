"""The Anthropic-format adapter, through the real `anthropic` SDK, against the simulator over real HTTP."""

import asyncio
import time
import traceback

import pytest

from chat.providers.anthropic import AnthropicAdapter
from chat.providers.base import ChatMessage
from chat.providers.errors import (
    BadKey,
    ConnectionDropped,
    ContentRefused,
    ConversationTooLong,
    Overloaded,
    ProviderTimeout,
    RateLimited,
)

adapter = AnthropicAdapter()


async def test_reply_arrives_in_order_as_the_simulator_sent_it(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Tell me a story."))

    record = simulator.records[-1]
    assert outcome.error is None
    assert len(outcome.deltas) == record.deltas_sent > 1
    assert outcome.text == record.text_sent
    assert outcome.text.startswith("[Simulated reply from sim-model-1]")


async def test_usage_is_exactly_what_the_simulator_reported(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Tell me a story."))

    record = simulator.records[-1]
    assert outcome.usage.input_tokens == record.input_tokens
    # message_start says 1 and message_delta says the cumulative total: the total is not their sum.
    assert outcome.usage.output_tokens == record.output_tokens == 40
    assert outcome.usage.finish_reason == record.finish_reason == "end_turn"
    assert outcome.usage.provider_request_id == record.request_id


async def test_cache_reads_count_as_cached_input_and_within_input_tokens(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("A long shared prefix. [[sim:cached=6]]"))

    record = simulator.records[-1]
    assert outcome.usage.cached_input_tokens == record.cached_input_tokens == 6
    # Anthropic reports cache reads apart from input_tokens; the adapter adds them back, as OpenAI counts.
    assert outcome.usage.input_tokens == record.input_tokens


async def test_system_messages_go_to_the_system_parameter(simulator, anthropic_request, stream):
    outcome = await stream(
        adapter,
        anthropic_request(ChatMessage("system", "Answer briefly."), "Hi", ChatMessage("system", "Be kind.")),
    )

    record = simulator.records[-1]
    assert outcome.usage is not None
    assert record.system == "Answer briefly.\n\nBe kind."
    assert record.messages == [("user", "Hi")]


async def test_consecutive_same_role_messages_are_merged_so_roles_alternate(simulator, anthropic_request, stream):
    history = (
        ChatMessage("user", "First question"),
        ChatMessage("user", "Second question"),
        ChatMessage("assistant", "An answer"),
        ChatMessage("assistant", ""),  # a reply stopped before its first word
        ChatMessage("assistant", "Another answer"),
        ChatMessage("user", "Thanks"),
    )
    outcome = await stream(adapter, anthropic_request(*history))

    assert outcome.error is None
    assert simulator.records[-1].messages == [
        ("user", "First question\n\nSecond question"),
        ("assistant", "An answer\n\nAnother answer"),
        ("user", "Thanks"),
    ]


async def test_max_output_tokens_caps_the_reply_with_stop_reason_max_tokens(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Go on.", max_output_tokens=12))

    record = simulator.records[-1]
    assert outcome.usage.output_tokens == record.output_tokens == 12
    assert outcome.usage.finish_reason == "max_tokens"


@pytest.mark.parametrize(
    ("directive", "error_class"),
    [
        ("[[sim:status=500]]", Overloaded),
        ("[[sim:status=529]]", Overloaded),
        ("[[sim:context_too_long]]", ConversationTooLong),
    ],
)
async def test_refused_request_raises_typed_error_before_any_text(anthropic_request, stream, directive, error_class):
    outcome = await stream(adapter, anthropic_request(f"Hello {directive}"))

    assert type(outcome.error) is error_class
    assert (outcome.deltas, outcome.usage) == ([], None)


async def test_rate_limit_raises_rate_limited_with_retry_after(anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Hello [[sim:status=429,retry_after=7]]"))

    assert isinstance(outcome.error, RateLimited)
    assert outcome.error.retry_after_seconds == 7


async def test_bad_key_raises_bad_key_without_the_key_anywhere(simulator, anthropic_request, stream):
    request = anthropic_request("Hello", api_key="sim-bad-key")
    outcome = await stream(adapter, request)

    assert isinstance(outcome.error, BadKey)
    assert outcome.error.code == "bad_key"
    assert simulator.records[-1].status == 401
    printed = [outcome.error.detail, repr(outcome.error), repr(request.provider), repr(request)]
    printed.append("".join(traceback.format_exception(outcome.error)))
    assert not [text for text in printed if "sim-bad-key" in text]


async def test_refusal_raises_content_refused_after_partial_text(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Something dubious [[sim:refuse]]"))

    record = simulator.records[-1]
    assert isinstance(outcome.error, ContentRefused)
    assert outcome.text == record.text_sent != ""
    assert outcome.error.usage.output_tokens == record.output_tokens
    assert outcome.error.usage.finish_reason == "refusal"


async def test_cut_stream_raises_connection_dropped_after_partial_text(simulator, anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Hello [[sim:cut_after=5]]"))

    assert isinstance(outcome.error, ConnectionDropped)
    assert len(outcome.deltas) == 5
    assert outcome.text == simulator.records[-1].text_sent


async def test_overloaded_error_event_mid_stream_raises_overloaded_after_partial_text(anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Hello [[sim:error_after=2]]"))

    assert isinstance(outcome.error, Overloaded)
    assert len(outcome.deltas) == 2


async def test_stalled_stream_raises_timeout_after_partial_text(anthropic_request, stream):
    outcome = await stream(adapter, anthropic_request("Hello [[sim:stall_after=3]]", timeout_seconds=0.3))

    assert isinstance(outcome.error, ProviderTimeout)
    assert len(outcome.deltas) == 3


async def test_cancel_mid_stream_stops_at_once_and_closes_the_upstream_connection(simulator, anthropic_request, stream):
    simulator.tokens_per_second = 2  # the next delta is at least 0.5 s away when the first arrives
    outcome = await stream(adapter, anthropic_request("Tell me a story."), cancel_after_deltas=1)
    await simulator.wait_until_idle()

    record = simulator.records[-1]
    assert (len(outcome.deltas), outcome.events_after_cancel, outcome.usage, outcome.error) == (1, 0, None, None)
    assert outcome.seconds_to_stop < 0.3  # did not wait for the next delta
    assert record.client_disconnected
    assert (record.deltas_sent, record.completed) == (1, False)


async def test_cancel_before_the_first_token_stops_at_once(simulator, anthropic_request):
    simulator.first_token_ms = 2000
    cancel, stopped_at = asyncio.Event(), []

    async def press_stop_once_the_provider_has_the_request():
        while not simulator.records:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        cancel.set()
        stopped_at.append(time.monotonic())

    stopper = asyncio.create_task(press_stop_once_the_provider_has_the_request())
    events = [event async for event in adapter.stream(anthropic_request("Hello"), cancel)]
    seconds_to_stop = time.monotonic() - stopped_at[0]
    await stopper
    await simulator.wait_until_idle()

    assert events == []
    assert seconds_to_stop < 0.3
    assert simulator.records[-1].client_disconnected
