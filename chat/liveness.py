"""Which server processes are alive: each beats every few seconds, and a process that stops beating is dead.

A reply records the process that streams it (`Message.streamed_by`). When that process dies (a crash, a
SIGKILL, a lost machine) its replies would stay `streaming` with their credits held; once its heartbeat is
older than DEAD_AFTER_SECONDS, any other process finishes them (chat/housekeeping.py).
"""

import os
import socket
import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from chat.models import ServerProcess

PROCESS_ID = str(uuid.uuid4())  # this process, for as long as it runs
HEARTBEAT_SECONDS = 5
DEAD_AFTER_SECONDS = 20  # four missed beats: long enough for a busy event loop, short enough for a person
FORGET_AFTER = timedelta(days=1)


def record_heartbeat(*, process_id: str = PROCESS_ID, now: datetime | None = None) -> None:
    """Record that the process is alive, registering it on its first beat."""
    now = now or timezone.now()
    if ServerProcess.objects.filter(pk=process_id).update(seen_at=now):
        return
    process = ServerProcess(
        id=process_id, hostname=socket.gethostname()[:255], pid=os.getpid(), started_at=now, seen_at=now
    )
    ServerProcess.objects.bulk_create([process], ignore_conflicts=True)


def dead_before(now: datetime | None = None) -> datetime:
    """Return the time before which a process's last heartbeat means it is dead."""
    return (now or timezone.now()) - timedelta(seconds=DEAD_AFTER_SECONDS)


def forget_dead_processes(now: datetime | None = None) -> int:
    """Delete processes that have been dead for a day (their replies were finished long ago); return how many."""
    deleted, _ = ServerProcess.objects.filter(seen_at__lt=(now or timezone.now()) - FORGET_AFTER).delete()
    return deleted
