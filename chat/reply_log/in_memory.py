"""The embedded mode's reply log: one process, frames in a list per reply, followers woken by an event."""

import asyncio
from collections.abc import AsyncIterator

from chat.reply_log.frames import DONE, RETAIN_SECONDS


class MemoryReplyLog:
    def __init__(self):
        self._frames: dict[str, list[dict]] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._stops: dict[str, asyncio.Event] = {}

    def append(self, key: str, position: int, frame: dict) -> None:
        frames = self._frames.setdefault(key, [])
        if position <= len(frames):
            return  # already logged (the same frame sent again)
        frames.append(frame)
        self._changed.pop(key, asyncio.Event()).set()  # wake followers; the next wait gets a new event
        if frame["type"] == DONE:
            asyncio.get_running_loop().call_later(RETAIN_SECONDS, self._forget, key)

    def _forget(self, key: str) -> None:
        self._frames.pop(key, None)
        self._changed.pop(key, None)

    async def flush(self, key: str, timeout: float) -> bool:
        return True

    async def follow(self, key: str, after_seq: int = 0, *, idle_seconds: float) -> AsyncIterator[dict | None]:
        position = after_seq
        while True:
            frames = self._frames.get(key, [])
            while position < len(frames):
                frame = frames[position]
                position += 1
                yield frame
                if frame["type"] == DONE:
                    return
            changed = self._changed.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(changed.wait(), idle_seconds)
            except TimeoutError:
                yield None

    async def read(self, key: str) -> list[dict]:
        return list(self._frames.get(key, []))

    def stops_for(self, key: str) -> asyncio.Event:
        return self._stops.setdefault(key, asyncio.Event())

    def forget_stops(self, key: str) -> None:
        self._stops.pop(key, None)

    async def request_stop(self, key: str, process_id: str) -> None:
        if key in self._stops:
            self._stops[key].set()

    async def close(self) -> None:
        pass
