"""The JSON endpoints of shared links: make, list and revoke the read-only links to a person's conversation."""

import json

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.decorators import api_login_required
from chat.exceptions import NotFound
from chat.models import Conversation, SharedLink
from chat.sharing import revoke_shared_link, share_conversation, shared_links_for
from chat.views import with_conversation
from errors import InvalidRequest
from errors.responses import error_response


def link_json(request, link: SharedLink) -> dict:
    """Return what the share dialog shows of a link, with the address to hand out."""
    return {
        "token": link.token,
        "url": request.build_absolute_uri(reverse("shared_page", args=[link.token])),
        "turn_id": link.turn_id,
        "show_costs": link.show_costs,
        "created_at": link.created_at.isoformat(),
    }


@require_http_methods(["GET", "POST"])
@api_login_required
@with_conversation
def conversation_shares(request, conversation: Conversation):
    """List the conversation's live links (GET), or make one (POST `{turn_id?, show_costs?}`)."""
    if request.method == "GET":
        return JsonResponse(
            {"results": [link_json(request, link) for link in shared_links_for(request.user, conversation)]}
        )
    try:
        options = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be what we ask for
        return error_response(InvalidRequest("Send a JSON object."), status=400)
    if not isinstance(options, dict) or set(options) - {"turn_id", "show_costs"}:
        return error_response(InvalidRequest("Send a JSON object with 'turn_id' and/or 'show_costs'."), status=400)
    turn_id, show_costs = options.get("turn_id"), options.get("show_costs", False)
    if turn_id is not None and (not isinstance(turn_id, int) or isinstance(turn_id, bool)):
        return error_response(
            InvalidRequest("'turn_id' must be a turn's id, or null for the whole conversation."), status=400
        )
    if not isinstance(show_costs, bool):
        return error_response(InvalidRequest("'show_costs' must be true or false."), status=400)
    try:
        link = share_conversation(
            user=request.user, conversation_id=conversation.pk, turn_id=turn_id, show_costs=show_costs
        )
    except NotFound as missing:
        return error_response(missing, status=404)
    except InvalidRequest as invalid:
        return error_response(invalid, status=400)
    return JsonResponse(link_json(request, link), status=201)


@require_http_methods(["DELETE"])
@api_login_required
def share_detail(request, token: str):
    """Revoke one of the person's links (DELETE); anyone else's token is a 404 and changes nothing."""
    try:
        revoke_shared_link(user=request.user, token=token)
    except NotFound as missing:
        return error_response(missing, status=404)
    return HttpResponse(status=204)
