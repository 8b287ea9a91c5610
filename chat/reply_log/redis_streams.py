"""The shared reply log: a Redis Stream per reply, so followers on any process see the same frames in order.

Redis connections per process do not grow with the number of streams:
- one writer task per event loop sends every reply's new frames in pipelined batches (one in flight at a
  time, so frames of one reply arrive in order);
- one reader task per event loop follows every reply that a local socket follows with a single blocking
  XREAD over all their streams, and fans the frames out to those sockets;
- a pool of a few connections serves the short commands (a follower's catch-up XRANGE, stop requests).

A frame's entry id is its position (`<position>-0`), so a retried append that already landed is refused by
Redis instead of stored twice, and a follower resumes from a position. Redis may lose a log (a restart
without persistence): appends after the first use NOMKSTREAM, so the writer notices and writes the reply's
whole log again. Each process reads an inbox stream of its own in the same XREAD: stop requests for the
replies it streams arrive there, and so do wake-ups when a new reply is followed.
"""

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from chat.reply_log.frames import DONE, RETAIN_SECONDS

logger = logging.getLogger(__name__)
# Waits between attempts to deliver a stop while Redis is away (about a minute in all: a restart takes seconds).
STOP_RETRY_SECONDS = (0.2, 0.5, 1, 2, 3, 5, 8, 10, 15, 15)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
BATCH_ENTRIES = 2000  # most entries one pipeline writes
READ_COUNT = 500  # most entries one XREAD returns per stream
INBOX_LENGTH = 100  # an inbox keeps about this many entries
COMMAND_CONNECTIONS = 4  # the pool for the writer and the short commands; more wait their turn
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)  # waits between attempts while Redis cannot be reached
ALREADY_STORED = "equal or smaller than the target stream top item"


def _position(entry_id: bytes) -> int:
    return int(entry_id.split(b"-", 1)[0])


def _entries(answer) -> list:
    """Return XREAD's answer as (stream name, entries) pairs, whether Redis spoke RESP2 or RESP3."""
    if not answer:
        return []
    return list(answer.items()) if isinstance(answer, dict) else answer


async def _pause(attempt: int) -> None:
    await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])


@dataclass
class _Log:
    """One reply's frames written through this process, and how many of them Redis holds."""

    entries: list[tuple[int, str]] = field(default_factory=list)  # (position, frame as JSON)
    stored: int = 0
    exists: bool = False  # Redis is known to hold the stream: appends must not create it again
    done: bool = False  # the last entry is the `message.done`
    stored_all: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class _Chunk:
    """The next entries of one log that a batch writes."""

    key: str
    log: _Log
    count: int
    expire: bool  # set the stream's expiry: when it is created, and when its last entry is written


