"""Events for every open tab of one person: each socket joins its user's channel-layer group.

The group carries small events (the wallet, a conversation's new title); reply text never goes through the
channel layer (see chat/reply_log/).
"""

from channels.layers import get_channel_layer


def tabs_of(user_id: int) -> str:
    """Return the name of the channel-layer group every open socket of this user joins."""
    return f"user.{user_id}"


async def tell_tabs(user_id: int, event: dict) -> None:
    """Send `event` (its `type` names the consumer's handler) to every open tab of the user."""
    await get_channel_layer().group_send(tabs_of(user_id), event)
