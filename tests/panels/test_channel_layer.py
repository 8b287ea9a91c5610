"""The channel layer as configured never drops a burst of stream frames sent to a slow reader.

channels-redis (and the in-memory layer) drop group messages silently once a channel holds `capacity`
messages; the library default of 100 loses most of a token stream. These tests send a burst before the
reader reads anything, then count and order what arrives.
"""

import asyncio
import contextlib
import uuid

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

BURST = 3_000


async def send_burst_and_drain(layer, count: int) -> list[int]:
    """Send `count` numbered frames to a group of one unread channel; return the numbers that arrive."""
    group = f"burst-{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    for seq in range(1, count + 1):
        await layer.group_send(group, {"type": "message.delta", "seq": seq})
    received = []
    with contextlib.suppress(TimeoutError):  # three quiet seconds mean nothing more is queued
        while len(received) < count:
            message = await asyncio.wait_for(layer.receive(channel), timeout=3)
            received.append(message["seq"])
    await layer.group_discard(group, channel)
    return received


async def test_the_configured_layer_delivers_every_frame_in_order():
    received = await send_burst_and_drain(get_channel_layer(), BURST)
    assert received == list(range(1, BURST + 1))


@pytest.mark.services
async def test_the_redis_layer_as_configured_delivers_every_frame_in_order():
    layer = RedisChannelLayer(
        hosts=[settings.REDIS_URL], prefix=f"test-{uuid.uuid4().hex}", capacity=settings.CHANNEL_LAYER_CAPACITY
    )
    try:
        received = await send_burst_and_drain(layer, BURST)
    finally:
        await layer.flush()
    assert received == list(range(1, BURST + 1))


@pytest.mark.services
async def test_the_library_default_capacity_would_drop_frames():
    """Guard for the tests above: the same burst through a default-sized layer loses frames."""
    layer = RedisChannelLayer(hosts=[settings.REDIS_URL], prefix=f"test-{uuid.uuid4().hex}")
    try:
        received = await send_burst_and_drain(layer, BURST)
    finally:
        await layer.flush()
    assert len(received) < BURST
