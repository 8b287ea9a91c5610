"""The ordered log of each streaming reply's frames: replay from any `seq`, then follow live until done.

The task that reads a provider appends `message.delta` frames (and one `message.done`) here; every socket
that shows the reply (the sender's, a second tab, a reconnect, on any Daphne process) follows the log. So a
follower never sees a gap or a duplicate, and a reply outlives the socket that started it. With REDIS_URL
the log is a Redis Stream per reply, shared by all processes; without it, an in-process list. A log is
named by its message's `stream_key`, a UUID that, unlike the id, is never reused.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings

DONE = "message.done"
RETAIN_SECONDS = 3600  # a finished reply's log stays this long for late followers, then HTTP has it
FOLLOW_IDLE_SECONDS = 300  # a follower that hears nothing this long gives up (its writer died)


class ReplyLog(Protocol):
    async def append(self, key: str, frame: dict) -> None:
        """Add a frame to the reply's log (frames carry their own `seq`)."""

    def follow(self, key: str, after_seq: int = 0) -> AsyncIterator[dict]:
        """Yield the reply's frames with `seq` > `after_seq`, then live ones, ending after `message.done`."""

    async def read(self, key: str) -> list[dict]:
        """Return the frames logged so far, without waiting for more."""

    async def request_stop(self, key: str) -> None:
        """Ask whichever process streams the reply to stop it."""

    async def stop_requested(self, key: str) -> bool:
        """Return whether someone asked to stop the reply."""


def _wanted(frame: dict, after_seq: int) -> bool:
    return frame["type"] == DONE or frame["seq"] > after_seq


class MemoryReplyLog:
    """The embedded mode's log: one process, one event loop."""

    def __init__(self):
        self._frames: dict[str, list[dict]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._stops: set[str] = set()

    def _event(self, key: str) -> asyncio.Event:
        return self._changed.setdefault(key, asyncio.Event())

    async def append(self, key: str, frame: dict) -> None:
        self._frames.setdefault(key, []).append(frame)
        self._changed.pop(key, asyncio.Event()).set()  # wake followers; the next wait gets a new event
        if frame["type"] == DONE:
            asyncio.get_running_loop().call_later(RETAIN_SECONDS, self._forget, key)

    def _forget(self, key: str) -> None:
        self._frames.pop(key, None)
        self._stops.discard(key)

    async def follow(self, key: str, after_seq: int = 0) -> AsyncIterator[dict]:
        position = 0
        while True:
            frames = self._frames.get(key, [])
            while position < len(frames):
                frame = frames[position]
                position += 1
                if _wanted(frame, after_seq):
                    yield frame
                if frame["type"] == DONE:
                    return
            changed = self._event(key)
            try:
                await asyncio.wait_for(changed.wait(), FOLLOW_IDLE_SECONDS)
            except TimeoutError:
                return

    async def read(self, key: str) -> list[dict]:
        return list(self._frames.get(key, []))

    async def request_stop(self, key: str) -> None:
        self._stops.add(key)

    async def stop_requested(self, key: str) -> bool:
        return key in self._stops


class RedisReplyLog:
    """The shared log: a Redis Stream per reply, so followers on any process see the same frames in order."""

    def __init__(self, url: str, prefix: str = "panels:reply:"):
        self._url = url
        self._prefix = prefix
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def _redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()  # a client belongs to one event loop
        if loop not in self._clients:
            self._clients[loop] = aioredis.from_url(self._url)
        return self._clients[loop]

    def _name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def append(self, key: str, frame: dict) -> None:
        name = self._name(key)
        async with self._redis().pipeline(transaction=False) as pipe:
            pipe.xadd(name, {"frame": json.dumps(frame)})
            pipe.expire(name, RETAIN_SECONDS)
            await pipe.execute()

    async def follow(self, key: str, after_seq: int = 0) -> AsyncIterator[dict]:
        redis = self._redis()
        name = self._name(key)
        last_id = "0-0"
        while True:
            answer = await redis.xread({name: last_id}, count=200, block=FOLLOW_IDLE_SECONDS * 1000)
            if not answer:
                return
            for entry_id, fields in answer[0][1]:
                last_id = entry_id
                frame = json.loads(fields[b"frame"])
                if _wanted(frame, after_seq):
                    yield frame
                if frame["type"] == DONE:
                    return

    async def read(self, key: str) -> list[dict]:
        return [json.loads(fields[b"frame"]) for _, fields in await self._redis().xrange(self._name(key))]

    async def request_stop(self, key: str) -> None:
        await self._redis().set(f"{self._name(key)}:stop", 1, ex=RETAIN_SECONDS)

    async def stop_requested(self, key: str) -> bool:
        return bool(await self._redis().exists(f"{self._name(key)}:stop"))


_log: ReplyLog | None = None


def reply_log() -> ReplyLog:
    """Return this process's reply log (Redis when REDIS_URL is set)."""
    global _log
    if _log is None:
        _log = RedisReplyLog(settings.REDIS_URL) if settings.REDIS_URL else MemoryReplyLog()
    return _log
