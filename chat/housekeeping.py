"""Work every server process does in the background: its heartbeat, and finishing what dead processes left.

Each Daphne process beats every few seconds (chat/liveness.py) and sweeps: replies whose process died are
finished from what their logs hold (their followers get `message.done`), holds past their expiry are
released, long-dead processes are forgotten. It runs in every mode, the embedded one included (there is no
Celery beat there), from the moment the server's event loop starts; in production Celery beat runs the
same sweeps too, and running them twice is harmless (each reply and hold is finished once, under a lock).
"""

import asyncio
import logging
import random
import sys

from django.db import DatabaseError

from billing.services import release_expired_holds
from chat.api.calls import finish_abandoned_call
from chat.attachments.services import delete_unsent_attachments
from chat.database import in_thread_pool
from chat.frames import message_done_frame
from chat.liveness import HEARTBEAT_SECONDS, PROCESS_ID, forget_dead_processes, record_heartbeat
from chat.relay import RunningReplies, running_replies
from chat.reply_log import ReplyLog, reply_log
from chat.selectors import abandoned_api_calls, abandoned_replies
from chat.services import finish_abandoned_reply
from chat.tabs import tell_wallet

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 5
FLUSH_SECONDS = 5  # how long a sweep waits for a `message.done` to reach the log (it keeps trying after)
FINISHING_AT_ONCE = 8

_beat = in_thread_pool(record_heartbeat)


async def finish_abandoned_replies(log: ReplyLog) -> int:
    """Finish the replies nothing streams any more, from what their logs hold; return how many this call finished.

    Those whose process died, and this process's own that no task runs (see `abandoned_replies`). A dead
    process may leave hundreds: they are finished a few at a time, side by side.
    """
    replies = await in_thread_pool(_abandoned)(running_replies())
    room = asyncio.Semaphore(FINISHING_AT_ONCE)

    async def finish(message_id: int, stream_key: str, user_id: int) -> bool:
        async with room:
            frames = await log.read(stream_key)
            deltas = [frame for frame in frames if frame["type"] == "message.delta"]
            text = "".join(frame["text"] for frame in deltas)
            finished = await in_thread_pool(finish_abandoned_reply)(message_id=message_id, text=text)
            if finished is None:
                return False  # finished meanwhile, by its own process or by another sweeper
            done = message_done_frame(finished.message)
            log.append(stream_key, (deltas[-1]["seq"] if deltas else 0) + 1, done.model_dump(mode="json"))
            await log.flush(stream_key, timeout=FLUSH_SECONDS)
            await tell_wallet(user_id, finished.wallet)
            return True

    results = await asyncio.gather(*(finish(*reply) for reply in replies), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):  # Redis or the database away: the next sweep tries again
            logger.warning("could not finish an abandoned reply yet: %s", result)
    return sum(result is True for result in results)


def _abandoned(running: RunningReplies) -> list[tuple[int, str, int]]:
    replies = abandoned_replies(this_process=PROCESS_ID, running=running.ids, known_before=running.known_before)
    rows = replies.values_list("pk", "stream_key", "turn__user_id")
    return [(pk, str(key), user_id) for pk, key, user_id in rows]


async def finish_abandoned_api_calls() -> int:
    """Finish the API calls whose process died (their programs lost the stream with it); return how many."""
    finished = 0
    for call_id in await in_thread_pool(abandoned_api_calls)():
        await in_thread_pool(finish_abandoned_call)(call_id=call_id)
        finished += 1
    return finished


async def sweep(log: ReplyLog) -> None:
    """Finish abandoned replies and API calls, release expired holds, forget dead processes and old unsent files."""
    finished = await finish_abandoned_replies(log) + await finish_abandoned_api_calls()
    released = await in_thread_pool(release_expired_holds)()
    await in_thread_pool(forget_dead_processes)()
    await in_thread_pool(delete_unsent_attachments)()
    if finished or released:
        logger.info("finished %d abandoned replies and API calls, released %d expired holds", finished, released)


async def run_housekeeping() -> None:
    """Beat and sweep for as long as the process runs; a failure is logged and the next round tries again."""
    logger.info("server process %s: heartbeat every %d s", PROCESS_ID, HEARTBEAT_SECONDS)
    next_sweep = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            await _beat()
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + SWEEP_SECONDS * random.uniform(0.8, 1.2)  # noqa: S311 (spreads processes)
                await sweep(reply_log())
        except DatabaseError as error:
            logger.warning("housekeeping: the database is unavailable (%s)", error)
        except Exception:
            logger.exception("housekeeping failed; trying again")
        await asyncio.sleep(HEARTBEAT_SECONDS)


_housekeeping: asyncio.Task | None = None


def start_housekeeping() -> asyncio.Task:
    """Start housekeeping on the running event loop (once per process)."""
    global _housekeeping
    if _housekeeping is None:
        _housekeeping = asyncio.get_running_loop().create_task(run_housekeeping(), name="housekeeping")
    return _housekeeping


def start_with_the_server() -> None:
    """Start housekeeping when this process's server starts serving.

    Daphne runs the application on Twisted's asyncio reactor and has no ASGI lifespan events, so the start
    is scheduled on the reactor, which runs it once its event loop runs; without a reactor (tests, `manage.py
    shell`) nothing starts.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is not None:
        reactor.callLater(0, start_housekeeping)
