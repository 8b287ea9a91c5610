"""The chat page: a server-rendered shell with everything the ES modules in static/js/ need to start."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.selectors import wallet_of
from chat.attachments.files import IMAGE_EXTENSIONS, TEXT_EXTENSIONS
from chat.exceptions import NotFound
from chat.preset_api import presets_json
from chat.protocol import MAX_CONTENT_CHARS, MAX_FRAME_BYTES
from chat.selectors import conversation_for
from chat.views import catalog_json, conversation_json

# What the file chooser offers: the kinds chat/attachments/files.py takes (it reads the bytes whatever is chosen).
ACCEPTED_FILES = ",".join(["image/*", "application/pdf", ".pdf", *sorted(IMAGE_EXTENSIONS), *sorted(TEXT_EXTENSIONS)])


@require_GET
@login_required
def chat_page(request, conversation_id: int | None = None):
    """Show the chat: the person's conversations, the model picker, and one conversation (or a new one)."""
    conversation = None
    if conversation_id is not None:
        try:
            conversation = conversation_for(request.user, conversation_id)
        except NotFound:
            raise Http404("There is no such conversation.") from None
    wallet = wallet_of(request.user)
    boot = {
        "catalog": catalog_json(),
        "wallet": {"balance_credits": wallet.balance_credits, "held_credits": wallet.held_credits},
        "auto_ceiling_credits": wallet.auto_ceiling_credits,  # Auto's choice, and so the estimate, respect it
        "conversation": conversation_json(conversation) if conversation else None,
        "presets": presets_json(request.user),  # built-in first; a click starts a new chat from one
        "limits": {"prompt_characters": MAX_CONTENT_CHARS, "frame_bytes": MAX_FRAME_BYTES},
    }
    context = {
        "boot": boot,
        "wallet": wallet,
        "conversation": conversation,
        "attachments_per_prompt": settings.ATTACHMENTS_PER_PROMPT,  # the composer says so before uploading more
        "accepted_files": ACCEPTED_FILES,
    }
    return render(request, "chat/chat.html", context)
