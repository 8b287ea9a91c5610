"""PUT /api/turns/<turn_id>/winner: mark a turn's best reply, or clear the mark, for its owner."""

import json

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from accounts.decorators import api_login_required
from chat.exceptions import NotFound
from chat.selectors import message_for, turn_for
from chat.winners import NOT_IN_TURN, set_winner
from errors import InvalidRequest
from errors.responses import error_response


@require_http_methods(["PUT"])
@api_login_required
def turn_winner(request, turn_id: int):
    """Set the turn's winner to `{"message_id": id}`, or clear it with `{"message_id": null}`; return it."""
    try:
        turn = turn_for(request.user, turn_id)
    except NotFound as missing:
        return error_response(missing, status=404)
    try:
        body = json.loads(request.body or b"")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be what we ask for
        body = None
    if not isinstance(body, dict) or set(body) != {"message_id"}:
        return error_response(InvalidRequest('Send {"message_id": id} or {"message_id": null}.'), status=400)
    message_id = body["message_id"]
    message = None
    if message_id is not None:
        if type(message_id) is not int:
            return error_response(InvalidRequest("'message_id' must be a reply's id or null."), status=400)
        try:
            message = message_for(request.user, message_id)
        except NotFound:  # another person's reply is not one of this turn's either
            return error_response(InvalidRequest(NOT_IN_TURN), status=400)
    try:
        turn = set_winner(turn=turn, message=message)
    except InvalidRequest as refused:
        return error_response(refused, status=400)
    return JsonResponse({"turn_id": turn.pk, "winner_id": turn.winner_id, "winner_task": turn.winner_task})
