"""Read the text of a PDF with pypdf: its pages counted at once, its text page by page, with progress saved.

A short PDF is read while it is uploaded; a longer one (over `ATTACHMENT_BACKGROUND_PAGES`) by a Celery worker,
which saves how many pages it has read so the composer can show the progress, and marks the file ready, or
failed with a reason, when it ends.
"""

import io
import logging

from django.conf import settings
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from chat.exceptions import AttachmentRefused, AttachmentTooLarge
from chat.models import Attachment

logger = logging.getLogger(__name__)
PROGRESS_EVERY_PAGES = 5


def open_pdf(name: str, data: bytes) -> PdfReader:
    """Return a reader for the PDF, refusing one that is damaged, encrypted or over the page limit."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise AttachmentRefused(f"“{name}” is password-protected. Attach a copy without a password.")
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError):
        raise AttachmentRefused(f"“{name}” could not be read as a PDF; it may be damaged.") from None
    if pages == 0:
        raise AttachmentRefused(f"“{name}” has no pages.")
    if pages > settings.ATTACHMENT_MAX_PDF_PAGES:
        raise AttachmentTooLarge(
            f"“{name}” has {pages:,} pages; a PDF can have at most {settings.ATTACHMENT_MAX_PDF_PAGES:,}."
        )
    return reader


def read_text(attachment: Attachment, reader: PdfReader | None = None) -> None:
    """Read the PDF's text into `attachment`, saving progress; end it ready, or failed with a reason.

    `reader` is the file already opened (by the upload); else it is read from storage (by a worker).
    """
    try:
        if reader is None:
            reader = open_pdf(attachment.name, attachment.file_bytes())
        texts = []
        for number, page in enumerate(reader.pages, start=1):
            texts.append(page_text(page))
            if number % PROGRESS_EVERY_PAGES == 0 and number < len(reader.pages):
                Attachment.objects.filter(pk=attachment.pk).update(pages_read=number)
        text = "\n\n".join(texts).strip()
        if not text:
            raise AttachmentRefused(
                f"No text could be read from “{attachment.name}”: it may be scanned pages. "
                "Attach the pages as images instead."
            )
        if len(text) > settings.ATTACHMENT_MAX_TEXT_CHARS:
            raise AttachmentTooLarge(
                f"“{attachment.name}” has {len(text):,} characters of text; a file can add at most "
                f"{settings.ATTACHMENT_MAX_TEXT_CHARS:,} to a prompt."
            )
    except AttachmentRefused as refused:
        attachment.status, attachment.error = Attachment.Status.FAILED, refused.detail
    else:
        attachment.status, attachment.text = Attachment.Status.READY, text
    attachment.pages_read = attachment.pages or 0
    attachment.save(update_fields=["status", "error", "text", "pages_read"])


def page_text(page) -> str:
    """Return one page's text; a page pypdf cannot read gives none rather than failing the whole file."""
    try:
        return page.extract_text() or ""
    except Exception:  # pypdf raises many kinds on odd pages; one bad page should not lose the others
        logger.warning("A PDF page could not be read", exc_info=True)
        return ""
