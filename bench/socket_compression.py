"""Measure what permessage-deflate costs and saves on the chat socket, with the settings of panels/serve.py.

Two parts:
- frames (in this process, a second): the server's compressor as Daphne runs it (autobahn's `PerMessageDeflate`,
  negotiated by `panels.serve.accept_deflate` from a browser's offer) on one socket's `message.delta` frames,
  three token pieces each (100 tokens/s in 30 ms frames), of the simulator's lorem text and of English prose
  (this repository's docs/routing.md). Prints websocket bytes (frame headers included) per byte of text, and
  the CPU the compression adds per frame, for our windows, zlib's defaults and zlib's smallest; and the memory
  a socket's compressor and inflater hold.
- sockets (`--sockets N`, about a minute): two Daphne processes of one stack (bench/stack.py); N sockets to
  one without compression and N to the other with it, each answered a `ping` (so its compressor and inflater
  exist), then idle; then `--active M` of each stream a 100-token reply at 100 tokens/s at once. Prints the
  resident memory (RSS) of each Daphne process: before, with the idle sockets, and the most seen while
  streaming.

    .venv/bin/python bench/socket_compression.py                 # frames only
    .venv/bin/python bench/socket_compression.py --sockets 1000 --active 200
"""

import argparse
import asyncio
import json
import multiprocessing
import re
import sys
import time
import uuid
import zlib
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autobahn.websocket.compress import PerMessageDeflate, PerMessageDeflateOffer

from bench.stack import Stack, StackOptions, funded_users, open_socket, raise_file_limit, use_database_here
from panels.serve import accept_deflate
from standins.providers import reply_pieces, token_pieces
from standins.servers import ROOT

PIECES_PER_FRAME = 3  # 100 tokens/s, a frame every 30 ms
FRAMES = 2_000  # on one socket: several replies' worth, as a tab keeps its socket
REPEATS = 5
BROWSER_OFFER = {"client_max_window_bits": [True]}  # what Chromium and Firefox send
COMPRESSORS = {  # the server's window bits and memory level: ours, zlib's defaults, zlib's smallest
    "panels/serve.py": (None, None),
    "zlib defaults (15, 8)": (15, 8),
    "smallest (9, 1)": (9, 1),
}
CONNECTS_AT_ONCE = 50  # Daphne's listen backlog is 50
REPLY_TOKENS = 100
TOKENS_PER_SECOND = 100


def delta_frames(pieces: list[str]) -> list[bytes]:
    """Return `message.delta` frames of `pieces` as the consumer sends them (compact JSON)."""
    frames = []
    for seq, start in enumerate(range(0, len(pieces), PIECES_PER_FRAME), 1):
        text = "".join(pieces[start : start + PIECES_PER_FRAME])
        frame = {"type": "message.delta", "message_id": 123456, "seq": seq, "text": text}
        frames.append(json.dumps(frame, separators=(",", ":")).encode())
    return frames