class _Writer:
    """Append every reply's frames in pipelined batches, retrying until Redis has them."""

    def __init__(self, redis: aioredis.Redis, prefix: str):
        self._redis = redis
        self._prefix = prefix
        self._logs: dict[str, _Log] = {}
        self._work = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="reply-log-writer")

    def append(self, key: str, position: int, frame: dict) -> None:
        log = self._logs.setdefault(key, _Log())
        if log.entries and position <= log.entries[-1][0]:
            return
        log.entries.append((position, json.dumps(frame, separators=(",", ":"))))
        log.done = frame["type"] == DONE
        log.stored_all.clear()
        self._work.set()

    async def flush(self, key: str, timeout: float) -> bool:
        log = self._logs.get(key)
        if log is None:
            return True
        try:
            await asyncio.wait_for(log.stored_all.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._work.wait()
            self._work.clear()
            while batch := self._batch():
                try:
                    results = await self._send(batch)
                except UNREACHABLE as error:
                    if failures == 0:
                        logger.warning("reply log: cannot reach Redis (%s); retrying", error)
                    await _pause(failures)
                    failures += 1
                    continue
                except Exception:  # a bug must not stop every reply's log for good
                    logger.exception("reply log: writing a batch failed")
                    await _pause(len(RETRY_SECONDS))
                    continue
                if failures:
                    logger.warning("reply log: Redis reachable again")
                    failures = 0
                self._settle(batch, results)

    def _batch(self) -> list[_Chunk]:
        """Return the entries Redis does not hold yet, up to one batch."""
        batch, room = [], BATCH_ENTRIES
        for key, log in self._logs.items():
            count = min(len(log.entries) - log.stored, room)
            if count > 0:
                last = log.stored + count == len(log.entries)
                batch.append(_Chunk(key, log, count, expire=not log.exists or (last and log.done)))
                room -= count
            if room == 0:
                break
        return batch

    async def _send(self, batch: list[_Chunk]) -> list:
        async with self._redis.pipeline(transaction=False) as pipe:
            for chunk in batch:
                log, name = chunk.log, self._prefix + chunk.key
                for index in range(log.stored, log.stored + chunk.count):
                    position, data = log.entries[index]
                    # Only the first entry may create the stream: after that, a missing stream was lost.
                    create = index == log.stored and not log.exists
                    pipe.xadd(name, {"f": data}, id=f"{position}-0", nomkstream=not create)
                if chunk.expire:
                    pipe.expire(name, RETAIN_SECONDS)
            return await pipe.execute(raise_on_error=False)

    def _settle(self, batch: list[_Chunk], results: list) -> None:
        answers = iter(results)
        for chunk in batch:
            log = chunk.log
            replies = [next(answers) for _ in range(chunk.count)]
            if chunk.expire:
                next(answers)
            if replies[0] is None:  # the stream is gone (Redis restarted): write the whole log again
                logger.warning("reply log %s was lost by Redis; writing it again", chunk.key)
                log.stored, log.exists = 0, False
                self._work.set()
                continue
            for reply in replies:
                if isinstance(reply, ResponseError) and ALREADY_STORED not in str(reply):
                    logger.error("reply log %s: Redis refused an entry: %s", chunk.key, reply)
            log.stored += chunk.count
            log.exists = True
            if log.stored == len(log.entries):
                log.stored_all.set()
                if log.done:
                    del self._logs[chunk.key]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@dataclass
class _Followed:
    """A stream that sockets of this process follow, and how far the reader has read it."""

    last_id: bytes | None = None  # None until a follower has caught up and says where live reading starts
    queues: set[asyncio.Queue] = field(default_factory=set)


class _Reader:
    """Read every followed stream and this process's inbox with one blocking XREAD on one connection."""

    def __init__(self, url: str, inbox: str, commands: aioredis.Redis, stops: dict[str, asyncio.Event]):
        self._redis = aioredis.Redis.from_url(
            url,
            single_connection_client=True,
            client_name=f"panels-replylog-reader-{os.getpid()}",
            **settings.REDIS_CONNECTION_OPTIONS,
        )
        self._inbox = inbox.encode()
        self._inbox_id = b"0-0"
        self._commands = commands
        self._stops = stops
        self._followed: dict[bytes, _Followed] = {}
        self._blocked = False  # an XREAD is out: a new stream needs a wake-up to be read at once
        self._woken = False
        self._waking: asyncio.Task | None = None
        self._task = asyncio.create_task(self._run(), name="reply-log-reader")

    def add(self, name: bytes, queue: asyncio.Queue) -> None:
        self._followed.setdefault(name, _Followed()).queues.add(queue)

    def read_from(self, name: bytes, position: int) -> None:
        """Start reading `name` live after `position`, unless the reader already reads it."""
        followed = self._followed.get(name)
        if followed is not None and followed.last_id is None:
            followed.last_id = f"{position}-0".encode()
            self.wake()

    def remove(self, name: bytes, queue: asyncio.Queue) -> None:
        followed = self._followed.get(name)
        if followed is not None:
            followed.queues.discard(queue)
            if not followed.queues:
                del self._followed[name]

    def wake(self) -> None:
        """Make a waiting XREAD return, so the next one includes what changed."""
        if self._blocked and not self._woken:
            self._woken = True
            self._waking = asyncio.create_task(self._post_to_inbox({"wake": "1"}))

    async def _post_to_inbox(self, fields: dict) -> None:
        with contextlib.suppress(*UNREACHABLE):  # the next XREAD includes the change anyway, within its block
            await post(self._commands, self._inbox, fields)

    async def _run(self) -> None:
        failures = 0
        while True:
            streams = {self._inbox: self._inbox_id}
            streams.update({name: f.last_id for name, f in self._followed.items() if f.last_id is not None})
            self._blocked, self._woken = True, False
            try:
                answer = await self._redis.xread(streams, count=READ_COUNT, block=settings.REDIS_BLOCK_SECONDS * 1000)
            except UNREACHABLE as error:
                if failures == 0:
                    logger.warning("reply log reader: cannot reach Redis (%s); retrying", error)
                await _pause(failures)
                failures += 1
                continue
            except Exception:
                logger.exception("reply log reader: XREAD failed")
                await _pause(len(RETRY_SECONDS))
                continue
            finally:
                self._blocked = False
            failures = 0
            for name, entries in _entries(answer):
                if name == self._inbox:
                    self._read_inbox(entries)
                else:
                    self._deliver(name, entries)

    def _read_inbox(self, entries: list) -> None:
        self._inbox_id = entries[-1][0]
        for _, fields in entries:
            key = fields.get(b"stop")
            if key is not None and (stop := self._stops.get(key.decode())) is not None:
                stop.set()

    def _deliver(self, name: bytes, entries: list) -> None:
        followed = self._followed.get(name)
        if followed is None or not entries:
            return
        followed.last_id = entries[-1][0]
        frames = [(_position(entry_id), json.loads(fields[b"f"])) for entry_id, fields in entries]
        for queue in followed.queues:
            queue.put_nowait(frames)
        if frames[-1][1]["type"] == DONE:
            del self._followed[name]  # nothing comes after; followers end on their own

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._redis.aclose()


async def post(redis: aioredis.Redis, inbox: str, fields: dict) -> None:
    """Add an entry to a process's inbox (kept short, and gone an hour after its process stops)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xadd(inbox, fields, maxlen=INBOX_LENGTH, approximate=True)
        pipe.expire(inbox, RETAIN_SECONDS)
        await pipe.execute()


class _LoopState:
    """The connections and tasks of one event loop (a client belongs to the loop that made it)."""

    def __init__(self, url: str, prefix: str, inbox: str):
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=COMMAND_CONNECTIONS,
            timeout=settings.REDIS_SOCKET_TIMEOUT,
            client_name=f"panels-replylog-{os.getpid()}",
            **settings.REDIS_CONNECTION_OPTIONS,
        )
        self.commands = aioredis.Redis(connection_pool=pool)
        self.writer = _Writer(self.commands, prefix)
        self.stops: dict[str, asyncio.Event] = {}
        self.url, self.inbox = url, inbox
        self._reader: _Reader | None = None

    def start_reader(self) -> _Reader:
        """Return the loop's reader, started on first use."""
        if self._reader is None:
            self._reader = _Reader(self.url, self.inbox, self.commands, self.stops)
        return self._reader

    async def close(self) -> None:
        await self.writer.close()
        if self._reader is not None:
            await self._reader.close()
        await self.commands.aclose()


class RedisReplyLog:
    def __init__(self, url: str, process_id: str, prefix: str = "panels:reply:"):
        self._url = url
        self._prefix = prefix
        self._process_id = process_id
        self._states: dict[asyncio.AbstractEventLoop, _LoopState] = {}

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if loop not in self._states:
            self._states[loop] = _LoopState(self._url, self._prefix, self._inbox(self._process_id))
        return self._states[loop]

    def _name(self, key: str) -> bytes:
        return f"{self._prefix}{key}".encode()

    def _inbox(self, process_id: str) -> str:
        return f"{self._prefix}inbox:{process_id}"

    def append(self, key: str, position: int, frame: dict) -> None:
        self._state().writer.append(key, position, frame)

    async def flush(self, key: str, timeout: float) -> bool:
        return await self._state().writer.flush(key, timeout)

    async def follow(self, key: str, after_seq: int = 0, *, idle_seconds: float) -> AsyncIterator[dict | None]:
        state, name = self._state(), self._name(key)
        queue: asyncio.Queue[list[tuple[int, dict]]] = asyncio.Queue()
        reader = state.start_reader()
        reader.add(name, queue)  # first, so nothing written after the catch-up below is missed
        try:
            attempt = 0
            while True:
                try:
                    entries = await state.commands.xrange(name, f"{after_seq + 1}-0", "+")
                    break
                except UNREACHABLE:
                    yield None  # the caller may look at the reply meanwhile
                    await _pause(attempt)
                    attempt += 1
            top = after_seq
            for entry_id, fields in entries:
                top = _position(entry_id)
                frame = json.loads(fields[b"f"])
                yield frame
                if frame["type"] == DONE:
                    return
            reader.read_from(name, top)
            while True:
                try:
                    frames = await asyncio.wait_for(queue.get(), idle_seconds)
                except TimeoutError:
                    yield None
                    continue
                for position, frame in frames:
                    if position <= top:
                        continue  # the catch-up had it already
                    top = position
                    yield frame
                    if frame["type"] == DONE:
                        return
        finally:
            reader.remove(name, queue)

    async def read(self, key: str) -> list[dict]:
        return [json.loads(fields[b"f"]) for _, fields in await self._state().commands.xrange(self._name(key))]

    def stops_for(self, key: str) -> asyncio.Event:
        state = self._state()
        state.start_reader()  # stop requests arrive in this process's inbox, which the reader reads
        return state.stops.setdefault(key, asyncio.Event())

    def forget_stops(self, key: str) -> None:
        self._state().stops.pop(key, None)

    async def request_stop(self, key: str, process_id: str) -> None:
        """Ask the reply's process to stop it, waiting out a Redis that is briefly away: a stop pressed arrives.

        Raises the last error once STOP_RETRY_SECONDS have passed without Redis.
        """
        state = self._state()
        if process_id == self._process_id and key in state.stops:
            state.stops[key].set()
            return
        for wait in (*STOP_RETRY_SECONDS, None):
            try:
                await post(state.commands, self._inbox(process_id), {"stop": key})
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as error:
                if wait is None:
                    raise
                logger.warning("stop of reply %s not delivered yet (%s); retrying in %s s", key, error, wait)
                await asyncio.sleep(wait)

    async def close(self) -> None:
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.close()
