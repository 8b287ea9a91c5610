"""How many replies this process streams at once, so a crowd meets a clear `busy` instead of hanging replies.

Every reply a process streams costs it CPU, memory and a provider connection; past a limit, new replies slow
down everyone's. A turn takes one slot per panel before anything is written or held, and each reply gives
its slot back when it ends. The event loop runs one thing at a time, so taking slots needs no lock.
"""

from django.conf import settings

from chat.exceptions import Busy


class StreamSlots:
    def __init__(self, limit: int):
        self.limit = limit
        self.taken = 0

    def take(self, count: int) -> None:
        """Take `count` slots, or raise `Busy` (taking none) when fewer are free."""
        if self.taken + count > self.limit:
            raise Busy(
                "This server is answering as many replies as it can right now; "
                f"try again in {settings.CHAT_BUSY_RETRY_SECONDS} seconds.",
                retry_after_seconds=settings.CHAT_BUSY_RETRY_SECONDS,
            )
        self.taken += count

    def give_back(self, count: int) -> None:
        self.taken = max(0, self.taken - count)


_slots: StreamSlots | None = None


def stream_slots() -> StreamSlots:
    """Return this process's slots (the limit is read once, from CHAT_MAX_STREAMS_PER_PROCESS)."""
    global _slots
    if _slots is None:
        _slots = StreamSlots(settings.CHAT_MAX_STREAMS_PER_PROCESS)
    return _slots
