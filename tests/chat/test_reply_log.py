"""The reply log: replay after any seq, then follow live to the end; stops reach the reply's process.

The same behaviour holds in memory and on Redis; on Redis it also holds with hundreds of replies on a
handful of connections, and across a Redis restart that loses every stream.
"""

import asyncio
import os
import uuid

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from chat.reply_log.in_memory import MemoryReplyLog
from chat.reply_log.redis_streams import COMMAND_CONNECTIONS, RedisReplyLog


def delta(seq, message_id=1):
    return {"type": "message.delta", "message_id": message_id, "seq": seq, "text": f"t{seq} "}


def done(message_id=1):
    return {"type": "message.done", "message_id": message_id, "status": "complete"}


def redis_log(url=None, process_id=None):
    return RedisReplyLog(url or settings.REDIS_URL, process_id or str(uuid.uuid4()), prefix=f"test:{uuid.uuid4()}:")


LOGS = [
    pytest.param(MemoryReplyLog, id="memory"),
    pytest.param(redis_log, id="redis", marks=pytest.mark.services),
]


async def collect(log, key, after_seq=0, idle_seconds=5.0):
    frames = []
    async for frame in log.follow(key, after_seq, idle_seconds=idle_seconds):
        assert frame is not None, f"no frame for {idle_seconds} s after {frames[-1:]}"
        frames.append(frame)
    return frames


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_follower_gets_what_came_after_its_seq_then_live_frames_to_the_end(make_log):
    log, key = make_log(), str(uuid.uuid4())
    try:
        for seq in (1, 2, 3):
            log.append(key, seq, delta(seq))
        assert await log.flush(key, timeout=5)
        follower = asyncio.create_task(collect(log, key, after_seq=2))
        await asyncio.sleep(0.1)  # the follower has caught up and now waits for live frames
        log.append(key, 4, delta(4))
        log.append(key, 5, done())
        frames = await asyncio.wait_for(follower, 10)
        assert [f.get("seq") for f in frames] == [3, 4, None]
        assert frames[-1]["type"] == "message.done"
        assert await log.flush(key, timeout=5)
        assert [f.get("seq") for f in await log.read(key)] == [1, 2, 3, 4, None]
    finally:
        await log.close()


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_frame_appended_twice_at_one_position_is_logged_once(make_log):
    log, key = make_log(), str(uuid.uuid4())
    try:
        log.append(key, 1, delta(1))
        log.append(key, 1, delta(1))
        log.append(key, 2, done())
        assert await log.flush(key, timeout=5)
        assert [f["type"] for f in await log.read(key)] == ["message.delta", "message.done"]
    finally:
        await log.close()


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_silent_reply_gives_its_follower_an_idle_tick_then_its_frames(make_log):
    log, key = make_log(), str(uuid.uuid4())
    try:
        follow = log.follow(key, 0, idle_seconds=0.3)
        assert await asyncio.wait_for(anext(follow), 5) is None  # nothing for 0.3 s: the caller may look around
        log.append(key, 1, delta(1))
        assert (await asyncio.wait_for(anext(follow), 5))["seq"] == 1
        await follow.aclose()
    finally:
        await log.close()


@pytest.mark.parametrize("make_log", LOGS)
async def test_a_stop_request_reaches_the_process_that_streams_the_reply(make_log):
    log, key = make_log(), str(uuid.uuid4())
    try:
        stop = log.stops_for(key)
        other = log.stops_for(str(uuid.uuid4()))
        await log.request_stop(key, getattr(log, "_process_id", "this-process"))
        await asyncio.wait_for(stop.wait(), 5)
        assert not other.is_set()
    finally:
        await log.close()


