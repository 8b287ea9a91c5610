"""The accounts app's JSON endpoint: translate a person's preference between HTTP and accounts.services."""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_POST

from accounts.decorators import api_login_required
from accounts.services import choose_theme
from errors import InvalidRequest
from errors.responses import error_response


@require_POST
@api_login_required
def theme(request):
    """Save the theme the person chose, `{"theme": "system" | "light" | "dark"}`, and return it."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be what we ask for
        return error_response(InvalidRequest("Send a JSON object."), status=400)
    if not isinstance(body, dict) or set(body) != {"theme"}:
        return error_response(InvalidRequest("Send a JSON object with 'theme' only."), status=400)
    try:
        user = choose_theme(user=request.user, theme=body["theme"])
    except InvalidRequest as unknown:
        return error_response(unknown, status=400)
    return JsonResponse({"theme": user.theme})
