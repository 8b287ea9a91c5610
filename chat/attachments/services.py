"""Write paths of attachments: keep an upload, delete one not sent, and take a prompt's files to send.

An upload is owned by the person who sent it and has no turn until a prompt is sent with it; after that it is
part of the conversation and goes with it (a deleted conversation deletes its files: see `delete_files`).
"""

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from chat.attachments.files import check_upload, megabytes
from chat.attachments.reading import open_pdf, read_text
from chat.attachments.tasks import read_attachment_text
from chat.exceptions import AttachmentRefused, AttachmentTooLarge, NotFound, StillStreaming
from chat.models import Attachment

UNSENT_KEPT = timedelta(days=1)  # a file attached and never sent (the tab closed) is deleted after this
# A PDF still being read after this lost its reading (a worker killed, Redis emptied): it is queued again, and
# given up on, with a reason the composer shows, after READING_GIVEN_UP.
READING_STUCK = timedelta(minutes=2)
READING_GIVEN_UP = timedelta(minutes=10)
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf", "text/plain": ".txt"}


def upload_attachment(*, user, name: str, data: bytes) -> Attachment:
    """Check the file and keep it for `user`; a long PDF's text is then read in the background."""
    checked = check_upload(name, data)
    reader = open_pdf(checked.name, checked.data) if checked.kind == Attachment.Kind.PDF else None
    pages = None if reader is None else len(reader.pages)
    in_background = pages is not None and pages > settings.ATTACHMENT_BACKGROUND_PAGES
    attachment = Attachment(
        user=user,
        name=checked.name,
        kind=checked.kind,
        content_type=checked.content_type,
        size_bytes=len(checked.data),
        width=checked.width,
        height=checked.height,
        pages=pages,
        text=checked.text,
        status=Attachment.Status.READING if pages is not None else Attachment.Status.READY,
    )
    attachment.file.save(EXTENSIONS[checked.content_type], ContentFile(checked.data), save=False)
    try:
        with transaction.atomic():
            attachment.save()
            if in_background:  # robust: a queue that fails (Redis away) is logged, and the sweep queues it later
                transaction.on_commit(lambda: read_attachment_text.delay(attachment.pk), robust=True)
    except BaseException:
        attachment.file.delete(save=False)  # no row: the file would be kept for no one
        raise
    if reader is not None and not in_background:
        read_text(attachment, reader)
    return attachment


def delete_unsent_attachment(attachment: Attachment) -> None:
    """Delete a file not yet sent with a prompt (one that was is part of its conversation)."""
    if attachment.turn_id is not None:
        raise StillStreaming("This file was sent with a prompt; it goes when its conversation is deleted.")
    attachment.delete()


def attachments_to_send(user, public_ids: Iterable[str]) -> tuple[Attachment, ...]:
    """Return the person's files named for a new prompt, locked, in the order given; refuse any that cannot go.

    Each must be theirs, not sent already, and read; together within the count and size limits per prompt.
    """
    ids = list(dict.fromkeys(public_ids))
    if not ids:
        return ()
    if len(ids) > settings.ATTACHMENTS_PER_PROMPT:
        raise AttachmentRefused(f"A prompt can have at most {settings.ATTACHMENTS_PER_PROMPT} files attached.")
    try:
        uuids = [uuid.UUID(str(public_id)) for public_id in ids]
    except ValueError:
        raise NotFound("There is no such attached file.") from None
    found = {
        a.public_id: a for a in Attachment.objects.select_for_update(no_key=True).filter(user=user, public_id__in=uuids)
    }
    if len(found) != len(uuids):
        raise NotFound("There is no such attached file; it may have been removed. Attach it again.")
    attachments = tuple(found[public_id] for public_id in uuids)
    for attachment in attachments:
        if attachment.turn_id is not None:
            raise AttachmentRefused(f"“{attachment.name}” was already sent with a prompt. Attach it again.")
        if attachment.status == Attachment.Status.READING:
            raise AttachmentRefused(f"“{attachment.name}” is still being read; send once it is ready.")
        if attachment.status == Attachment.Status.FAILED:
            raise AttachmentRefused(attachment.error or f"“{attachment.name}” could not be read.")
    total = sum(a.size_bytes for a in attachments)
    if total > settings.ATTACHMENTS_MAX_PROMPT_BYTES:
        raise AttachmentTooLarge(
            f"The files attached come to {megabytes(total)}; a prompt's files can come to at most "
            f"{megabytes(settings.ATTACHMENTS_MAX_PROMPT_BYTES)}."
        )
    return attachments


def delete_files(names: list[str]) -> None:
    """Delete stored files once the transaction that deleted their rows commits (a rollback keeps them)."""
    storage = Attachment._meta.get_field("file").storage

    def delete():
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def delete_unsent_attachments() -> int:
    """Delete the files attached more than `UNSENT_KEPT` ago and never sent; return how many."""
    deleted, _ = Attachment.objects.filter(turn__isnull=True, created_at__lt=timezone.now() - UNSENT_KEPT).delete()
    return deleted


def resume_stuck_reading(*, queue: str | None = None) -> tuple[int, int]:
    """Queue again the PDFs whose reading was lost, and fail those stuck too long; return (queued, failed).

    Reading is idempotent (it starts from the file each time), so a reading that was only slow and is read
    twice ends the same.
    """
    now = timezone.now()
    reading = Attachment.objects.filter(status=Attachment.Status.READING)
    failed = reading.filter(created_at__lt=now - READING_GIVEN_UP).update(
        status=Attachment.Status.FAILED,
        error="Reading this PDF took too long. Attach it again, or attach a shorter one.",
    )
    stuck = list(reading.filter(created_at__lt=now - READING_STUCK).values_list("pk", flat=True))
    for attachment_id in stuck:
        read_attachment_text.apply_async(args=[attachment_id], queue=queue)
    return len(stuck), failed
