"""Relay one reply: read the provider, log coalesced deltas, then settle and save it, whatever happens.

A reply runs as a task of the process, not of the socket that asked for it, so closing the tab does not
lose a reply that is being paid for. Tokens are coalesced into one `message.delta` per interval (about 30
ms): the first token goes out at once, later ones wait at most one interval. A stop may come from any
process through the reply log. A reply always ends before its hold expires, so it can always be charged.
"""

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from chat.capacity import stream_slots
from chat.database import in_thread_pool
from chat.frames import message_done_frame
from chat.protocol import MessageDelta
from chat.providers.base import CallRequest, Delta, Finished
from chat.providers.errors import ContentRefused, ProviderError, ProviderFailed, ProviderTimeout
from chat.providers.registry import adapter_for
from chat.reply_log import ReplyLog, reply_log
from chat.services import FinishedReply, PreparedReply, ReplyOutcome, finish_reply
from chat.tabs import tell_wallet

logger = logging.getLogger(__name__)
T = TypeVar("T")
HOLD_MARGIN_SECONDS = 60  # a reply still running this long before its hold expires is ended
FINISH_RETRY_SECONDS = (0.5, 1, 2, 5, 10)  # waits between attempts to save a reply while the database is away

_running: dict[int, asyncio.Task] = {}  # message id -> its task (a task nobody holds may be garbage collected)
_admitting: dict[int, datetime] = {}  # turns being written and started here -> when each began
_admission_numbers = itertools.count()


@contextmanager
def admitting() -> Iterator[None]:
    """Mark a turn as being written and started in this process, from before it is written until its tasks run.

    Under load the turn may be written long before its replies' tasks start (the database thread and the
    event loop both queue), and a sweep in between must not take those replies for orphans.
    """
    number = next(_admission_numbers)
    _admitting[number] = timezone.now()
    try:
        yield
    finally:
        del _admitting[number]


@dataclass(frozen=True)
class RunningReplies:
    """The replies this process streams, and the moment before which it knows every reply it started.

    Every reply of this process written before `known_before` that still streams is either in `ids` or
    has no task (an orphan); one written since may belong to a turn whose tasks are about to start.
    """

    ids: frozenset[int]
    known_before: datetime


def start_replies(replies: list[PreparedReply]) -> list[asyncio.Task]:
    """Start streaming each reply in this process; each gives its stream slot back when it ends."""
    tasks = []
    for reply in replies:
        task = asyncio.create_task(run_reply(reply), name=f"reply-{reply.message_id}")
        _running[reply.message_id] = task
        task.add_done_callback(lambda task, message_id=reply.message_id: _finished(message_id, task))
        tasks.append(task)
    return tasks


def running_replies() -> RunningReplies:
    """Return the replies this process is streaming, taken at once on the event loop."""
    now = timezone.now()
    return RunningReplies(ids=frozenset(_running), known_before=min([now, *_admitting.values()]))


def _finished(message_id: int, task: asyncio.Task) -> None:
    _running.pop(message_id, None)
    stream_slots().give_back(1)
    if not task.cancelled() and task.exception() is not None:
        logger.error("reply task %s failed", task.get_name(), exc_info=task.exception())


async def run_reply(reply: PreparedReply, log: ReplyLog | None = None) -> None:
    """Stream one reply to its log and finish it (settle, save, `message.done`, `wallet.changed`)."""
    log = log or reply_log()
    writer = DeltaWriter(reply.message_id, reply.stream_key, log)
    try:
        outcome = await _stream(reply, log, writer)
    except Exception:  # a bug must not leave the reply streaming and its credits held while this process lives
        logger.exception("reply %s failed unexpectedly", reply.message_id)
        outcome = ReplyOutcome(
            text=writer.text,
            usage=None,
            stopped=False,
            error_code=ProviderFailed.code,
            error_detail="Something went wrong while streaming this reply.",
        )
    finally:
        log.forget_stops(reply.stream_key)
    finished = await _finish(reply, outcome)
    log.append(reply.stream_key, writer.seq + 1, message_done_frame(finished.message).model_dump(mode="json"))
    await tell_wallet(reply.user_id, finished.wallet)


