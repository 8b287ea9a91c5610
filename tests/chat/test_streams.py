"""The reply log: replay after any seq, then follow live to the end; the same for memory and Redis."""

import asyncio
import uuid

import pytest
from django.conf import settings

from chat.streams import MemoryReplyLog, RedisReplyLog


def delta(seq):
    return {"type": "message.delta", "message_id": 1, "seq": seq, "text": f"t{seq} "}


DONE = {"type": "message.done", "message_id": 1, "status": "complete"}


LOGS = [
    pytest.param(MemoryReplyLog, id="memory"),
    pytest.param(lambda: RedisReplyLog(settings.REDIS_URL), id="redis", marks=pytest.mark.services),
]


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_follower_gets_what_came_after_its_seq_then_live_frames_to_the_end(make_log):
    log, key = make_log(), str(uuid.uuid4())
    for seq in (1, 2, 3):
        await log.append(key, delta(seq))

    async def follow():
        return [frame async for frame in log.follow(key, after_seq=2)]

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)  # the follower has replayed and now waits for live frames
    await log.append(key, delta(4))
    await log.append(key, DONE)
    frames = await asyncio.wait_for(follower, 5)
    assert [f.get("seq") for f in frames] == [3, 4, None]
    assert frames[-1]["type"] == "message.done"
    assert [f.get("seq") for f in await log.read(key)] == [1, 2, 3, 4, None]


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_stop_request_is_seen_by_any_reader_of_the_log(make_log):
    log, key = make_log(), str(uuid.uuid4())
    assert not await log.stop_requested(key)
    await log.request_stop(key)
    assert await log.stop_requested(key)
    assert not await log.stop_requested(str(uuid.uuid4()))
