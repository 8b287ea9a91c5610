"""Background work of the chat app."""

import asyncio

from celery import shared_task

from chat.attachments.tasks import read_attachment_text  # noqa: F401 (registered with the worker)
from chat.housekeeping import finish_abandoned_replies
from chat.reply_log import reply_log


@shared_task(name="chat.finish_abandoned_replies")
def finish_abandoned_replies_task() -> int:
    """Finish replies whose streaming process died, from what their logs hold; return how many."""

    async def finish() -> int:
        log = reply_log()
        try:
            return await finish_abandoned_replies(log)
        finally:
            await log.close()  # this event loop ends with the task

    return asyncio.run(finish())
