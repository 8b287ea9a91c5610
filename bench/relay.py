"""Measure what relaying a chat stream adds, side by side with LiteLLM's proxy, at 1 to 1,000 streams at once.

Four ways to the same provider stand-in (the simulator, by default 25 tokens 20 ms apart after a 20 ms first
token):
- direct: the `openai` SDK (one AsyncOpenAI client, reused) straight to the simulator;
- LiteLLM: the same SDK through LiteLLM's proxy (`litellm[proxy]`, one worker, offline, a master key), run from
  a virtualenv of the benchmark's own (`bench/.litellm-venv`, made on first use) so it never enters
  requirements.txt;
- Panels socket: one Daphne process (PostgreSQL, Redis, DEBUG off; bench/stack.py), one socket and one funded
  user per concurrent stream, each sending a `send` frame and reading to its `message.done`;
- Panels /v1: the same Daphne process through its OpenAI-compatible API, with the same SDK client as LiteLLM
  (`sdk_client`: one connection pool, a connection per concurrent stream) and one funded user and API key per
  concurrent stream (a copy of the client per key, sharing the pool), so it and LiteLLM compare request for
  request.

Every SDK way sends the very same request: the model, the prompt, `stream=True` and
`stream_options={"include_usage": true}`; a stream that ends without its usage chunk counts as failed.

Each round runs the ways in turn at every concurrency, so a slow minute of the machine hits all of them. Per
round and way: p50 and p95 of the time from the request (or `send`) to the first text (first content chunk,
first `message.delta`) and to the end (end of stream, `message.done`); what a relay adds is its figure minus
direct's of the same round, and the table shows the median over rounds. Also: server CPU per stream (user +
system time of the Daphne or LiteLLM process tree from /proc, before and after the way's turn in the round) and
bytes on the wire per reply per byte of reply text: response bodies for the SSE ways (direct, LiteLLM, Panels
/v1), and for the socket every byte it read off TCP from `send` to `message.done` (websocket framing included,
compressed with permessage-deflate as a browser's socket is).

    .venv/bin/python bench/relay.py --streams 1,50,200,1000 --rounds 3 [--write-docs]
    .venv/bin/python bench/relay.py --panels http --streams 1,50,200 --rounds 3 --write-docs
    .venv/bin/python bench/relay.py --smoke     # a few streams, one round, LiteLLM only if its venv exists
    .venv/bin/python bench/relay.py --smoke --no-litellm --reply-tokens 100 --tokens-per-second 100

`--panels socket` or `--panels http` measures one of Panels' ways (both by default). `--write-docs` replaces,
for each Panels way measured, its marked section of docs/benchmarks.md with its table (direct, LiteLLM and that
way) and draws its plot, docs/relay_latency.png or docs/relay_http_latency.png (matplotlib, from the LiteLLM
venv); a way not measured keeps its section. The database is created on the PostgreSQL server of DATABASE_URL
(default postgres://panels:panels@127.0.0.1:5432/panels; the role needs CREATEDB) and dropped.
"""

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from openai import AsyncOpenAI, DefaultAsyncHttpxClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import (
    ManagedProcess,
    Stack,
    StackOptions,
    api_key_secrets,
    funded_users,
    open_socket,
    raise_file_limit,
    use_database_here,
)
from standins.servers import ROOT, answers, free_port

