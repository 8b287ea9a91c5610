"""The ordered log of each streaming reply's frames: replay from any `seq`, then follow live until done.

The task that reads a provider appends `message.delta` frames (and one `message.done`) here; every socket
that shows the reply (the sender's, a second tab, a reconnect, on any Daphne process) follows the log. So a
follower never sees a gap or a duplicate, and a reply outlives the socket that started it. With REDIS_URL
the log is a Redis Stream per reply, shared by all processes (`redis_streams.py`); without it, an in-process
list (`in_memory.py`). A log is named by its message's `stream_key`, a UUID that, unlike the id, is never
reused. Each frame has a position in its log: a delta's is its `seq`, the `message.done` comes one after
the last delta.

The log also carries stop requests to the process that streams a reply, wherever the stop was asked for.
"""

from collections.abc import AsyncIterator
from typing import Protocol

from django.conf import settings

from chat.liveness import PROCESS_ID
from chat.reply_log.in_memory import MemoryReplyLog
from chat.reply_log.redis_streams import RedisReplyLog


class ReplyLog(Protocol):
    def append(self, key: str, position: int, frame: dict) -> None:
        """Queue a frame at `position` of the reply's log; frames of one reply are stored in the order given.

        Never blocks and never raises: the log stores it in the background and retries until it can.
        """

    async def flush(self, key: str, timeout: float) -> bool:
        """Wait until every frame queued for `key` is stored; return False if `timeout` passed first."""

    def follow(self, key: str, after_seq: int = 0, *, idle_seconds: float) -> AsyncIterator[dict | None]:
        """Yield the reply's frames after position `after_seq`, then live ones, ending after `message.done`.

        Yield None after each `idle_seconds` without a frame, so the caller can check on the reply.
        """

    async def read(self, key: str) -> list[dict]:
        """Return the frames logged so far, in order, without waiting for more."""

    def stops_for(self, key: str):
        """Return an `asyncio.Event` set when someone asks to stop the reply; `forget_stops` when it ends."""

    def forget_stops(self, key: str) -> None:
        """Stop listening for stop requests of a reply that ended."""

    async def request_stop(self, key: str, process_id: str) -> None:
        """Ask process `process_id`, which streams the reply, to stop it."""

    async def close(self) -> None:
        """Close this event loop's connections (a short-lived loop, such as a Celery task's, calls it)."""


_log: ReplyLog | None = None


def reply_log() -> ReplyLog:
    """Return this process's reply log (Redis Streams when REDIS_URL is set, else in-process)."""
    global _log
    if _log is None:
        _log = RedisReplyLog(settings.REDIS_URL, PROCESS_ID) if settings.REDIS_URL else MemoryReplyLog()
    return _log
