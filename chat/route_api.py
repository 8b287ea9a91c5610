"""POST /api/route: Auto's choice for a prompt, for scripts as well as the UI.

Public, like /api/estimate: it reads no account data, writes nothing and calls no provider, and costs a few
milliseconds of CPU. It is exempt from CSRF for the same reason (a forged request learns nothing and changes
nothing). Every bad request is a 400 with `{"error": code, "detail": sentence}`; a request that no model can
take (too long for every window, nothing available, nothing within the ceiling) is a 422 of the same shape.
"""

import json
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accounts.rate_limits import over_limits
from chat.auto import choose_model
from chat.exceptions import ContextTooLong, ModelUnavailable, UnknownModel
from chat.protocol import MAX_CONTENT_CHARS, MAX_ID, Text
from errors import InvalidRequest
from errors.responses import error_response

MAX_HISTORY_TOKENS = 10_000_000
MAX_CANDIDATES = 50


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    prompt: Text = Field(max_length=MAX_CONTENT_CHARS)
    models: list[Annotated[Text, Field(max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=MAX_CANDIDATES
    )
    history_tokens: int = Field(default=0, ge=0, le=MAX_HISTORY_TOKENS)
    ceiling_credits: int | None = Field(default=None, gt=0, le=MAX_ID)

    @field_validator("prompt")
    @classmethod
    def prompt_is_not_blank(cls, prompt: str) -> str:
        if not prompt.strip():
            raise ValueError("the prompt is empty")
        return prompt


def too_many_requests(request) -> JsonResponse | None:
    """Return a 429 when this client (or its network) is over its share of requests a minute, else None."""
    per_minute = settings.ROUTE_REQUESTS_PER_MINUTE
    wait = over_limits(request, action="route", per_address=per_minute, per_network=4 * per_minute, seconds=60)
    if wait is None:
        return None
    response = error_response(
        "rate_limited", f"Too many requests: {per_minute} a minute; try again in {wait} seconds.", status=429
    )
    response["Retry-After"] = str(wait)
    return response


@csrf_exempt
@require_POST
def route(request):
    """Return the task Auto sees in the prompt, the model it would use, why, and the next-best models."""
    if (refused := too_many_requests(request)) is not None:
        return refused
    try:
        payload = json.loads(request.body)
    except RequestDataTooBig:
        return error_response(
            InvalidRequest(f"The request is too large; a prompt may have {MAX_CONTENT_CHARS:,} characters."), status=400
        )
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
        return error_response("invalid_json", 'Send a JSON object, e.g. {"prompt": "Summarize this..."}.', status=400)
    if not isinstance(payload, dict):
        return error_response("invalid_json", 'Send a JSON object, e.g. {"prompt": "Summarize this..."}.', status=400)
    try:
        query = RouteRequest.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}" for e in error.errors())
        return error_response(InvalidRequest(f"{problems}."), status=400)
    try:
        choice = choose_model(
            prompt=query.prompt,
            history_tokens=query.history_tokens,
            candidates=query.models,
            ceiling_credits=query.ceiling_credits,
        )
    except UnknownModel as error:
        return error_response(error, status=400)
    except (ContextTooLong, ModelUnavailable) as error:  # well formed, but no model can take it
        return error_response(error, status=422)
    return JsonResponse(
        {
            "task": choice.task.value,
            "task_label": choice.task_label,
            "model": choice.model.slug,
            "reason": choice.reason,
            "estimated_credits": choice.estimated_credits,
            "alternatives": [
                {"model": alternative.model.slug, "estimated_credits": alternative.estimated_credits}
                for alternative in choice.alternatives
            ],
        }
    )