async def _stream(reply: PreparedReply, log: ReplyLog, writer: "DeltaWriter") -> ReplyOutcome:
    """Read the provider into the writer until the reply ends, is stopped (from any process), or runs out of time."""
    return await read_provider(
        reply.call, writer, cancel=log.stops_for(reply.stream_key), hold_expires_at=reply.hold_expires_at
    )


class TextSink(Protocol):
    """Where a call's text goes as it arrives: `add` each piece, `flush` at the end; `text` is all of it."""

    text: str

    def add(self, text: str) -> None: ...

    def flush(self) -> None: ...


async def read_provider(
    call: CallRequest, sink: TextSink, *, cancel: asyncio.Event, hold_expires_at: datetime
) -> ReplyOutcome:
    """Call the provider and feed its text to `sink` until the call ends, `cancel` is set, or time runs out.

    The one reading of a model call, for a chat reply and an API call alike: it ends before the hold that
    pays for it expires (so it can always be charged) and measures the first token and the speed.
    """
    out_of_time = asyncio.Event()
    seconds_left = (hold_expires_at - timezone.now()).total_seconds() - HOLD_MARGIN_SECONDS
    deadline = asyncio.get_running_loop().call_later(max(seconds_left, 1), _end, out_of_time, cancel)
    started = time.monotonic()
    first_token_at = last_token_at = None
    usage, error = None, None
    try:
        async for event in adapter_for(call.provider.wire_format).stream(call, cancel):
            if isinstance(event, Delta):
                last_token_at = time.monotonic()
                first_token_at = first_token_at or last_token_at
                sink.add(event.text)
            elif isinstance(event, Finished):
                usage = event.usage
    except ContentRefused as refused:
        usage, error = refused.usage, refused
    except ProviderError as failure:
        error = failure
    finally:
        deadline.cancel()
        sink.flush()
    if out_of_time.is_set():
        error = ProviderTimeout("This reply ran for as long as a reply may; what had arrived is kept.")
    return ReplyOutcome(
        text=sink.text,
        usage=usage,
        stopped=cancel.is_set() and error is None,
        error_code=error.code if error else "",
        error_detail=error.detail if error else "",
        ttft_ms=round((first_token_at - started) * 1000) if first_token_at else None,
        duration_ms=round((time.monotonic() - started) * 1000),
        # Speed is measured over this, not to the end of the call, which may come later (a stop, a cut).
        streaming_ms=round((last_token_at - first_token_at) * 1000) if first_token_at else None,
        retry_after_seconds=getattr(error, "retry_after_seconds", None),
    )


def _end(out_of_time: asyncio.Event, cancel: asyncio.Event) -> None:
    out_of_time.set()
    cancel.set()


async def _finish(reply: PreparedReply, outcome: ReplyOutcome) -> FinishedReply:
    """Settle and save the reply, waiting out a database that is briefly away (the reply is paid for)."""
    return await until_saved(
        finish_reply,
        f"reply {reply.message_id}",
        message_id=reply.message_id,
        outcome=outcome,
        estimated_input_tokens=reply.estimated_input_tokens,
    )


async def until_saved(save: Callable[..., T], what: str, **kwargs) -> T:
    """Run `save` on a database thread until it succeeds, waiting out a database that is briefly away.

    For what must not be lost: a paid call's settlement. `what` names it in the log.
    """
    attempt = 0
    while True:
        try:
            return await in_thread_pool(save)(**kwargs)
        except DatabaseError as error:
            logger.warning("%s: could not save it (%s); retrying", what, error)
            await asyncio.sleep(FINISH_RETRY_SECONDS[min(attempt, len(FINISH_RETRY_SECONDS) - 1)])
            attempt += 1


class DeltaWriter:
    """Coalesce tokens into `message.delta` frames and append them to the reply's log in order."""

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
        """Log what is pending as one frame (the log stores it in the background)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.pending:
            return
        self.seq += 1
        frame = MessageDelta(message_id=self.message_id, seq=self.seq, text="".join(self.pending))
        self.pending.clear()
        self.last_flush = time.monotonic()
        self.log.append(self.stream_key, self.seq, frame.model_dump())