LITELLM_VERSION = "1.108.7"
MATPLOTLIB_VERSION = "3.11.2"
VENV = ROOT / "bench" / ".litellm-venv"
DOCS = ROOT / "docs" / "benchmarks.md"
MODEL = "gpt-4o-mini"
PROMPT = "Benchmark prompt: describe a cup of tea."
REPLY_TOKENS = 25
TOKENS_PER_SECOND = 50  # 20 ms a token
FIRST_TOKEN_MS = 20
MIN_SAMPLES = 20  # streams per way and round: below 20 at once, each client streams several times in turn
CONNECTS_AT_ONCE = 50  # Daphne's listen backlog is 50
STREAM_TIMEOUT = 600
SETTLE_SECONDS = 0.5  # after a way's streams, before reading CPU: the server's trailing work (settling) counts
WAYS = ("direct", "litellm", "panels", "panels-http")
LABELS = {"direct": "direct", "litellm": "LiteLLM", "panels": "Panels socket", "panels-http": "Panels /v1"}
PANELS_WAYS = {"socket": ("panels",), "http": ("panels-http",), "both": ("panels", "panels-http")}
# One key per concurrent stream keeps each key far below its limits (a call in flight, a few hundred a minute);
# raised anyway, so that a key's limit is never what the benchmark measures.
API_LIMITS = {"API_REQUESTS_PER_MINUTE": "1000000", "API_MAX_CALLS_IN_FLIGHT": "100000"}


@dataclass(frozen=True)
class Section:
    """A Panels way's part of docs/benchmarks.md: between its markers, its table; beside it, its plot."""

    start: str
    end: str
    plot: Path


SECTIONS = {
    "panels": Section("<!-- relay.py:start -->", "<!-- relay.py:end -->", ROOT / "docs" / "relay_latency.png"),
    "panels-http": Section(
        "<!-- relay.py http:start -->", "<!-- relay.py http:end -->", ROOT / "docs" / "relay_http_latency.png"
    ),
}


@dataclass
class Sample:
    """One stream: milliseconds to the first text and to the end, bytes on the wire and of the text."""

    first_ms: float
    done_ms: float
    wire_bytes: int
    text_bytes: int


@dataclass
class Turn:
    """One way's streams at one concurrency in one round, with the server CPU they cost."""

    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu_seconds: float | None = None

    def percentile(self, name: str, fraction: float) -> float:
        ordered = sorted(getattr(s, name) for s in self.samples)
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


class LiteLLMProxy(ManagedProcess):
    """LiteLLM's proxy from the benchmark's venv: one worker, offline, one model pointed at the simulator."""

    name = "litellm"
    master_key = "sk-relay-bench"

    def __init__(self, logs: Path, simulator_url: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = logs / "litellm.yaml"
        self.config.write_text(
            json.dumps(  # JSON is YAML
                {
                    "model_list": [
                        {
                            "model_name": MODEL,
                            "litellm_params": {"model": f"openai/{MODEL}", "api_base": simulator_url, "api_key": "sim"},
                        }
                    ],
                    "general_settings": {"master_key": self.master_key},
                },
                indent=2,
            )
        )
        env = {  # not this process's environment: LiteLLM would take DATABASE_URL and REDIS_URL for its own
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(logs),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY_DISABLED": "true",
            "LITELLM_MASTER_KEY": self.master_key,
            "LITELLM_LOG": "ERROR",
            "PYTHONUNBUFFERED": "1",
        }
        super().__init__(logs, env)

    def command(self) -> list[str]:
        litellm = str(VENV / "bin" / "litellm")
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        return [litellm, "--config", str(self.config), *address, "--num_workers", "1"]

    def ready(self) -> bool:
        return answers(f"{self.url}/health/liveliness")


def venv_python() -> Path:
    """Return the Python of the benchmark's venv."""
    return VENV / "bin" / "python"


def litellm_installed() -> bool:
    """Return whether the benchmark's venv has LiteLLM's proxy."""
    return (VENV / "bin" / "litellm").exists()


def install_litellm() -> None:
    """Make the benchmark's venv with LiteLLM's proxy and matplotlib, unless it is there."""
    if litellm_installed():
        return
    print(f"installing litellm[proxy]=={LITELLM_VERSION} into {VENV} (once)", flush=True)
    subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)  # noqa: S603, S607 (the system's Python)
    subprocess.run(  # noqa: S603 (our own command line)
        [
            str(venv_python()),
            "-m",
            "pip",
            "install",
            "-q",
            f"litellm[proxy]=={LITELLM_VERSION}",
            f"matplotlib=={MATPLOTLIB_VERSION}",
        ],
        check=True,
    )


