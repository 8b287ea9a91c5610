"""The Celery app: configured once from Django settings (`CELERY_*`), tasks found in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")

app = Celery("panels")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
