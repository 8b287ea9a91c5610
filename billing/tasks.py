"""Periodic billing work (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from billing.services import release_expired_holds


@shared_task(name="billing.release_expired_holds")
def release_expired_holds_task() -> int:
    """Release holds that no call resolved in time (its worker crashed); return how many."""
    return release_expired_holds()
