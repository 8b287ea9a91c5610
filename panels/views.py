"""Site-wide pages that belong to no app: the landing page and the health probe."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    """Show the landing page: what Panels does, and the way in."""
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """Answer 200 when the database answers, 503 otherwise (used by container healthchecks)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: database unavailable")
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})
