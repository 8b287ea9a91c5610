"""Events for every open tab of one person: each socket joins its user's channel-layer group.

The group carries small events (the wallet, a conversation's new title, a turn just started); reply text never
goes through the channel layer (see chat/reply_log/).
"""

import logging

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def tabs_of(user_id: int) -> str:
    """Return the name of the channel-layer group every open socket of this user joins."""
    return f"user.{user_id}"


async def tell_tabs(user_id: int, event: dict) -> None:
    """Send `event` (its `type` names the consumer's handler) to every open tab of the user."""
    await get_channel_layer().group_send(tabs_of(user_id), event)


async def tell_wallet(user_id: int, wallet: tuple[int, int]) -> None:
    """Tell every open tab of the user their (balance, held) credits; best effort: the next one heals."""
    balance, held = wallet
    await _tell_best_effort(user_id, {"type": "wallet.changed", "balance_credits": balance, "held_credits": held})


async def tell_turn(user_id: int, frame: dict, *, from_channel: str) -> None:
    """Tell the user's other tabs that a turn (or a reply's new version) started, as its `turn.started` frame.

    A tab showing that conversation draws it and follows its replies; best effort: a reload shows it.
    """
    await _tell_best_effort(user_id, {"type": "turn.started", "frame": frame, "from_channel": from_channel})


async def tell_title(user_id: int, conversation_id: int, title: str) -> None:
    """Tell every open tab of the user a conversation's new title; best effort: a reload shows it."""
    event = {"type": "conversation.updated", "conversation_id": conversation_id, "title": title}
    await _tell_best_effort(user_id, event)


async def _tell_best_effort(user_id: int, event: dict) -> None:
    try:
        await tell_tabs(user_id, event)
    except Exception as error:  # the channel layer (Redis) away: these events are snapshots, not records
        logger.warning("could not tell user %s's tabs %s: %s", user_id, event["type"], error)
