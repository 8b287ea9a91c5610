"""The channel layer as configured carries a person's tab events in order, through quiet spells and restarts.

The layer carries only events for open tabs (wallet, titles), never reply text. On Redis it is the pub/sub
layer: nothing queues in Redis, group memberships live in the process and are subscribed again when Redis
comes back, and its sockets' timeouts outlast every blocking read (redis-py 8 defaults to 5 s).
"""

import asyncio
import contextlib
import copy
import uuid

import pytest
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

BURST = 3_000


async def drain(layer, channel, count: int, quiet: float = 3) -> list[int]:
    """Receive up to `count` numbered events; `quiet` seconds without one mean nothing more is coming."""
    received = []
    with contextlib.suppress(TimeoutError):
        while len(received) < count:
            message = await asyncio.wait_for(layer.receive(channel), timeout=quiet)
            received.append(message["seq"])
    return received


async def listening(layer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


def configured_layer(url: str | None = None) -> RedisPubSubChannelLayer:
    """Return a new layer with the settings' configuration, on `url` (another Redis) when given."""
    config = copy.deepcopy(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"test-{uuid.uuid4().hex}"
    if url:
        config["hosts"][0]["address"] = url
    return RedisPubSubChannelLayer(**config)


async def test_the_configured_layer_delivers_a_burst_in_order():
    layer, group = get_channel_layer(), f"burst-{uuid.uuid4().hex}"
    channel = await listening(layer, group)
    for seq in range(1, BURST + 1):
        await layer.group_send(group, {"type": "wallet.changed", "seq": seq})
    assert await drain(layer, channel, BURST) == list(range(1, BURST + 1))
    await layer.group_discard(group, channel)


@pytest.mark.services
def test_redis_sockets_outlast_every_blocking_read():
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert host["socket_timeout"] > settings.REDIS_BLOCK_SECONDS
    assert host["health_check_interval"] > 0 and host["max_connections"] == settings.REDIS_POOL_SIZE


@pytest.mark.services
async def test_a_tab_quiet_for_longer_than_the_socket_timeout_still_gets_its_events():
    layer, group = configured_layer(), f"quiet-{uuid.uuid4().hex}"
    try:
        channel = await listening(layer, group)
        await asyncio.sleep(settings.REDIS_BLOCK_SECONDS + 2)
        await layer.group_send(group, {"type": "wallet.changed", "seq": 1})
        assert await drain(layer, channel, 1) == [1]
    finally:
        await layer.flush()


@pytest.mark.services
async def test_a_tab_keeps_its_group_when_redis_restarts(redis_server):
    layer, group = configured_layer(redis_server.url), "user.42"
    try:
        channel = await listening(layer, group)
        await layer.group_send(group, {"type": "wallet.changed", "seq": 1})
        assert await drain(layer, channel, 1) == [1]
        await asyncio.to_thread(redis_server.restart)
        received = []
        for seq in range(2, 40):  # events sent while the layer reconnects are lost (pub/sub); later ones arrive
            with contextlib.suppress(Exception):
                await layer.group_send(group, {"type": "wallet.changed", "seq": seq})
            received += await drain(layer, channel, 1, quiet=0.25)
            if received:
                break
        assert received, "no event reached the tab after Redis came back"
    finally:
        await layer.flush()
