"""Shared links: read-only links to a conversation's branch (or one turn), which only their owner makes or revokes.

A link is a snapshot of *which* turns it shows: the branch the owner was viewing when sharing, up to that turn,
so later turns and other branches stay private. The replies it shows are read when the page is opened, as they
are then (a reply still streaming shows its text so far). A revoked link, and a link whose conversation was
deleted, is not found, exactly like one that never existed.
"""

import secrets

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from chat.exceptions import NotFound
from chat.models import Conversation, SharedLink, Turn
from chat.selectors import branch_turns, conversation_for
from errors import InvalidRequest

TOKEN_BYTES = 32  # 43 URL-safe characters: as hard to guess as a session key


def _branch_end(conversation: Conversation) -> Turn | None:
    """Return the last turn of the branch the owner views: the current turn, else the newest turn."""
    if conversation.current_turn_id is not None:
        return conversation.current_turn
    return conversation.turns.order_by("-created_at", "-id").first()


@transaction.atomic
def share_conversation(*, user, conversation_id, turn_id: int | None = None, show_costs: bool = False) -> SharedLink:
    """Make a link to the user's conversation as it is viewed now (its current branch), or to one turn of it.

    Another person's conversation, and a turn of another conversation, are `NotFound`; a conversation with no
    turn yet has nothing to share (`InvalidRequest`).
    """
    conversation = conversation_for(user, conversation_id)
    turn = None
    if turn_id is not None:
        try:
            turn = conversation.turns.get(pk=turn_id)
        except (Turn.DoesNotExist, ValueError, TypeError):
            raise NotFound("There is no such turn in this conversation.") from None
        last_turn = turn
    else:
        last_turn = _branch_end(conversation)
        if last_turn is None:
            raise InvalidRequest("This conversation has no turn to share yet.")
    return SharedLink.objects.create(
        token=secrets.token_urlsafe(TOKEN_BYTES),
        user=user,
        conversation=conversation,
        turn=turn,
        last_turn=last_turn,
        show_costs=show_costs,
    )


@transaction.atomic
def revoke_shared_link(*, user, token: str) -> SharedLink:
    """Revoke the user's link `token` from now on; revoking it again changes nothing. Anyone else's is `NotFound`."""
    try:
        link = SharedLink.objects.select_for_update().get(token=token, user=user)
    except SharedLink.DoesNotExist:
        raise NotFound("There is no such link.") from None
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def shared_links_for(user, conversation: Conversation) -> QuerySet[SharedLink]:
    """Return the user's live (unrevoked) links to `conversation`, newest first."""
    return SharedLink.objects.filter(user=user, conversation=conversation, revoked_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def shared_link(token: str) -> SharedLink:
    """Return the live link `token`, with its conversation, for anyone who has it; raise `NotFound` otherwise."""
    try:
        return SharedLink.objects.select_related("conversation").get(token=token, revoked_at__isnull=True)
    except SharedLink.DoesNotExist:
        raise NotFound("There is no such link.") from None


def shared_turns(link: SharedLink) -> list[Turn]:
    """Return the turns a link shows, first to last, each with its current replies (`turn.shown`).

    The branch up to the link's last turn; only that turn when the link is to one turn.
    """
    turns = branch_turns(link.conversation, link.last_turn_id)
    return turns[-1:] if link.turn_id is not None else turns
