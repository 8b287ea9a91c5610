"""A long PDF is read by a real Celery worker, and a reading lost with a killed worker or an emptied Redis resumes."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat.attachments.services import resume_stuck_reading
from chat.models import Attachment
from standins.files import pdf
from tests.chat.test_attachments import upload

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_for_status(public_id: str, *, seconds: float = 60) -> Attachment:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        attachment = Attachment.objects.get(public_id=public_id)
        if attachment.status != Attachment.Status.READING:
            return attachment
        time.sleep(0.2)
    raise AssertionError("the PDF was still being read")


def test_a_reading_lost_before_a_worker_ran_it_is_queued_again_and_ends_ready(
    celery_worker, user, settings, django_capture_on_commit_callbacks
):
    queue, _ = celery_worker
    settings.ATTACHMENT_BACKGROUND_PAGES = 3
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False):  # its task is never queued: lost, as in a crash
        body = upload(client, "minutes.pdf", pdf(*(f"Item {n} agreed" for n in range(1, 16)))).json()
    assert body["status"] == "reading"

    assert resume_stuck_reading(queue=queue) == (0, 0)  # not stuck yet: it may still be read
    Attachment.objects.filter(public_id=body["id"]).update(created_at=timezone.now() - timedelta(minutes=3))
    assert resume_stuck_reading(queue=queue) == (1, 0)

    read = wait_for_status(body["id"])  # by the worker process, from the shared storage
    assert (read.status, read.pages_read) == ("ready", 15)
    assert "Item 15 agreed" in read.text


def test_a_pdf_stuck_reading_for_ten_minutes_fails_with_a_reason(user, settings, django_capture_on_commit_callbacks):
    settings.ATTACHMENT_BACKGROUND_PAGES = 1
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=False):
        body = upload(client, "slow.pdf", pdf("a", "b")).json()
    Attachment.objects.filter(public_id=body["id"]).update(created_at=timezone.now() - timedelta(minutes=11))

    assert resume_stuck_reading(queue="nobody-listens") == (0, 1)
    shown = client.get(f"/api/attachments/{body['id']}/").json()
    assert shown["status"] == "failed" and "took too long" in shown["error"]
