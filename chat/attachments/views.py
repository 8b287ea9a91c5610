"""The attachments' endpoints: upload a file, see how it is being read, remove one not sent, and fetch it.

`POST /api/attachments/` (multipart, one `file`) keeps an upload and answers 201 with it, or 400/413 with
`{"error": code, "detail": sentence}` and nothing kept. `GET`/`DELETE /api/attachments/<id>/` read it (with
what it costs each model) or remove it before it is sent; `GET /api/attachments/<id>/content` serves the file.
Every one of them answers only the file's owner: anyone else's id, or an unknown one, is a 404.
"""

import uuid

from django.conf import settings
from django.http import FileResponse, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import api_login_required
from catalog.selectors import catalog_models
from chat.attachments.files import megabytes
from chat.attachments.json import attachment_json
from chat.attachments.prompt import Prompt
from chat.attachments.services import delete_unsent_attachment, upload_attachment
from chat.exceptions import AttachmentRefused, AttachmentTooLarge, NotFound, StillStreaming
from chat.models import Attachment
from errors.responses import error_response

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the form's boundaries and headers around the file


def attachment_detail_json(attachment: Attachment) -> dict:
    """Return a file as the composer shows it while it waits to be sent: its reading status and its cost.

    `tokens` is what it adds to a prompt's input for each enabled model (null: a model that cannot read it),
    by the formula the hold uses, so the composer's estimate counts it.
    """
    prompt = Prompt("", (attachment,))
    ready = attachment.status == Attachment.Status.READY
    return {
        **attachment_json(attachment),
        "status": attachment.status,
        "error": attachment.error,
        "pages_read": attachment.pages_read,
        "sent": attachment.turn_id is not None,
        "tokens": {
            model.slug: prompt.attachment_tokens_for(model) if ready and can_read(model, attachment) else None
            for model in catalog_models()
        },
    }


def can_read(model, attachment: Attachment) -> bool:
    """Return whether `model` can take the file: any file but an image, which needs vision."""
    return attachment.kind != Attachment.Kind.IMAGE or model.supports_vision


def owned_attachment(request, attachment_id) -> Attachment:
    """Return the person's file named in the URL; raise NotFound for any other (never saying whose it is)."""
    try:
        public_id = uuid.UUID(str(attachment_id))
    except ValueError:
        raise NotFound("There is no such file.") from None
    attachment = Attachment.objects.filter(user=request.user, public_id=public_id).first()
    if attachment is None:
        raise NotFound("There is no such file.")
    return attachment


@require_POST
@api_login_required
def attachment_upload(request):
    """Keep one uploaded file (the form field `file`) for the person's next prompt."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:  # refused before it is read
        limit = megabytes(settings.ATTACHMENT_MAX_BYTES)
        return error_response(AttachmentTooLarge(f"This file is too large; a file can be at most {limit}."), status=413)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return error_response(AttachmentRefused("Send the file in a form field called “file”."), status=400)
    try:
        attachment = upload_attachment(user=request.user, name=uploaded.name or "file", data=uploaded.read())
    except AttachmentTooLarge as too_large:
        return error_response(too_large, status=413)
    except AttachmentRefused as refused:
        return error_response(refused, status=400)
    return JsonResponse(attachment_detail_json(attachment), status=201)


@require_http_methods(["GET", "DELETE"])
@api_login_required
def attachment_detail(request, attachment_id):
    """Read a file's status and costs (GET; the composer polls it while a PDF is read), or remove it (DELETE)."""
    try:
        attachment = owned_attachment(request, attachment_id)
        if request.method == "DELETE":
            delete_unsent_attachment(attachment)
            return HttpResponse(status=204)
    except NotFound as missing:
        return error_response(missing, status=404)
    except StillStreaming as sent:
        return error_response(sent, status=409)
    return JsonResponse(attachment_detail_json(attachment))


@require_GET
@api_login_required
def attachment_content(request, attachment_id):
    """Serve the file to its owner: images shown inline, others downloaded; never sniffed, never cached shared."""
    try:
        attachment = owned_attachment(request, attachment_id)
    except NotFound as missing:
        return error_response(missing, status=404)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=attachment.kind != Attachment.Kind.IMAGE,
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"  # a file is never a page that runs
    response["Cache-Control"] = "private, max-age=3600"
    return response
