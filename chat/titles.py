"""A conversation's title: made from its first prompt after the first turn, never over one a person set."""

import re

from asgiref.sync import async_to_sync
from celery import shared_task

from chat.models import Conversation
from chat.tabs import tell_tabs

TITLE_WORDS = 8


def title_from(prompt: str) -> str:
    """Return a short title from a conversation's first prompt: its first line, at most a few words."""
    first_line = next((line.strip() for line in prompt.splitlines() if line.strip()), "New chat")
    words = re.sub(r"\s+", " ", first_line).split(" ")
    title = " ".join(words[:TITLE_WORDS])
    title = title.rstrip(".,;:!?")
    return (title[:80] + ("…" if len(words) > TITLE_WORDS or len(title) > 80 else "")) or "New chat"


@shared_task(name="chat.title_conversation", ignore_result=True)  # nobody waits for a title
def title_conversation(conversation_id: int) -> str:
    """Title a conversation after its first turn (unless it has one) and tell the owner's open tabs."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None or conversation.title:
        return ""
    first_turn = conversation.turns.order_by("created_at", "id").first()
    if first_turn is None:
        return ""
    title = title_from(first_turn.content)
    Conversation.objects.filter(pk=conversation_id, title="").update(title=title)
    async_to_sync(tell_tabs)(
        conversation.user_id, {"type": "conversation.updated", "conversation_id": conversation_id, "title": title}
    )
    return title
