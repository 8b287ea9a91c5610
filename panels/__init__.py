"""The Panels project package: settings, ASGI and URL wiring, and the Celery app."""

from panels.celery import app as celery_app

__all__ = ["celery_app"]
