"""Winners: the reply a person marks best in a turn (one per turn), the task it counts for, and my routing's opt-in.

A winner is marked only among two replies or more, so every marked turn is a real comparison and the usage
page's win counts, and what Auto learns from them (chat/router/preferences.py), mean what they say.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from chat.models import Message, Turn
from chat.router.classify import classify
from errors import InvalidRequest

NOT_IN_TURN = "That reply is not one of this turn's."


@transaction.atomic
def set_winner(*, turn: Turn, message: Message | None) -> Turn:
    """Mark `message` (any version of a reply of `turn`) the turn's best reply, or clear the mark with None.

    The turn records the task the mark counts for: the task Auto recognised when Auto routed the reply, else
    the task of the prompt (the one Auto would have seen). Refuse a reply of another turn, and a turn with a
    single panel (nothing was compared), leaving the turn as it was.
    """
    turn = Turn.objects.select_for_update(no_key=True).get(pk=turn.pk)
    if message is None:
        turn.winner, turn.winner_task = None, ""
    else:
        if message.turn_id != turn.pk:
            raise InvalidRequest(NOT_IN_TURN)
        if turn.messages.values("panel").distinct().count() < 2:
            raise InvalidRequest("A best reply is marked among two replies or more; this turn has one.")
        turn.winner = message
        turn.winner_task = message.route_task or classify(turn.content).task.value
    turn.save(update_fields=["winner", "winner_task"])
    return turn


def set_my_routing(*, user, enabled: bool) -> None:
    """Turn my routing on or off: whether Auto prefers the model this person marks best for a task."""
    get_user_model().objects.filter(pk=user.pk).update(routes_by_my_winners=enabled)
    user.routes_by_my_winners = enabled
