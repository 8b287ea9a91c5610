"""The public page of a shared link: a read-only view of a conversation's branch (or one turn), for anyone.

It shows what the owner chose to share and nothing of anyone's account: no wallet, no email, no account links,
for the owner and for whoever opens it, logged in or not. Figures (tokens, credits, dollars) only when the
owner asked for them. The system prompt is part of the owner's set-up, not of the conversation, and is never
shown. Search engines are asked not to index it; it leaks no referrer and is never cached, so a revoked link
stops working at once.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing.models import BillingSettings
from billing.pricing import usd_for_credits
from chat.exceptions import NotFound
from chat.models import Message
from chat.services import AUTO
from chat.sharing import shared_link, shared_turns

NO_INDEX = "noindex, nofollow"


@dataclass(frozen=True)
class SharedReply:
    """One panel's reply as the shared page shows it; its text goes to the page as data, rendered as markdown."""

    model: str
    auto: bool
    status: str
    text_index: int
    input_tokens: int
    output_tokens: int
    credits: int
    usd: Decimal


def shared_reply(message: Message, text_index: int, credits_per_usd: int) -> SharedReply:
    """Return what the page shows of one reply."""
    return SharedReply(
        model=message.model.name,
        auto=message.requested_model == AUTO,
        status=message.status,
        text_index=text_index,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        credits=message.credits,
        usd=usd_for_credits(message.credits, credits_per_usd=credits_per_usd),
    )


@never_cache
@require_GET
def shared_page(request, token: str):
    """Show a shared conversation's branch, or one turn, read-only; a revoked or unknown link is the 404 page."""
    try:
        link = shared_link(token)
    except NotFound:
        raise Http404("There is no such link.") from None
    credits_per_usd = BillingSettings.load().credits_per_usd
    turns, texts = [], []
    for turn in shared_turns(link):
        replies = []
        for message in turn.shown:
            replies.append(shared_reply(message, len(texts), credits_per_usd))
            texts.append(message.text)
        turns.append({"content": turn.content, "replies": replies, "files": [a.name for a in turn.attachments.all()]})
    context = {
        "title": link.conversation.title or "A conversation",
        "one_turn": link.turn_id is not None,
        "show_costs": link.show_costs,
        "turns": turns,
        "texts": texts,
    }
    response = render(request, "chat/shared.html", context)
    response["X-Robots-Tag"] = NO_INDEX
    response["Referrer-Policy"] = "no-referrer"
    return response
