"""The provider simulator, read byte by byte over raw HTTP: it must speak the wire formats the SDKs expect."""

import itertools
import json
import time

import httpx2
import pytest

from standins.providers import ProviderSimulator, SimulatorThread, count_tokens, input_tokens_for, reply_pieces

OPENAI_HEADERS = {"authorization": "Bearer any-key"}
ANTHROPIC_HEADERS = {"x-api-key": "any-key", "anthropic-version": "2023-06-01"}


def sse_events(body: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into (event name, data) pairs."""
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event"), fields["data"]))
    return events


async def post(url: str, headers: dict, body: dict) -> httpx2.Response:
    async with httpx2.AsyncClient() as client:
        return await client.post(url, headers=headers, json=body)


def test_token_count_is_one_per_word_or_punctuation_mark_plus_four_per_message():
    assert count_tokens("Hello, world!") == 4  # Hello , world !
    assert input_tokens_for(["Be brief.", "Hello, world!"]) == (3 + 4) + (4 + 4)


def test_reply_is_deterministic_per_model_and_prompt_and_says_it_is_simulated():
    reply = "".join(reply_pieces("model-a", "Hi there", 30))

    assert reply == "".join(reply_pieces("model-a", "Hi there", 30))
    assert reply != "".join(reply_pieces("model-a", "Hi here", 30))
    assert reply.startswith("[Simulated reply from model-a] ")
    assert "".join(reply_pieces("model-b", "Hi there", 30)).startswith("[Simulated reply from model-b] ")
    assert count_tokens(reply) == 30


async def test_openai_stream_sends_chunks_then_a_usage_chunk_then_done(simulator):
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello, world!"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = await post(f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, body)

    events = sse_events(response.text)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert all(name is None for name, _ in events)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == (3 + 4) + (4 + 4)
    assert chunks[-1]["usage"]["completion_tokens"] == count_tokens(text) == 40
    assert response.headers["x-request-id"] == simulator.records[-1].request_id


async def test_anthropic_stream_names_every_event_and_counts_cache_reads_apart(simulator):
    body = {
        "model": "m",
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello, world! [[sim:cached=5]]"}],
        "stream": True,
    }
    response = await post(f"{simulator.base_url_anthropic}/v1/messages", ANTHROPIC_HEADERS, body)

    events = [(name, json.loads(data)) for name, data in sse_events(response.text)]
    assert all(name == data["type"] for name, data in events)
    names = [name for name, _ in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    start, delta = events[0][1]["message"], events[-2][1]
    assert start["content"] == []
    # "Hello, world! [[sim:cached=5]]" is 4 + 9 pieces; the system prompt 3; plus 4 per message.
    assert start["usage"]["input_tokens"] + start["usage"]["cache_read_input_tokens"] == (3 + 4) + (13 + 4)
    assert start["usage"]["cache_read_input_tokens"] == 5
    text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    assert delta["usage"]["output_tokens"] == count_tokens(text) == 40
    assert delta["delta"]["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("path", "headers", "error_type"),
    [
        ("/v1/chat/completions", {"authorization": "Bearer sim-bad-key"}, "invalid_request_error"),
        ("/v1/messages", {"x-api-key": "sim-bad-key", "anthropic-version": "2023-06-01"}, "authentication_error"),
        ("/v1/messages", {"anthropic-version": "2023-06-01"}, "authentication_error"),
    ],
)
async def test_bad_or_missing_key_gets_a_401_in_the_format_error_shape(simulator, path, headers, error_type):
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    response = await post(simulator.base_url + path, headers, body)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == error_type


async def test_unknown_directive_is_rejected_so_a_typo_does_not_pass_silently(simulator):
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi [[sim:stauts=429]]"}]}
    response = await post(f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, body)

    assert response.status_code == 400
    assert "stauts" in response.json()["error"]["message"]


async def test_times_fails_only_the_first_identical_requests(simulator):
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi [[sim:status=503,times=2]]"}]}
    url = f"{simulator.base_url_openai}/chat/completions"

    statuses = [(await post(url, OPENAI_HEADERS, body)).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


async def test_cut_after_drops_the_connection_without_ending_the_body(simulator):
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi [[sim:cut_after=2]]"}], "stream": True}

    with pytest.raises(httpx2.RemoteProtocolError):
        await post(f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, body)
    await simulator.wait_until_idle()
    assert (simulator.records[-1].deltas_sent, simulator.records[-1].completed) == (2, False)


async def test_echo_replies_with_the_prompt_itself_minus_its_directives(simulator):
    prompt = "Say <b>this</b>\n\n- back [[sim:echo]] to me"
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}

    response = await post(f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, body)

    text = response.json()["choices"][0]["message"]["content"]
    assert text == "[Simulated reply from m]\n\nSay <b>this</b>\n\n- back  to me"
    assert response.json()["usage"]["completion_tokens"] == count_tokens(text)


async def test_non_streaming_replies_carry_the_same_text_and_usage(simulator):
    messages = [{"role": "user", "content": "Hi"}]
    openai = await post(
        f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, {"model": "m", "messages": messages}
    )
    anthropic = await post(
        f"{simulator.base_url_anthropic}/v1/messages",
        ANTHROPIC_HEADERS,
        {"model": "m", "max_tokens": 99, "messages": messages},
    )

    expected = "".join(reply_pieces("m", "Hi", 40))
    assert openai.json()["choices"][0]["message"]["content"] == expected
    assert openai.json()["usage"]["completion_tokens"] == 40
    assert anthropic.json()["content"] == [{"type": "text", "text": expected}]
    assert anthropic.json()["usage"]["output_tokens"] == 40


async def test_speed_and_first_token_latency_pace_the_stream(simulator):
    simulator.tokens_per_second, simulator.first_token_ms = 100, 200
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi [[sim:tokens=20]]"}], "stream": True}

    started = time.monotonic()
    await post(f"{simulator.base_url_openai}/chat/completions", OPENAI_HEADERS, body)

    assert time.monotonic() - started >= 0.2 + 20 / 100


async def test_delay_and_pause_stall_the_stream_then_let_it_finish(simulator):
    """A slow first token and a long silence mid-reply: the stream still ends with its usage."""
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "Hi [[sim:tokens=20,delay=1,pause_after=3,pause=1]]"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with httpx2.AsyncClient() as client:
        started = time.monotonic()
        async with client.stream(
            "POST", f"{simulator.base_url_openai}/chat/completions", headers=OPENAI_HEADERS, json=body
        ) as response:
            arrivals = []
            async for line in response.aiter_lines():
                chunk = json.loads(line.removeprefix("data: ")) if line.startswith("data: {") else {}
                if any(choice["delta"].get("content") for choice in chunk.get("choices", [])):
                    arrivals.append(time.monotonic() - started)
    assert arrivals[0] >= 1.0  # the delay came before the first token
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert max(gaps) >= 1.0  # one silence of a second mid-reply
    assert simulator.records[-1].completed and simulator.records[-1].output_tokens == 20


async def test_each_response_closes_its_connection_unless_kept_alive(simulator):
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    async with ProviderSimulator(reply_tokens=10, keep_alive=True) as kept_alive:
        for sim in (simulator, kept_alive):
            async with httpx2.AsyncClient() as client:
                for _ in range(3):
                    response = await client.post(
                        f"{sim.base_url_openai}/chat/completions", headers=OPENAI_HEADERS, json=body
                    )
                    assert response.status_code == 200

        assert [record.connection for record in simulator.records] == [1, 2, 3]
        assert [record.connection for record in kept_alive.records] == [1, 1, 1]
        assert all(record.completed for record in simulator.records + kept_alive.records)


def test_simulator_runs_in_a_background_thread_for_sync_code():
    with SimulatorThread(reply_tokens=10) as sim:
        response = httpx2.get(f"{sim.base_url_anthropic}/v1/models", headers=ANTHROPIC_HEADERS)
        sim.wait_until_idle()

        assert response.status_code == 200
        assert response.json()["data"][0]["type"] == "model"
        assert sim.records[-1].path == "/v1/models"
