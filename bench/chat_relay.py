"""Benchmark the relay: what Panels adds between the provider and the browser, as ratios to a direct call.

A real Daphne serves Panels; the provider simulator answers with a fixed first-token latency and token
rate. "Direct" streams from the simulator with the SDK adapter in this process; "relay" sends the same
prompt through a websocket and times the frames that come back. Ratios near 1.0 mean the relay adds
little. Also prints the figures of one two-panel turn (tokens, credits, frames, bytes on the wire).

    DATABASE_URL=postgres://panels:panels@127.0.0.1:5432/panels REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/chat_relay.py [--streams 50] [--rounds 10]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")

import django

django.setup()

from django.db import connections  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from bench.stack import funded_users  # noqa: E402
from chat.providers.base import CallRequest, ChatMessage, Delta, ProviderConfig  # noqa: E402
from chat.providers.openai import OpenAIAdapter  # noqa: E402
from standins.providers import SimulatorThread  # noqa: E402
from standins.servers import DaphneServer, output_of  # noqa: E402

FIRST_TOKEN_MS = 200
TOKENS_PER_SECOND = 100
REPLY_TOKENS = 100


def percentile(values, fraction):
    """Return the value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def direct_call(simulator, prompt):
    """Stream once straight from the simulator; return (ttft, total) in ms."""
    config = ProviderConfig("Simulated", "openai", simulator.base_url_openai, "sim-key", max_retries=0)
    request = CallRequest(config, "gpt-4o-mini", (ChatMessage("user", prompt),), max_output_tokens=4096)
    started, first = time.perf_counter(), None
    async for event in OpenAIAdapter().stream(request, asyncio.Event()):
        if isinstance(event, Delta) and first is None:
            first = time.perf_counter()
    return (first - started) * 1000, (time.perf_counter() - started) * 1000


async def relay_call(server, cookie, prompt, models=("gpt-4o-mini",)):
    """Send one turn through Panels; return (ttft, total) in ms of its first reply, and all frames."""
    async with connect(f"{server.ws_url}/ws/chat/", origin=server.url, additional_headers={"Cookie": cookie}) as ws:
        request_id = str(uuid.uuid4())
        started, first = time.perf_counter(), None
        await ws.send(
            json.dumps(
                {
                    "type": "send",
                    "request_id": request_id,
                    "conversation_id": None,
                    "models": list(models),
                    "content": prompt,
                }
            )
        )
        frames, done, expected = [], 0, None
        while expected is None or done < expected:
            raw = await ws.recv()
            frame = json.loads(raw)
            frames.append((frame, len(raw)))
            if frame["type"] == "error":
                raise RuntimeError(frame["detail"])
            if frame["type"] == "turn.started":
                expected = len(frame["messages"])
            elif frame["type"] == "message.delta" and first is None:
                first = time.perf_counter()
            elif frame["type"] == "message.done":
                done += 1
        return (first - started) * 1000, (time.perf_counter() - started) * 1000, frames


def summary(name, direct, relay):
    """Print p50/p99 of direct and relayed times, and their ratio."""
    d50, r50 = statistics.median(direct), statistics.median(relay)
    d99, r99 = percentile(direct, 0.99), percentile(relay, 0.99)
    print(
        f"  {name:<18} direct p50 {d50:7.1f} ms p99 {d99:7.1f} | relay p50 {r50:7.1f} ms p99 {r99:7.1f} | "
        f"added p50 {r50 - d50:+6.1f} ms p99 {r99 - d99:+6.1f} | ratio p50 {r50 / d50:.3f}"
    )


async def measure(simulator, server, cookies, rounds, streams):
    """Run the sequential and concurrent comparisons and the two-panel turn."""
    prompt = "Benchmark prompt: describe a cup of tea."
    await direct_call(simulator, prompt)  # warm up both paths
    await relay_call(server, cookies[0], prompt)

    print(
        f"sequential, {rounds} calls each ({REPLY_TOKENS} tokens at {TOKENS_PER_SECOND} tok/s, "
        f"first token after {FIRST_TOKEN_MS} ms):"
    )
    direct = [await direct_call(simulator, prompt) for _ in range(rounds)]
    relay = [(await relay_call(server, cookies[0], prompt))[:2] for _ in range(rounds)]
    summary("time to first text", [d[0] for d in direct], [r[0] for r in relay])
    summary("total", [d[1] for d in direct], [r[1] for r in relay])

    print(f"\nconcurrent, {streams} streams at once (one Daphne process):")
    direct = await asyncio.gather(*(direct_call(simulator, prompt) for _ in range(streams)))
    relay = await asyncio.gather(*(relay_call(server, cookies[i % len(cookies)], prompt) for i in range(streams)))
    summary("time to first text", [d[0] for d in direct], [r[0] for r in relay])
    summary("total", [d[1] for d in direct], [r[1] for r in relay])

    print("\none two-panel turn (gpt-4o-mini + claude-3-5-haiku):")
    _, total, frames = await relay_call(server, cookies[0], prompt, models=("gpt-4o-mini", "claude-3-5-haiku"))
    for frame, _ in frames:
        if frame["type"] != "message.done":
            continue
        deltas = [
            (f, size) for f, size in frames if f["type"] == "message.delta" and f["message_id"] == frame["message_id"]
        ]
        text_bytes = sum(len(f["text"].encode()) for f, _ in deltas)
        wire_bytes = sum(size for _, size in deltas)
        seconds = (frame["streaming_ms"] or 0) / 1000 or 1  # first token to last, as the footer measures speed
        speed = max(frame["output_tokens"] - 1, 0) / seconds
        print(
            f"  message {frame['message_id']}: {frame['status']}, {frame['input_tokens']} in / "
            f"{frame['output_tokens']} out, {frame['credits']} credits, ttft {frame['ttft_ms']} ms, "
            f"{frame['duration_ms']} ms, {speed:.0f} tok/s, {len(deltas)} delta frames, "
            f"wire bytes / text bytes = {wire_bytes / text_bytes:.2f}"
        )
    print(f"  whole turn: {total:.0f} ms")


def main():
    """Set up a database, a simulator and Daphne; measure; tear down."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    options = parser.parse_args()

    old = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=[])
    simulator = SimulatorThread(
        reply_tokens=REPLY_TOKENS, tokens_per_second=TOKENS_PER_SECOND, first_token_ms=FIRST_TOKEN_MS
    ).start()
    server = None
    try:
        people = max(1, options.streams // 3 + 1)  # at most 3 turns in flight per person
        cookies = [account.cookie for account in funded_users(people, credits=10**9, prefix="bench")]
        url = simulator.base_url_openai
        server = DaphneServer(
            OPENAI_BASE_URL=url,
            ANTHROPIC_BASE_URL=simulator.base_url_anthropic,
            OPENAI_API_KEY="sim-key",
            ANTHROPIC_API_KEY="sim-key",
            LOG_LEVEL="WARNING",
        )
        print(
            f"database {connections['default'].vendor}, channel layer / reply log "
            f"{'Redis' if os.environ.get('REDIS_URL') else 'in-process'}\n"
        )
        asyncio.run(measure(simulator, server, cookies, options.rounds, options.streams))
    except Exception:
        if server:
            print(output_of(server.process)[-3000:])
        raise
    finally:
        if server:
            server.stop()
        simulator.stop()
        connections.close_all()
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
