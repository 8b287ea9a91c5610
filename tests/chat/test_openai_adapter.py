"""The OpenAI-format adapter, through the real `openai` SDK, against the simulator over real HTTP."""

import time
import traceback

import pytest

from chat.providers.base import ChatMessage
from chat.providers.errors import (
    BadKey,
    ConnectionDropped,
    ContentRefused,
    ConversationTooLong,
    Overloaded,
    ProviderFailed,
    ProviderTimeout,
    RateLimited,
)
from chat.providers.openai import OpenAIAdapter
from standins.servers import free_port

adapter = OpenAIAdapter()


async def test_reply_arrives_in_order_as_the_simulator_sent_it(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Tell me a story."))

    record = simulator.records[-1]
    assert outcome.error is None
    assert len(outcome.deltas) == record.deltas_sent > 1
    assert outcome.text == record.text_sent
    assert outcome.text.startswith("[Simulated reply from sim-model-1]")


async def test_usage_is_exactly_what_the_simulator_reported(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Tell me a story."))

    record = simulator.records[-1]
    assert outcome.usage.input_tokens == record.input_tokens
    assert outcome.usage.output_tokens == record.output_tokens == 40
    assert outcome.usage.cached_input_tokens == record.cached_input_tokens == 0
    assert outcome.usage.finish_reason == record.finish_reason == "stop"
    assert outcome.usage.provider_request_id == record.request_id


async def test_cached_tokens_come_from_prompt_tokens_details(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("A long shared prefix. [[sim:cached=6]]"))

    record = simulator.records[-1]
    assert outcome.usage.cached_input_tokens == record.cached_input_tokens == 6
    assert outcome.usage.input_tokens == record.input_tokens  # cached tokens included, as OpenAI counts them


async def test_system_prompt_and_history_are_sent_in_order_with_their_roles(simulator, openai_request, stream):
    history = (
        ChatMessage("system", "Answer briefly."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "How are you?"),
    )
    outcome = await stream(adapter, openai_request(*history))

    assert outcome.usage is not None
    assert simulator.records[-1].messages == [(m.role, m.content) for m in history]


async def test_max_output_tokens_caps_the_reply_with_finish_reason_length(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Go on.", max_output_tokens=12))

    record = simulator.records[-1]
    assert outcome.usage.output_tokens == record.output_tokens == 12
    assert outcome.usage.finish_reason == "length"
    assert outcome.text == record.text_sent


@pytest.mark.parametrize(
    ("directive", "error_class"),
    [
        ("[[sim:status=500]]", Overloaded),
        ("[[sim:status=503]]", Overloaded),
        ("[[sim:status=529]]", Overloaded),
        ("[[sim:context_too_long]]", ConversationTooLong),
        ("[[sim:status=404]]", ProviderFailed),
    ],
)
async def test_refused_request_raises_typed_error_before_any_text(
    simulator, openai_request, stream, directive, error_class
):
    outcome = await stream(adapter, openai_request(f"Hello {directive}"))

    assert type(outcome.error) is error_class
    assert outcome.deltas == []
    assert outcome.usage is None


async def test_rate_limit_raises_rate_limited_with_retry_after(openai_request, stream):
    outcome = await stream(adapter, openai_request("Hello [[sim:status=429,retry_after=7]]"))

    assert isinstance(outcome.error, RateLimited)
    assert outcome.error.code == "rate_limited"
    assert outcome.error.retry_after_seconds == 7


async def test_rate_limit_is_retried_by_the_sdk_when_retries_are_allowed(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Hello [[sim:status=429,times=1]]", max_retries=1))

    assert outcome.error is None
    assert [record.status for record in simulator.records] == [429, 200]
    assert outcome.usage.output_tokens == simulator.records[-1].output_tokens


async def test_bad_key_raises_bad_key_without_the_key_anywhere(simulator, openai_request, stream):
    request = openai_request("Hello", api_key="sim-bad-key")
    outcome = await stream(adapter, request)

    assert isinstance(outcome.error, BadKey)
    assert simulator.records[-1].status == 401
    # The simulator echoes the key in its message, as OpenAI does; none of it may reach a person or a log.
    printed = [outcome.error.detail, str(outcome.error), repr(outcome.error), repr(request.provider), repr(request)]
    printed.append("".join(traceback.format_exception(outcome.error)))
    assert not [text for text in printed if "sim-bad-key" in text]


async def test_refusal_raises_content_refused_after_partial_text(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Something dubious [[sim:refuse]]"))

    record = simulator.records[-1]
    assert isinstance(outcome.error, ContentRefused)
    assert outcome.text == record.text_sent != ""
    assert outcome.error.usage.output_tokens == record.output_tokens  # billed even though refused
    assert outcome.error.usage.finish_reason == "content_filter"


async def test_cut_stream_raises_connection_dropped_after_partial_text(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Hello [[sim:cut_after=5]]"))

    assert isinstance(outcome.error, ConnectionDropped)
    assert len(outcome.deltas) == 5
    assert outcome.text == simulator.records[-1].text_sent


async def test_in_stream_error_raises_overloaded_after_partial_text(simulator, openai_request, stream):
    outcome = await stream(adapter, openai_request("Hello [[sim:error_after=2]]"))

    assert isinstance(outcome.error, Overloaded)
    assert len(outcome.deltas) == 2


async def test_stalled_stream_raises_timeout_after_partial_text(simulator, openai_request, stream):
    started = time.monotonic()
    outcome = await stream(adapter, openai_request("Hello [[sim:stall_after=3]]", timeout_seconds=0.3))

    assert isinstance(outcome.error, ProviderTimeout)
    assert outcome.error.code == "timeout"
    assert len(outcome.deltas) == 3
    assert time.monotonic() - started < 3


async def test_unreachable_provider_raises_provider_failed(openai_request, stream):
    outcome = await stream(adapter, openai_request("Hello", base_url=f"http://127.0.0.1:{free_port()}/v1"))

    assert isinstance(outcome.error, ProviderFailed)
    assert outcome.deltas == []


async def test_cancel_mid_stream_stops_at_once_and_closes_the_upstream_connection(simulator, openai_request, stream):
    simulator.tokens_per_second = 2  # the next delta is at least 0.5 s away when the first arrives
    outcome = await stream(adapter, openai_request("Tell me a story."), cancel_after_deltas=1)
    await simulator.wait_until_idle()

    record = simulator.records[-1]
    assert (len(outcome.deltas), outcome.events_after_cancel, outcome.usage, outcome.error) == (1, 0, None, None)
    assert outcome.seconds_to_stop < 0.3  # did not wait for the next delta
    assert record.client_disconnected
    assert (record.deltas_sent, record.completed) == (1, False)
