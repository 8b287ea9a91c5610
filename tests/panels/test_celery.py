"""Celery: tasks reach a real worker over Redis, and the worker reaches the same database."""

import pytest
from django.db import connection

from panels.tasks import health_check


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_health_task_runs_on_a_real_worker_against_redis(celery_worker):
    queue, worker = celery_worker
    answer = health_check.apply_async(queue=queue).get(timeout=60)
    assert answer["pid"] == worker.pid  # the worker process we started ran it, not this process
    assert answer["database_vendor"] == connection.vendor
    assert answer["database_name"] == str(connection.settings_dict["NAME"])


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_beat_sweep_on_a_real_worker_finishes_a_reply_whose_process_died(celery_worker, user, priced_model):
    from datetime import timedelta

    from asgiref.sync import async_to_sync
    from django.utils import timezone

    from billing.services import HoldRequest, place_holds
    from chat.liveness import DEAD_AFTER_SECONDS, record_heartbeat
    from chat.models import Conversation, Message, ServerProcess, Turn
    from chat.reply_log import reply_log
    from chat.tasks import finish_abandoned_replies_task
    from tests.factories import fund

    queue, _ = celery_worker
    fund(user, 1_000_000)
    conversation = Conversation.objects.create(user=user)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id="1", content="Q")
    message = Message.objects.create(turn=turn, panel=0, model=priced_model, requested_model=priced_model.slug)
    place_holds(user=user, requests=[HoldRequest(f"message:{message.pk}", priced_model, 100, 1_000)])
    record_heartbeat(process_id="7c1e7c1e-0000-4000-8000-000000000001")
    Message.objects.filter(pk=message.pk).update(streamed_by="7c1e7c1e-0000-4000-8000-000000000001")
    ServerProcess.objects.update(seen_at=timezone.now() - timedelta(seconds=DEAD_AFTER_SECONDS + 5))
    key = str(message.stream_key)

    async def log_what_it_delivered():
        log = reply_log()
        log.append(key, 1, {"type": "message.delta", "message_id": message.pk, "seq": 1, "text": "Half a "})
        assert await log.flush(key, timeout=5)
        await log.close()

    async def read_log():
        log = reply_log()
        try:
            return await log.read(key)
        finally:
            await log.close()

    async_to_sync(log_what_it_delivered)()
    assert finish_abandoned_replies_task.apply_async(queue=queue).get(timeout=60) == 1
    message.refresh_from_db()
    assert (message.status, message.error_code, message.text) == ("error", "interrupted", "Half a ")
    frames = async_to_sync(read_log)()
    assert [f["type"] for f in frames] == ["message.delta", "message.done"]  # its followers are told