def texts() -> dict[str, list[str]]:
    """Return the token pieces of the two kinds of text, FRAMES frames' worth each."""
    wanted = FRAMES * PIECES_PER_FRAME
    prose = " ".join(re.sub(r"[`|#*>\[\]()-]+", " ", (ROOT / "docs" / "routing.md").read_text()).split())
    prose_pieces = token_pieces(prose)
    return {
        "lorem (simulator)": reply_pieces("gpt-4o-mini", "bench", wanted),
        "English prose": (prose_pieces * (wanted // len(prose_pieces) + 1))[:wanted],
    }


def server_compressor(window_bits: int | None = None, mem_level: int | None = None) -> PerMessageDeflate:
    """Return the server side of a socket as negotiated from a browser's offer (or with other windows)."""
    accept = accept_deflate([PerMessageDeflateOffer.parse(BROWSER_OFFER)])
    if window_bits is not None:
        accept.window_bits, accept.mem_level = window_bits, mem_level
    return PerMessageDeflate.create_from_offer_accept(True, accept)


def header_bytes(payload: int) -> int:
    """Return a server frame's header size (unmasked) for a payload of this size."""
    return 2 if payload < 126 else 4 if payload < 65_536 else 10


def compressed_sizes(compressor: PerMessageDeflate | None, frames: list[bytes]) -> tuple[int, float]:
    """Send `frames` through `compressor` as autobahn does; return bytes on the wire and seconds of CPU."""
    wire, started = 0, time.process_time()
    for frame in frames:
        if compressor is None:
            payload = len(frame)
        else:
            compressor.start_compress_message()
            payload = len(compressor.compress_message_data(frame)) + len(compressor.end_compress_message())
        wire += header_bytes(payload) + payload
    return wire, time.process_time() - started


def measure_frames() -> None:
    """Print wire bytes per text byte and the CPU compression adds per frame."""
    ways = {
        "no compression": lambda: None,
        **{f"deflate, {label}": partial(server_compressor, *settings) for label, settings in COMPRESSORS.items()},
    }
    print(f"{PIECES_PER_FRAME} token pieces a frame, {FRAMES} frames on one socket, best of {REPEATS}:\n")
    print("| text | way | wire bytes / text byte | CPU per frame (us) | added by compression (us) |")
    print("|---|---|---:|---:|---:|")
    for name, pieces in texts().items():
        frames = delta_frames(pieces)
        text_bytes = sum(len(json.loads(f)["text"].encode()) for f in frames)
        plain = None
        for way, make in ways.items():
            results = [compressed_sizes(make(), frames) for _ in range(REPEATS)]
            wire, seconds = results[0][0], min(s for _, s in results)
            per_frame = seconds / len(frames) * 1e6
            plain = per_frame if plain is None else plain
            print(f"| {name} | {way} | {wire / text_bytes:.2f} | {per_frame:.2f} | {per_frame - plain:+.2f} |")
    print()


def compressor_memory(count: int, window_bits: int | None, mem_level: int | None) -> float:
    """Return the KiB of RSS that `count` sockets' compressors and inflaters hold after one message each."""
    before = rss_kib("self")
    held = []
    for _ in range(count):
        deflate = server_compressor(window_bits, mem_level)
        deflate.start_compress_message()
        deflate.compress_message_data(b'{"type":"pong"}')
        deflate.end_compress_message()
        deflate.start_decompress_message()
        deflate.decompress_message_data(zlib.compress(b'{"type":"ping"}')[2:-4])
        held.append(deflate)
    return (rss_kib("self") - before) / count


def rss_kib(pid: int | str) -> int:
    """Return the resident memory of a process in KiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def open_idle(daphne, accounts, compression: str | None) -> list:
    """Open a socket per account, have each answer a `ping`, and return them."""
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def one(account):
        async with gate:
            ws = await open_socket(daphne, account, compression=compression)
        await ws.send('{"type":"ping"}')
        answer = json.loads(await ws.recv())
        if answer["type"] != "pong":
            raise RuntimeError(answer)
        return ws

    return await asyncio.gather(*(one(account) for account in accounts))


async def stream_one(ws, index: int) -> int:
    """Stream one reply on `ws`; return the bytes its socket read."""
    before = ws.bytes_received
    frame = {"type": "send", "request_id": str(uuid.uuid4()), "conversation_id": None, "models": ["gpt-4o-mini"]}
    await ws.send(json.dumps({**frame, "content": f"Socket {index}: describe a cup of tea."}))
    async for raw in ws:
        frame = json.loads(raw)
        if frame["type"] == "error":
            raise RuntimeError(frame)
        if frame["type"] == "message.done":
            if frame["status"] != "complete":
                raise RuntimeError(frame)
            return ws.bytes_received - before
    raise RuntimeError(f"socket closed ({ws.close_code}) before message.done")


async def measure_sockets(stack: Stack, accounts: list, count: int, active: int) -> None:
    """Print each Daphne's RSS before, with `count` idle sockets, and at most while `active` of them stream."""
    print("| sockets | RSS before (MiB) | idle (MiB) | KiB per idle socket | streaming (MiB, most) | KiB per socket |")
    print("|---|---:|---:|---:|---:|---:|")
    for daphne, compression in zip(stack.daphnes, (None, "deflate"), strict=True):
        before = rss_kib(daphne.pid)
        sockets = await open_idle(daphne, accounts[:count], compression)
        await asyncio.sleep(2)
        idle = rss_kib(daphne.pid)
        streams = asyncio.gather(*(stream_one(ws, i) for i, ws in enumerate(sockets[:active])))
        most = idle
        while not streams.done():
            most = max(most, rss_kib(daphne.pid))
            await asyncio.sleep(0.2)
        await streams
        name = "permessage-deflate" if compression else "plain"
        per_idle, per_active = (idle - before) / count, (most - before) / count
        print(
            f"| {count:,} {name}, {active:,} streaming | {before / 1024:.0f} | {idle / 1024:.0f} | {per_idle:.1f} | "
            f"{most / 1024:.0f} | {per_active:.1f} |"
        )
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def main() -> int:
    """Measure the frames, then (with --sockets) the two Daphne processes; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=0, help="idle sockets per Daphne process (0: frames only)")
    parser.add_argument("--active", type=int, default=200, help="of them, how many stream a reply at once")
    options = parser.parse_args()
    measure_frames()
    print("compressor and inflater of one socket, 1,000 of them in this process:")
    for label, settings in COMPRESSORS.items():
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as fresh:  # nothing freed to reuse
            print(f"  {label}: {fresh.submit(compressor_memory, 1_000, *settings).result():.1f} KiB each")
    if not options.sockets:
        return 0
    raise_file_limit()
    stack_options = StackOptions(
        daphnes=2,
        celery=False,
        tokens_per_second=TOKENS_PER_SECOND,
        reply_tokens=REPLY_TOKENS,
        first_token_ms=200,
        max_streams_per_process=options.sockets + 100,
    )
    with Stack(stack_options) as stack:
        use_database_here(stack.env)
        accounts = funded_users(options.sockets, credits=10**9, prefix="deflate")
        from django.db import connections

        connections.close_all()
        print()
        asyncio.run(measure_sockets(stack, accounts, options.sockets, min(options.active, options.sockets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