@pytest.mark.services
async def test_a_stop_asked_on_another_process_reaches_the_streaming_one_through_its_inbox():
    prefix = f"test:{uuid.uuid4()}:"
    streaming = RedisReplyLog(settings.REDIS_URL, "process-a", prefix=prefix)
    asking = RedisReplyLog(settings.REDIS_URL, "process-b", prefix=prefix)
    key = str(uuid.uuid4())
    try:
        stop = streaming.stops_for(key)
        await asyncio.sleep(0.1)  # the reader is blocked on its inbox
        await asking.request_stop(key, "process-a")
        await asyncio.wait_for(stop.wait(), 5)
    finally:
        await streaming.close()
        await asking.close()


@pytest.mark.services
async def test_hundreds_of_replies_stream_and_are_followed_on_a_few_connections():
    """Connections per process do not grow with streams: one reader, one writer, a small pool."""
    replies, frames_each = 300, 20
    log = redis_log()
    keys = [str(uuid.uuid4()) for _ in range(replies)]
    before = await our_connections()  # earlier tests' event loops may have left theirs open
    try:
        followers = [asyncio.create_task(collect(log, key)) for key in keys]
        await asyncio.sleep(0.2)

        async def write(key):
            for seq in range(1, frames_each + 1):
                log.append(key, seq, delta(seq))
                await asyncio.sleep(0.005)
            log.append(key, frames_each + 1, done())

        writers = [asyncio.create_task(write(key)) for key in keys]
        await asyncio.sleep(0.05)
        connections = await our_connections() - before
        results = await asyncio.wait_for(asyncio.gather(*followers), 60)
        await asyncio.gather(*writers)
    finally:
        await log.close()
    assert all([f.get("seq") for f in frames] == [*range(1, frames_each + 1), None] for frames in results)
    assert connections <= COMMAND_CONNECTIONS + 1, f"{connections} connections for {replies} streams"


async def our_connections() -> int:
    redis = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        clients = await redis.client_list()
    finally:
        await redis.aclose()
    ours = (f"panels-replylog-{os.getpid()}", f"panels-replylog-reader-{os.getpid()}")  # not other processes'
    return sum(1 for client in clients if client.get("name") in ours)


@pytest.mark.services
async def test_a_log_lost_by_a_redis_restart_is_written_again_and_its_follower_misses_nothing(redis_server):
    """Redis restarts with nothing on disk mid-reply: the writer writes the whole log again, in order."""
    log, key = redis_log(url=redis_server.url), str(uuid.uuid4())
    try:
        follower = asyncio.create_task(collect(log, key, idle_seconds=30))
        for seq in range(1, 11):
            log.append(key, seq, delta(seq))
        assert await log.flush(key, timeout=5)
        await asyncio.sleep(0.2)
        await asyncio.to_thread(redis_server.restart)
        for seq in range(11, 21):
            log.append(key, seq, delta(seq))
            await asyncio.sleep(0.05)
        log.append(key, 21, done())
        frames = await asyncio.wait_for(follower, 60)
        assert await log.flush(key, timeout=10)
        stored = await log.read(key)
    finally:
        await log.close()
    assert [f.get("seq") for f in frames] == [*range(1, 21), None]  # every frame once, in order
    assert [f.get("seq") for f in stored] == [*range(1, 21), None]  # the log is whole again


@pytest.mark.services
async def test_a_stop_asked_while_redis_is_down_arrives_once_it_is_back(redis_server):
    prefix = f"test:{uuid.uuid4()}:"
    streaming = RedisReplyLog(redis_server.url, "process-a", prefix=prefix)
    asking = RedisReplyLog(redis_server.url, "process-b", prefix=prefix)
    key = str(uuid.uuid4())
    try:
        stop = streaming.stops_for(key)
        await asyncio.sleep(0.1)  # the reader is blocked on its inbox
        await asyncio.to_thread(redis_server.stop)
        asked = asyncio.create_task(asking.request_stop(key, "process-a"))
        await asyncio.sleep(1.5)  # it has failed a few times by now
        assert not asked.done() and not stop.is_set()
        await asyncio.to_thread(redis_server.start)
        await asyncio.wait_for(asked, 20)
        await asyncio.wait_for(stop.wait(), 20)
    finally:
        await streaming.close()
        await asking.close()
