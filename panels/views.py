"""Site-wide pages that belong to no app: the landing page, the health probe and the favicon."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
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


@require_GET
def favicon(request):
    """Send a browser asking for /favicon.ico (the admin's pages name no icon) to the site's SVG icon."""
    # Not permanent: the icon's collected name carries its hash, which changes with the file.
    return redirect(static("img/favicon.svg"))
