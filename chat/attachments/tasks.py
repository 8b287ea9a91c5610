"""The Celery task that reads a long PDF's text (registered through chat/tasks.py, which workers import)."""

from celery import shared_task

from chat.attachments.reading import read_text
from chat.models import Attachment


@shared_task(name="chat.read_attachment_text")
def read_attachment_text(attachment_id: int) -> str:
    """Read a long PDF's text in a worker, saving progress; return how it ended (ready, failed, or gone)."""
    attachment = Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.READING).first()
    if attachment is None:  # deleted meanwhile, or read already
        return "gone"
    read_text(attachment)
    return attachment.status


@shared_task(name="chat.resume_stuck_attachments")
def resume_stuck_attachments() -> tuple[int, int]:
    """Queue again the PDFs whose reading was lost (see services.resume_stuck_reading); beat runs it."""
    from chat.attachments.services import resume_stuck_reading  # services import this module's task

    return resume_stuck_reading()
