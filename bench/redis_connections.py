"""Count the Redis connections one Daphne process holds while it streams N replies at once.

The reply log (chat/reply_log/redis_streams.py) promises connections that do not grow with the number of
streams: one blocking reader, a small command pool, plus the channel layer's and the cache's. This starts one
Daphne (with its own PostgreSQL database, Redis and the provider simulator, bench/stack.py), and for each N
opens N sockets of N users, each sending one 1-panel turn whose reply lasts about 10 s, and samples the
Daphne process's connections to Redis while they stream: its TCP sockets (/proc/<pid>/fd and net/tcp) whose
peer is Redis's port, named through Redis's CLIENT LIST. Prints the most seen, by client name, and whether
every stream got its `message.done`.

    .venv/bin/python bench/redis_connections.py [--streams 10,100,1000]

The database is created on the PostgreSQL server of DATABASE_URL (default
postgres://panels:panels@127.0.0.1:5432/panels; the role needs CREATEDB).
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, StackOptions, funded_users, open_socket, raise_file_limit, use_database_here

REPLY_TOKENS = 300
TOKENS_PER_SECOND = 30  # 300 tokens: about 10 s per reply, so the streams overlap
CONNECTS_AT_ONCE = 50  # Daphne's listen backlog is 50
SAMPLE_SECONDS = 0.5
UNNAMED = "(no name)"


def socket_inodes(pid: int) -> set[int]:
    """Return the inodes of the sockets process `pid` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def local_ports_to(pid: int, peer_port: int) -> set[int]:
    """Return the local ports of process `pid`'s established TCP connections to `peer_port` on this host."""
    inodes = socket_inodes(pid)
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == peer_port and inode in inodes:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def connections_by_name(pid: int, client: redis.Redis, redis_port: int) -> Counter[str]:
    """Return the Daphne process's connections to Redis, counted by their CLIENT LIST name (less a `-<pid>`)."""
    ports = local_ports_to(pid, redis_port)
    names = {}
    for entry in client.client_list():
        port = int(entry["addr"].rsplit(":", 1)[1])
        names[port] = (entry.get("name") or UNNAMED).removesuffix(f"-{pid}")
    return Counter(names.get(port, "(not in CLIENT LIST)") for port in ports)


@dataclass
class Round:
    """One N: what was seen while N replies streamed."""

    streams: int
    most: int = 0  # the most connections seen in one sample
    by_name: Counter[str] = field(default_factory=Counter)  # the most seen of each name in one sample
    most_in_flight: int = 0  # the most replies streaming at once (turn.started, no message.done yet)
    at_most_in_flight: int = 0  # connections seen in the sample with the most replies streaming
    done: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Stream:
    """One socket of one user, sending one turn and reading its reply to the end."""

    def __init__(self, daphne, account, index: int):
        self.daphne, self.account, self.index = daphne, account, index
        self.ws = None
        self.started = False
        self.done: dict | None = None

    async def open(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            self.ws = await open_socket(self.daphne, self.account)

    async def run(self) -> None:
        request_id = str(uuid.uuid4())
        frame = {
            "type": "send",
            "request_id": request_id,
            "conversation_id": None,
            "models": ["gpt-4o-mini"],
            "content": f"Stream {self.index} [[sim:tokens={REPLY_TOKENS}]]",
        }
        await self.ws.send(json.dumps(frame))
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame["type"] == "turn.started":
                self.started = True
            elif frame["type"] == "error":
                raise RuntimeError(f"stream {self.index}: {frame}")
            elif frame["type"] == "message.done":
                self.done = frame
                return
        raise RuntimeError(f"stream {self.index}: socket closed with {self.ws.close_code} before message.done")


async def measure(stack: Stack, accounts: list, count: int) -> Round:
    """Stream `count` replies at once on the one Daphne and sample its Redis connections meanwhile."""
    daphne, result = stack.daphnes[0], Round(count)
    client = redis.Redis(port=stack.redis.port, socket_timeout=10)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    streams = [Stream(daphne, account, index) for index, account in enumerate(accounts[:count])]
    await asyncio.gather(*(stream.open(gate) for stream in streams))
    began = time.monotonic()
    tasks = [asyncio.create_task(stream.run()) for stream in streams]
    pending = set(tasks)
    while pending:
        in_flight = sum(1 for s in streams if s.started and s.done is None)
        sample = await asyncio.to_thread(connections_by_name, daphne.pid, client, stack.redis.port)
        total = sum(sample.values())
        result.most = max(result.most, total)
        if in_flight >= result.most_in_flight:
            result.most_in_flight, result.at_most_in_flight = in_flight, total
        for name, seen in sample.items():
            result.by_name[name] = max(result.by_name[name], seen)
        _, pending = await asyncio.wait(pending, timeout=SAMPLE_SECONDS)
        if time.monotonic() - began > 120 + count * 0.5:
            for task in pending:
                task.cancel()
            result.failures.append(f"{len(pending)} streams had no message.done after {time.monotonic() - began:.0f} s")
            break
    result.seconds = time.monotonic() - began
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            result.failures.append(str(task.exception()))
    for stream in streams:
        if stream.done is not None:
            result.done += 1
            result.statuses[stream.done["status"]] += 1
    await asyncio.gather(*(stream.ws.close() for stream in streams), return_exceptions=True)
    client.close()
    return result


def print_table(rounds: list[Round]) -> None:
    """Print one markdown row per N."""
    names = sorted({name for r in rounds for name in r.by_name})
    head = [
        "streams",
        "Daphne->Redis connections (max)",
        *(f"`{name}` (max)" for name in names),
        "most streaming at once (connections then)",
        "every stream got message.done",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rounds:
        ok = "yes" if r.done == r.streams and not r.failures else f"NO ({r.done}/{r.streams})"
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
        cells = [str(r.streams), str(r.most), *(str(r.by_name.get(name, 0)) for name in names)]
        cells += [f"{r.most_in_flight} ({r.at_most_in_flight})", f"{ok}: {statuses}, {r.seconds:.0f} s"]
        print("| " + " | ".join(cells) + " |")
    for r in rounds:
        for failure in r.failures[:5]:
            print(f"  {r.streams} streams: {failure}")


def main() -> int:
    """Start one Daphne and its services, measure each N, print the table, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", default="10,100,1000", help="comma-separated stream counts")
    parser.add_argument("--keep-logs", action="store_true")
    options = parser.parse_args()
    counts = [int(n) for n in options.streams.split(",")]
    raise_file_limit()  # a thousand client sockets here, and as many in the Daphne process
    stack = Stack(
        StackOptions(
            daphnes=1,
            celery=False,
            tokens_per_second=TOKENS_PER_SECOND,
            first_token_ms=300,
            max_streams_per_process=max(counts) + 100,
        ),
        keep_logs=options.keep_logs,
    )
    print(f"logs in {stack.logs}", flush=True)
    rounds = []
    with stack:
        use_database_here(stack.env)
        accounts = funded_users(max(counts), credits=100_000_000, prefix="streams")
        for count in counts:
            rounds.append(asyncio.run(measure(stack, accounts, count)))
            print(f"{count} streams measured in {rounds[-1].seconds:.0f} s", flush=True)
        from django.db import connections

        connections.close_all()
    print()
    print_table(rounds)
    return 0 if all(r.done == r.streams and not r.failures for r in rounds) else 1


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
    sys.exit(main())
