"""An attachment as the page, the frames and the exports show it (never its stored path)."""

from django.urls import reverse

from chat.models import Attachment


def attachment_json(attachment: Attachment) -> dict:
    """Return what a person sees of a file: name, kind, size, an image's pixels or a PDF's pages, and its URL."""
    return {
        "id": str(attachment.public_id),
        "name": attachment.name,
        "kind": attachment.kind,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "width": attachment.width,
        "height": attachment.height,
        "pages": attachment.pages,
        "url": reverse("chat_api:attachment_content", args=[attachment.public_id]),
    }
