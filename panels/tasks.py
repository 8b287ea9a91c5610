"""Operational tasks that prove a worker is alive and wired to the same database and broker."""

import os
import socket

from celery import shared_task
from django.db import connection


@shared_task(name="panels.health_check")
def health_check() -> dict:
    """Return which worker process answered and which database it reached, after one real query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "database_vendor": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "query": one,
    }