async def openai_stream(client: AsyncOpenAI) -> Sample:
    """Stream one reply through `client` with its usage; time the first content chunk and the end of the stream."""
    started = time.perf_counter()
    first, text, usage = None, [], None
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if chunk.choices and chunk.choices[0].delta.content:
            if first is None:
                first = time.perf_counter()
            text.append(chunk.choices[0].delta.content)
    done = time.perf_counter()
    if first is None:
        raise RuntimeError("no text")
    if usage is None:
        raise RuntimeError("no usage chunk")
    body = stream.response.num_bytes_downloaded
    return Sample((first - started) * 1000, (done - started) * 1000, body, len("".join(text).encode()))


class PanelsClient:
    """One user's socket to Panels, opened once and reused for every stream of this concurrency."""

    def __init__(self, daphne, account):
        self.daphne, self.account = daphne, account
        self.ws = None

    async def open(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            self.ws = await open_socket(self.daphne, self.account, max_queue=None)

    async def stream(self) -> Sample:
        """Send one turn to one model and read to its `message.done`."""
        request_id = str(uuid.uuid4())
        frame = {"type": "send", "request_id": request_id, "conversation_id": None, "models": [MODEL]}
        started = time.perf_counter()
        await self.ws.send(json.dumps({**frame, "content": PROMPT}))
        message_id, first, text = None, None, []
        received_before = self.ws.bytes_received
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "error":
                raise RuntimeError(f"{frame.get('code')}: {frame.get('detail')}")
            if kind == "turn.started" and frame["request_id"] == request_id:
                message_id = frame["messages"][0]["message_id"]
            if message_id is None:
                continue  # the previous turn's last wallet frame
            if kind == "message.delta" and frame["message_id"] == message_id:
                if first is None:
                    first = time.perf_counter()
                text.append(frame["text"])
            elif kind == "message.done" and frame["message_id"] == message_id:
                done = time.perf_counter()
                if frame["status"] != "complete" or first is None:
                    raise RuntimeError(f"reply ended {frame['status']}: {frame.get('error')}")
                wire = self.ws.bytes_received - received_before
                return Sample((first - started) * 1000, (done - started) * 1000, wire, len("".join(text).encode()))
        raise RuntimeError(f"socket closed ({self.ws.close_code}) before message.done")


def sdk_client(base_url: str, api_key: str, streams: int) -> AsyncOpenAI:
    """Return an SDK client that keeps a connection per concurrent stream, as Panels' sockets stay open.

    The SDK's defaults keep 100 idle connections and give up connecting after 5 s: at 1,000 streams every
    round would open 900 connections again, and a burst of them overflows the simulator's listen backlog.
    """
    limits = httpx2.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    http_client = DefaultAsyncHttpxClient(limits=limits, timeout=httpx2.Timeout(STREAM_TIMEOUT, connect=60))
    return AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, http_client=http_client)


async def run_turn(stream_once, clients: list, server: ManagedProcess | None, samples: int) -> Turn:
    """Have every client stream `samples / len(clients)` times in turn (at least once), all at once."""
    turn = Turn()
    repeats = max(1, math.ceil(samples / len(clients)))

    async def one_client(client) -> None:
        for _ in range(repeats):
            try:
                turn.samples.append(await asyncio.wait_for(stream_once(client), STREAM_TIMEOUT))
            except Exception as error:  # a failed stream is counted and shown, never averaged in
                turn.failures.append(f"{type(error).__name__}: {error}")

    before = server.cpu_seconds() if server else None
    await asyncio.gather(*(one_client(client) for client in clients))
    await asyncio.sleep(SETTLE_SECONDS)
    if server is not None:
        turn.cpu_seconds = server.cpu_seconds() - before
    return turn


