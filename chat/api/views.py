"""The HTTP edge of the API: read the key and the body, admit the call, and answer as OpenAI does.

Every failure a program can meet is an OpenAI-shaped error with its status (chat/api/responses.py); a
failure of ours is a 500 in the same shape, logged without the request's key.
"""

import asyncio
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from billing.keys import key_for_secret
from chat.api.calls import start_call
from chat.api.requests import parse_completion_request
from chat.api.responses import error_response
from chat.api.streaming import Ended, call_off, event_stream, failure_of, first_event, start_call_run, whole_reply
from chat.capacity import stream_slots
from chat.database import in_thread_pool
from chat.exceptions import NotFound, ServerFault, UnknownModel
from chat.liveness import PROCESS_ID
from chat.services import AUTO
from chat.views import auto_entry, catalog_json
from errors import InvalidRequest, PanelsError

logger = logging.getLogger(__name__)


def bearer_secret(request) -> str | None:
    """Return the key sent as `Authorization: Bearer <key>` (as the OpenAI SDKs send it), or None."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def method_not_allowed(allowed: str) -> HttpResponse:
    """Return a 405 in OpenAI's error shape, naming the method to use."""
    response = error_response(InvalidRequest(f"Use {allowed} here."))
    response.status_code = 405
    response["Allow"] = allowed
    return response


@csrf_exempt
async def chat_completions(request):
    """POST /v1/chat/completions: one completion, streamed as server-sent events or whole."""
    if request.method != "POST":
        return method_not_allowed("POST")
    try:
        body = parse_completion_request(_body_of(request))
        slots = stream_slots()
        slots.take(1)  # before anything is written or held: a full process refuses at once
        admission = asyncio.ensure_future(
            in_thread_pool(start_call)(secret=bearer_secret(request), request=body, process_id=PROCESS_ID)
        )
        try:
            started = await asyncio.shield(admission)
        except asyncio.CancelledError:  # the program hung up while its call was being admitted
            admission.add_done_callback(_call_off)
            raise
        except BaseException:
            slots.give_back(1)
            raise
    except PanelsError as error:
        return error_response(error)
    except Exception:
        logger.exception("an API call could not start")
        return error_response(ServerFault("Something went wrong on our side; it has been logged. Try again."))
    call = start_call_run(started)
    if not body.stream:
        reply = await whole_reply(call)
        return reply if isinstance(reply, HttpResponse) else JsonResponse(reply)
    first = await first_event(call)
    if isinstance(first, Ended):  # it ended before any text: answer with its status, as a whole reply would
        if failure_of(first.outcome) is not None:
            return await whole_reply(call)
        first = ""
    response = StreamingHttpResponse(
        event_stream(call, first, include_usage=body.include_usage), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must pass each chunk on as it comes
    return response


def _call_off(admission: asyncio.Future) -> None:
    """Finish a call admitted for a program that hung up meanwhile: it never starts, its hold is released."""
    if admission.cancelled() or admission.exception() is not None:
        stream_slots().give_back(1)
        return
    call_off(admission.result())


def _body_of(request) -> bytes:
    """Return the request's body; raise InvalidRequest when it is over the size Django reads."""
    try:
        return request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        raise InvalidRequest(f"The body is over {limit:g} MB; send fewer or shorter messages.") from None


@csrf_exempt
async def models(request, model_id: str | None = None):
    """GET /v1/models (and /v1/models/<id>): the models the key may call, with prices and context windows."""
    if request.method != "GET":
        return method_not_allowed("GET")
    try:
        listed = await in_thread_pool(_models_for)(bearer_secret(request))
    except PanelsError as error:
        return error_response(error)
    if model_id is None:
        return JsonResponse({"object": "list", "data": listed})
    for model in listed:
        if model["id"] == model_id:
            return JsonResponse(model)
    return error_response(UnknownModel(f"There is no model called {model_id!r} for this key."))


def _models_for(secret: str | None) -> list[dict]:
    """Return the catalog in OpenAI's shape: Auto and the enabled models the key may call."""
    key = key_for_secret(secret)
    entries = catalog_json()["models"]
    allowed = set(key.allowed_models) if key.allowed_models else None
    models = [entry for entry in entries if entry["slug"] != AUTO and (allowed is None or entry["slug"] in allowed)]
    return [_model_json(entry) for entry in [auto_entry(models), *models]]


def _model_json(entry: dict) -> dict:
    return {
        "id": entry["slug"],
        "object": "model",
        "created": 0,
        "owned_by": entry.get("provider", "panels"),
        "name": entry["name"],
        "context_window": entry.get("context_window"),
        "max_output_tokens": entry.get("max_output_tokens"),
        "available": entry["available"],
        "pricing": {
            field: entry.get(field)
            for field in ("input_usd_per_m", "output_usd_per_m", "input_credits_per_m", "output_credits_per_m")
        },
    }


@csrf_exempt
async def unknown_path(request):
    """Answer any other path under /v1 with a 404 in OpenAI's shape, naming what the API has."""
    return error_response(
        NotFound(
            f"There is no {request.method} {request.path} in this API; it has POST /v1/chat/completions "
            "and GET /v1/models (see docs/api.md)."
        )
    )
