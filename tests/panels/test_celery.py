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