async def measure(
    stack: Stack,
    litellm: LiteLLMProxy | None,
    accounts: list,
    secrets: list[str],
    panels_ways: tuple[str, ...],
    counts: list[int],
    rounds: int,
    samples: int,
) -> dict:
    """Run the rounds; return {count: {way: [Turn per round]}}.

    `accounts` and `secrets` (their API keys) give each concurrent stream a user of its own on either Panels way.
    """
    daphne = stack.daphnes[0]
    results: dict[int, dict[str, list[Turn]]] = {}
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    for count in counts:
        direct_client = sdk_client(stack.simulator.base_url_openai, "sim-key", count)
        proxy_client = sdk_client(f"{litellm.url}/v1", litellm.master_key, count) if litellm else None
        api_client = sdk_client(f"{daphne.url}/v1", "none", count) if "panels-http" in panels_ways else None
        sockets = [PanelsClient(daphne, account) for account in accounts[:count]] if "panels" in panels_ways else []
        await asyncio.gather(*(s.open(gate) for s in sockets))
        # Each way: how one client streams once, its clients (one per concurrent stream), the server it costs.
        ways = {"direct": (openai_stream, [direct_client] * count, None)}
        if proxy_client:
            ways["litellm"] = (openai_stream, [proxy_client] * count, litellm)
        if sockets:
            ways["panels"] = (PanelsClient.stream, sockets, daphne)
        if api_client:
            ways["panels-http"] = (openai_stream, [api_client.with_options(api_key=s) for s in secrets[:count]], daphne)
        # Warm each way up untimed: the SDK clients open their `count` connections as the sockets are open.
        for way, (stream_once, clients, _) in ways.items():
            if way == "panels":
                await sockets[0].stream()
            else:
                await run_turn(stream_once, clients, None, samples)
        results[count] = {way: [] for way in ways}
        for number in range(1, rounds + 1):
            began = time.monotonic()
            for way, (stream_once, clients, server) in ways.items():
                results[count][way].append(await run_turn(stream_once, clients, server, samples))
            failed = sum(len(turns[-1].failures) for turns in results[count].values())
            print(
                f"{count} streams, round {number}/{rounds}: {time.monotonic() - began:.1f} s"
                + (f", {failed} failed" if failed else ""),
                flush=True,
            )
        await asyncio.gather(*(s.ws.close() for s in sockets), return_exceptions=True)
        for client in (direct_client, proxy_client, api_client):
            if client is not None:
                await client.close()  # the copies per key share `api_client`'s connections: closed with it
    return results


@dataclass
class Row:
    """One way at one concurrency, medians over rounds."""

    count: int
    way: str
    first_p50: float
    first_p95: float
    done_p50: float
    done_p95: float
    added_first_p50: float | None
    added_first_p95: float | None
    added_done_p50: float | None
    added_done_p95: float | None
    cpu_ms: float | None
    bytes_ratio: float
    streams: int
    failures: int


def rows_of(results: dict) -> list[Row]:
    """Reduce each way's rounds to medians of round figures (a relay's minus direct's within each round)."""
    rows = []
    for count, ways in results.items():
        for way, turns in ways.items():
            rounds = [(t, d) for t, d in zip(turns, ways["direct"], strict=False) if t.samples and d.samples]
            if not rounds:
                continue

            def own(name: str, fraction: float, rounds=rounds) -> float:
                return statistics.median(t.percentile(name, fraction) for t, _ in rounds)

            def added(name: str, fraction: float, rounds=rounds, way=way) -> float | None:
                if way == "direct":
                    return None
                return statistics.median(t.percentile(name, fraction) - d.percentile(name, fraction) for t, d in rounds)

            cpu = [t.cpu_seconds * 1000 / len(t.samples) for t, _ in rounds if t.cpu_seconds is not None]
            wire = [sum(s.wire_bytes for s in t.samples) / sum(s.text_bytes for s in t.samples) for t, _ in rounds]
            rows.append(
                Row(
                    count=count,
                    way=way,
                    first_p50=own("first_ms", 0.5),
                    first_p95=own("first_ms", 0.95),
                    done_p50=own("done_ms", 0.5),
                    done_p95=own("done_ms", 0.95),
                    added_first_p50=added("first_ms", 0.5),
                    added_first_p95=added("first_ms", 0.95),
                    added_done_p50=added("done_ms", 0.5),
                    added_done_p95=added("done_ms", 0.95),
                    cpu_ms=statistics.median(cpu) if cpu else None,
                    bytes_ratio=statistics.median(wire),
                    streams=sum(len(t.samples) for t in turns),
                    failures=sum(len(t.failures) for t in turns),
                )
            )
    return rows


