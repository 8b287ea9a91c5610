"""The presets' JSON endpoints: list the built-in presets and the person's own, save, change and delete their own.

`GET /api/presets/` lists both; `POST` saves one; `PATCH` and `DELETE /api/presets/<id>/` change or delete one
of the person's own (another person's id, or a built-in preset's key, is a 404). Every bad request is a 400 with
`{"error": code, "detail": sentence}` and changes nothing.
"""

import json
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from accounts.decorators import api_login_required
from chat.exceptions import NotFound
from chat.models import Preset
from chat.presets import BuiltinPreset, builtin_presets, create_preset, delete_preset, update_preset
from chat.selectors import preset_for, presets_for
from errors import InvalidRequest
from errors.responses import error_response

FIELDS = {"name", "system_prompt", "models", "panel_settings"}


def preset_json(preset: Preset | BuiltinPreset) -> dict:
    """Return a preset as the page and the endpoints show it; a built-in one is named by its key."""
    if isinstance(preset, BuiltinPreset):
        return {
            "id": preset.key,
            "builtin": True,
            "name": preset.name,
            "system_prompt": preset.system_prompt,
            "models": list(preset.model_slugs),
            "panel_settings": preset.settings_per_panel(),
        }
    return {
        "id": preset.pk,
        "builtin": False,
        "name": preset.name,
        "system_prompt": preset.system_prompt,
        "models": preset.model_slugs,
        "panel_settings": preset.panel_settings,
    }


def presets_json(user) -> list[dict]:
    """Return the presets a person may start a chat from: the built-in ones first, then their own by name."""
    return [preset_json(preset) for preset in [*builtin_presets(), *presets_for(user)]]


def json_body(request) -> dict:
    """Return the request's JSON object of preset fields; raise InvalidRequest for anything else."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be what we ask for
        raise InvalidRequest("Send a JSON object.") from None
    if not isinstance(body, dict) or not body or set(body) - FIELDS:
        raise InvalidRequest(f"Send a JSON object with some of: {', '.join(sorted(FIELDS))}.")
    return body


def refusing_bad_requests(view):
    """Answer an InvalidRequest raised by `view` with a 400 that says why."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except InvalidRequest as invalid:
            return error_response(invalid, status=400)

    return wrapper


@require_http_methods(["GET", "POST"])
@api_login_required
@refusing_bad_requests
def preset_list(request):
    """List the built-in presets and the person's own (GET), or save a new one (POST)."""
    if request.method == "GET":
        return JsonResponse({"results": presets_json(request.user)})
    body = json_body(request)
    if "name" not in body or "models" not in body:
        raise InvalidRequest("A preset needs a 'name' and its 'models'.")
    preset = create_preset(
        user=request.user,
        name=body["name"],
        system_prompt=body.get("system_prompt", ""),
        model_slugs=body["models"],
        panel_settings=body.get("panel_settings"),
    )
    return JsonResponse(preset_json(preset), status=201)


@require_http_methods(["PATCH", "DELETE"])
@api_login_required
@refusing_bad_requests
def preset_detail(request, preset_id: str):
    """Rename or change (PATCH), or delete (DELETE) one of the person's presets."""
    try:
        preset = preset_for(request.user, preset_id)
    except NotFound as missing:
        return error_response(missing, status=404)
    if request.method == "DELETE":
        delete_preset(preset=preset)
        return HttpResponse(status=204)
    body = json_body(request)
    if any(body.get(field, "") is None for field in FIELDS - {"panel_settings"}):
        raise InvalidRequest("Leave out a field to keep it; only 'panel_settings' may be null (the defaults).")
    settings_per_panel = body.get("panel_settings")
    if "panel_settings" in body and settings_per_panel is None and "models" not in body:
        settings_per_panel = [None] * len(preset.model_slugs)  # null: back to each model's defaults
    update_preset(
        preset=preset,
        name=body.get("name"),
        system_prompt=body.get("system_prompt"),
        model_slugs=body.get("models"),
        panel_settings=settings_per_panel,
    )
    return JsonResponse(preset_json(preset))
