"""Run one reply: read the provider, write coalesced deltas to the reply log, then settle and save it.

A reply runs as a task of the process, not of the socket that asked for it, so closing the tab does not
lose a reply that is being paid for. Tokens are coalesced into one `message.delta` per interval (about 30
ms): the first token goes out at once, later ones wait at most one interval. A stop may come from any
process through the reply log, which this task checks while it streams.
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat.protocol import MessageDelta
from chat.providers.base import Delta, Finished
from chat.providers.errors import ContentRefused, ProviderError
from chat.providers.registry import adapter_for
from chat.services import PreparedReply, ReplyOutcome, finish_reply, wallet_numbers
from chat.streams import ReplyLog, reply_log

logger = logging.getLogger(__name__)
STOP_POLL_SECONDS = 0.2

_running: set[asyncio.Task] = set()  # strong references: a task nobody holds may be garbage collected


def start_replies(replies: list[PreparedReply]) -> list[asyncio.Task]:
    """Start streaming each reply in this process, independent of any socket."""
    tasks = []
    for reply in replies:
        task = asyncio.create_task(run_reply(reply), name=f"reply-{reply.message_id}")
        _running.add(task)
        task.add_done_callback(_running.discard)
        tasks.append(task)
    return tasks


async def run_reply(reply: PreparedReply, log: ReplyLog | None = None) -> None:
    """Stream one reply to the log and finish it (settle, save, `message.done`, `wallet`), whatever happens."""
    log = log or reply_log()
    cancel = asyncio.Event()
    writer = DeltaWriter(reply.message_id, reply.stream_key, log)
    watcher = asyncio.create_task(_watch_for_stop(reply.stream_key, log, cancel))
    started = time.monotonic()
    first_token_at = None
    usage, error = None, None
    try:
        async for event in adapter_for(reply.call.provider.wire_format).stream(reply.call, cancel):
            if isinstance(event, Delta):
                first_token_at = first_token_at or time.monotonic()
                writer.add(event.text)
            elif isinstance(event, Finished):
                usage = event.usage
    except ContentRefused as refused:
        usage, error = refused.usage, refused
    except ProviderError as failure:
        error = failure
    except Exception:  # a bug must not leave the hold pending or the reply unfinished
        logger.exception("reply %s failed unexpectedly", reply.message_id)
        error = ProviderError("Something went wrong while streaming this reply.")
    finally:
        watcher.cancel()
        await writer.close()
    outcome = ReplyOutcome(
        text=writer.text,
        usage=usage,
        stopped=cancel.is_set() and error is None,
        error_code=error.code if error else "",
        error_detail=error.detail if error else "",
        ttft_ms=round((first_token_at - started) * 1000) if first_token_at else None,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    done = await database_sync_to_async(finish_reply)(
        message_id=reply.message_id, outcome=outcome, estimated_input_tokens=reply.estimated_input_tokens
    )
    await log.append(reply.stream_key, done.model_dump(mode="json"))
    await notify_wallet(reply.user_id)


async def _watch_for_stop(stream_key: str, log: ReplyLog, cancel: asyncio.Event) -> None:
    while not cancel.is_set():
        if await log.stop_requested(stream_key):
            cancel.set()
            return
        await asyncio.sleep(STOP_POLL_SECONDS)


async def notify_wallet(user_id: int) -> None:
    """Tell every open tab of the user their balance and held credits."""
    balance, held = await database_sync_to_async(wallet_numbers)(user_id)
    await get_channel_layer().group_send(
        f"user.{user_id}", {"type": "wallet.changed", "balance_credits": balance, "held_credits": held}
    )


class DeltaWriter:
    """Coalesce tokens into `message.delta` frames and append them to the log in order, off the read path."""

    def __init__(self, message_id: int, stream_key: str, log: ReplyLog):
        self.message_id = message_id
        self.stream_key = stream_key
        self.log = log
        self.interval = settings.CHAT_DELTA_INTERVAL_SECONDS
        self.parts: list[str] = []
        self.pending: list[str] = []
        self.seq = 0
        self.last_flush = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.queue: asyncio.Queue[dict | None] = asyncio.Queue()
        self.sender = asyncio.create_task(self._send())

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str) -> None:
        """Take a token: flush now if the last frame is an interval old, else within the interval."""
        self.parts.append(text)
        self.pending.append(text)
        waited = time.monotonic() - self.last_flush
        if waited >= self.interval:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.interval - waited, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.pending:
            return
        self.seq += 1
        frame = MessageDelta(message_id=self.message_id, seq=self.seq, text="".join(self.pending))
        self.pending.clear()
        self.last_flush = time.monotonic()
        self.queue.put_nowait(frame.model_dump())

    async def _send(self) -> None:
        while (frame := await self.queue.get()) is not None:
            await self.log.append(self.stream_key, frame)

    async def close(self) -> None:
        """Flush what is left and wait until every frame is in the log.

        A log failure is logged, not raised: the reply must still be settled and saved.
        """
        self.flush()
        self.queue.put_nowait(None)
        try:
            await self.sender
        except Exception:
            logger.exception("reply %s: could not write its deltas to the reply log", self.message_id)