def ms(value: float | None, signed: bool = False) -> str:
    """Return milliseconds for the table (blank when there is no figure)."""
    if value is None:
        return ""
    return f"{value:+,.1f}" if signed else f"{value:,.1f}"


def table(rows: list[Row]) -> str:
    """Return the rows as a markdown table (milliseconds)."""
    head = (
        "| streams at once | way | first text p50 | p95 | added p50 | added p95 | done p50 | p95 | added p50 | "
        "added p95 | server CPU ms / stream | wire bytes / text byte | streams (failed) |"
    )
    lines = [head, "|---:|---|" + "---:|" * 11]
    for r in rows:
        cells = [
            f"{r.count:,}",
            LABELS[r.way],
            ms(r.first_p50),
            ms(r.first_p95),
            ms(r.added_first_p50, True),
            ms(r.added_first_p95, True),
            ms(r.done_p50),
            ms(r.done_p95),
            ms(r.added_done_p50, True),
            ms(r.added_done_p95, True),
            ms(r.cpu_ms),
            f"{r.bytes_ratio:.2f}",
            f"{r.streams:,} ({r.failures})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failures_of(results: dict) -> list[str]:
    """Return up to three distinct failures of each way at each concurrency."""
    seen = []
    for count, ways in results.items():
        for way, turns in ways.items():
            for message in sorted({f for t in turns for f in t.failures})[:3]:
                seen.append(f"{count} streams, {LABELS[way]}: {message}")
    return seen


def sections_of(rows: list[Row]) -> dict[str, list[Row]]:
    """Return, for each Panels way measured, the rows of its docs section: direct, LiteLLM and that way."""
    measured = {r.way for r in rows}
    return {way: [r for r in rows if r.way in ("direct", "litellm", way)] for way in SECTIONS if way in measured}


def replace_section(text: str, section: Section, markdown: str) -> str:
    """Return `text` with what lies between the section's markers replaced by `markdown`."""
    start, end = text.index(section.start) + len(section.start), text.index(section.end)
    return text[:start] + "\n" + markdown + "\n" + text[end:]


def missing_markers(text: str, ways: tuple[str, ...]) -> list[str]:
    """Return the markers of the ways' sections that `text` (docs/benchmarks.md) lacks."""
    return [marker for way in ways for marker in (SECTIONS[way].start, SECTIONS[way].end) if marker not in text]


def docs_with(text: str, rows: list[Row], note: str) -> str:
    """Return docs/benchmarks.md's `text` with each measured Panels way's section replaced by `note` and its table."""
    for way, section_rows in sections_of(rows).items():
        text = replace_section(text, SECTIONS[way], note + "\n\n" + table(section_rows))
    return text


def write_docs(rows: list[Row], note: str) -> None:
    """Write the measured Panels ways' sections of docs/benchmarks.md and draw their plots."""
    DOCS.write_text(docs_with(DOCS.read_text(), rows, note))
    for way, section_rows in sections_of(rows).items():
        plot = SECTIONS[way].plot
        points = [
            {"count": r.count, "way": LABELS[r.way], "first": r.added_first_p50, "done": r.added_done_p50}
            for r in section_rows
            if r.way != "direct"
        ]
        subprocess.run(  # noqa: S603 (our own command line)
            [str(venv_python()), str(ROOT / "bench" / "relay_plot.py"), str(plot)],
            input=json.dumps(points),
            text=True,
            check=True,
        )
        print(f"wrote {LABELS[way]}'s section of {DOCS.relative_to(ROOT)} and {plot.relative_to(ROOT)}")


def main() -> int:
    """Start the simulator, Daphne and LiteLLM, run the rounds, print (and write) the table, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="1,50,200,1000", help="comma-separated concurrencies")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1 and 5 streams, one round, no goals")
    parser.add_argument("--litellm", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--panels", choices=sorted(PANELS_WAYS), default="both", help="Panels' socket, its /v1 API, or both"
    )
    parser.add_argument("--reply-tokens", type=int, default=REPLY_TOKENS)
    parser.add_argument("--tokens-per-second", type=float, default=TOKENS_PER_SECOND)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    options = parser.parse_args()
    samples = MIN_SAMPLES
    if options.smoke:
        options.streams, options.rounds, samples = "1,5", 1, 3
    use_litellm = options.litellm if options.litellm is not None else (litellm_installed() or not options.smoke)
    if use_litellm or options.write_docs:
        install_litellm()
    counts = [int(n) for n in options.streams.split(",")]
    panels_ways = PANELS_WAYS[options.panels]
    if options.write_docs and (missing := missing_markers(DOCS.read_text(), panels_ways)):
        parser.error(f"{DOCS.relative_to(ROOT)} lacks {', '.join(missing)}: nowhere to write this run's tables")
    raise_file_limit()  # a thousand sockets here, and as many in the Daphne process
    stack = Stack(
        StackOptions(
            daphnes=1,
            celery=False,
            tokens_per_second=options.tokens_per_second,
            reply_tokens=options.reply_tokens,
            first_token_ms=FIRST_TOKEN_MS,
            max_streams_per_process=max(counts) + 100,
            server_env=API_LIMITS,
        ),
        keep_logs=options.keep_logs,
    )
    print(f"logs in {stack.logs}", flush=True)
    load_before = os.getloadavg()[0]
    print(f"load average {load_before:.2f}", flush=True)
    began = time.monotonic()
    litellm = None
    with stack:
        try:
            if use_litellm:
                litellm = LiteLLMProxy(stack.logs, stack.simulator.base_url_openai)
                litellm.start(timeout=180)
            use_database_here(stack.env)
            accounts = funded_users(max(counts), credits=10**9, prefix="relay")
            secrets = api_key_secrets(accounts, name="relay bench") if "panels-http" in panels_ways else []
            from django.db import connections

            connections.close_all()
            results = asyncio.run(
                measure(stack, litellm, accounts, secrets, panels_ways, counts, options.rounds, samples)
            )
        finally:
            if litellm is not None:
                litellm.stop()
    rows = rows_of(results)
    print()
    print(table(rows))
    for line in failures_of(results):
        print("  " + line)
    print(f"\n{time.monotonic() - began:.0f} s in all")
    if options.write_docs:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        arguments = f"--streams {options.streams} --rounds {options.rounds}"
        if options.panels != "both":
            arguments += f" --panels {options.panels}"
        note = (
            f"Measured {stamp} with `{arguments}` "
            f"({options.reply_tokens} tokens at {options.tokens_per_second:g} tokens/s) "
            f"({os.cpu_count()} cores; the harness, simulator, PostgreSQL, Redis, Daphne and LiteLLM share them; "
            f"load average {load_before:.2f} when it began); times in ms, medians over rounds."
        )
        write_docs(rows, note)
    return 1 if any(r.failures for r in rows) else 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
    sys.exit(main())
