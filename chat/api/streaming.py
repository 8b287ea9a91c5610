"""Run an admitted API call as a task of the process, and turn what it produces into the HTTP reply.

The call runs apart from the request, as a chat reply does, so that however the request ends (the program
hangs up, the server cancels it) the call is stopped upstream and charged for its input and the output that
came: a program that disconnects mid-stream pays for what it was sent, never for more. The reply waits for
the call's settlement before its last chunk, so a program that has read to the end finds the charge on the
ledger.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass

from chat.api.calls import StartedCall, finish_call, nothing_came
from chat.api.responses import (
    ChunkWriter,
    completion_json,
    error_response,
    finish_reason_of,
    panels_json,
    usage_json,
)
from chat.capacity import stream_slots
from chat.models import ApiCall
from chat.providers import errors as provider_errors
from chat.providers.errors import ProviderFailed
from chat.relay import read_provider, until_saved
from chat.services import ReplyOutcome
from errors import PanelsError

logger = logging.getLogger(__name__)
_running: set[asyncio.Task] = set()  # a task nobody holds may be garbage collected


@dataclass(frozen=True)
class Ended:
    """How a call ended, and the call as settling it saved it (its usage and credits are what was charged)."""

    outcome: ReplyOutcome
    call: ApiCall


class CallFeed:
    """Where a running call's text goes: kept whole, and queued piece by piece for the reply, then its end."""

    def __init__(self):
        self.parts: list[str] = []
        self.queue: asyncio.Queue[str | Ended] = asyncio.Queue()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.queue.put_nowait(text)

    def flush(self) -> None:
        """Nothing to do: each piece is queued as it comes."""


class CallRun:
    """One API call running in this process: its feed, the event that stops it, and its end."""

    def __init__(self, started: StartedCall):
        self.started = started
        self.feed = CallFeed()
        self.cancel = asyncio.Event()
        self.ended: asyncio.Future[Ended] = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        started = self.started
        try:
            outcome = await read_provider(
                started.request, self.feed, cancel=self.cancel, hold_expires_at=started.hold_expires_at
            )
        except Exception:  # a bug must not leave the call streaming and its credits held
            logger.exception("API call %s failed unexpectedly", started.call_id)
            outcome = ReplyOutcome(
                text=self.feed.text,
                usage=None,
                stopped=False,
                error_code=ProviderFailed.code,
                error_detail="Something went wrong while answering; it has been logged.",
            )
        ended = Ended(outcome, await _settle(started, outcome))
        self.ended.set_result(ended)
        self.feed.queue.put_nowait(ended)

    def stop(self) -> None:
        """Stop the call upstream (the program is gone); it is still settled, for what came."""
        self.cancel.set()


def start_call_run(started: StartedCall) -> CallRun:
    """Start the call as a task of this process; it gives back its stream slot when it ends."""
    call = CallRun(started)
    _run_in_process(call.run(), started)
    return call


def call_off(started: StartedCall) -> asyncio.Task:
    """Finish an admitted call that will not be made (its program hung up first): release its hold, in a task."""
    return _run_in_process(_settle(started, nothing_came("The program hung up before the call started.")), started)


async def _settle(started: StartedCall, outcome: ReplyOutcome) -> ApiCall:
    """Settle the call for `outcome` and return it saved, waiting out a database that is briefly away."""
    return await until_saved(
        finish_call,
        f"API call {started.call_id}",
        call_id=started.call_id,
        outcome=outcome,
        estimated_input_tokens=started.estimated_input_tokens,
    )


def _run_in_process(work: Coroutine, started: StartedCall) -> asyncio.Task:
    """Run `work` as a task of the process, held until it ends, when it gives back the call's stream slot."""
    task = asyncio.create_task(work, name=f"api-call-{started.call_id}")
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task) -> None:
    _running.discard(task)
    stream_slots().give_back(1)
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s failed", task.get_name(), exc_info=task.exception())


def failure_of(outcome: ReplyOutcome) -> PanelsError | None:
    """Return the error a call ended with, as its class (for its status), or None if it did not fail."""
    if not outcome.error_code or outcome.error_code == provider_errors.ContentRefused.code:
        return None
    if outcome.error_code == provider_errors.RateLimited.code:
        return provider_errors.RateLimited(outcome.error_detail, retry_after_seconds=outcome.retry_after_seconds)
    for cls in provider_errors.ProviderError.__subclasses__():
        if cls.code == outcome.error_code:
            return cls(outcome.error_detail)
    return ProviderFailed(outcome.error_detail or "The provider could not answer.")


def _usage_and_panels(ended: Ended) -> tuple[dict, dict]:
    """Return the usage and Panels' fields of a reply, as its settlement saved them."""
    saved = ended.call
    panels = panels_json(
        credits=saved.credits,
        estimated=saved.usage_estimated,
        route_task=saved.route_task,
        route_reason=saved.route_reason,
    )
    return usage_json(saved.input_tokens, saved.output_tokens, saved.cached_input_tokens), panels


def _finish_reason(ended: Ended) -> str:
    if ended.outcome.error_code == provider_errors.ContentRefused.code:
        return "content_filter"
    usage = ended.outcome.usage
    return finish_reason_of(usage.finish_reason if usage else None)


async def whole_reply(call: CallRun):
    """Wait for the call's end and return it as one completion (or as an error, when nothing usable came)."""
    try:
        ended = await asyncio.shield(call.ended)
    except asyncio.CancelledError:  # the program hung up: stop the call (it is charged for what came)
        call.stop()
        raise
    usage, panels = _usage_and_panels(ended)
    failure = failure_of(ended.outcome)
    if failure is not None:
        # What came before the failure was charged (the provider billed it): it goes back with the error.
        extra = {"partial_content": ended.outcome.text, "usage": usage, "panels": panels} if ended.outcome.text else {}
        return error_response(failure, **extra)
    return completion_json(
        completion_id=f"chatcmpl-{call.started.public_id}",
        model=call.started.model_slug,
        text=ended.outcome.text,
        finish_reason=_finish_reason(ended),
        usage=usage,
        panels=panels,
    )


async def first_event(call: CallRun) -> str | Ended:
    """Wait for the call's first text or its end (a stream's status depends on which comes first)."""
    try:
        return await call.feed.queue.get()
    except asyncio.CancelledError:
        call.stop()
        raise


async def event_stream(call: CallRun, first: str, *, include_usage: bool) -> AsyncIterator[bytes]:
    """Yield the reply as server-sent events, from its `first` text to `[DONE]` (or an error event).

    Text that arrived while a chunk was being sent goes out together in the next one, so a busy process sends
    fewer, larger chunks instead of falling behind. Closing the stream early (the program hung up) stops the call.
    """
    writer = ChunkWriter(
        completion_id=f"chatcmpl-{call.started.public_id}", model=call.started.model_slug, include_usage=include_usage
    )
    queue = call.feed.queue
    ended = None
    try:
        item = first
        while not isinstance(item, Ended):
            parts = [item]
            while not queue.empty():
                item = queue.get_nowait()
                if isinstance(item, Ended):
                    break
                parts.append(item)
            else:
                item = None
            yield writer.text("".join(parts))
            if item is None:
                item = await queue.get()
        ended = item
    finally:
        if ended is None:
            call.stop()
    usage, panels = _usage_and_panels(ended)
    failure = failure_of(ended.outcome)
    if failure is None and not ended.outcome.stopped:
        yield writer.finish(_finish_reason(ended))
    if include_usage:
        yield writer.usage(usage, panels)
    if failure is not None:
        yield writer.error(failure)
        return
    yield writer.done()
