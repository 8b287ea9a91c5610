"""Admit an API call (its key, the key's request rate, the model, a hold on the wallet and the key) and settle it.

Admission writes the call and its hold in one transaction, so a call the wallet or the key cannot cover
leaves nothing behind. Settling goes through `record_outcome`, as a chat reply does: the same hold, the same
rate captured on it, the same rule for a stopped or cut call (its input and the output that came).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction

from accounts.rate_limits import retry_after
from billing.keys import key_for_secret, mark_used
from billing.models import ApiKey
from billing.selectors import auto_ceiling_for
from billing.services import HoldRequest, place_holds
from catalog.models import AIModel
from chat.api.requests import CompletionRequest
from chat.auto import choose_model
from chat.budget import max_output_tokens_for
from chat.exceptions import ContextTooLong, Interrupted, ModelNotAllowed, ModelUnavailable, TooManyRequests
from chat.models import ApiCall, ModelCall, api_call_reference
from chat.providers.base import CallRequest, ChatMessage
from chat.providers.registry import availability, provider_config_for
from chat.selectors import catalog_models_named
from chat.services import AUTO, FINISHED_FIELDS, PanelChoice, ReplyOutcome, record_outcome
from chat.tokens import estimate_message_tokens
from errors import InvalidRequest

# Anthropic has no JSON switch: a program that asks for JSON gets the instruction in the system prompt instead.
JSON_INSTRUCTION = "Reply with one valid JSON object and nothing else: no prose, no code fences."


@dataclass(frozen=True)
class StartedCall:
    """An admitted call: what to send the provider, and what the reply needs to be shaped and charged."""

    call_id: int
    public_id: str
    model_slug: str
    request: CallRequest
    estimated_input_tokens: int
    hold_expires_at: datetime  # the call must end before its hold expires, or it could not be charged


def start_call(*, secret: str | None, request: CompletionRequest, process_id: str | None) -> StartedCall:
    """Check the key and its limits, choose the model, and write the call with its hold; return what to call.

    Raises a PanelsError (nothing written) when the call cannot start: InvalidApiKey, TooManyRequests,
    UnknownModel, ModelNotAllowed, ModelUnavailable, ContextTooLong, InvalidRequest, InsufficientCredits,
    KeySpendLimitReached or WalletRestricted.
    """
    key = key_for_secret(secret)
    _within_rate(key)
    choice = _choose(key, request)
    model = choice.model
    messages = _messages_for(model, request)
    output_tokens = _output_budget(model, request)
    estimated_input = estimate_message_tokens([message.content for message in messages])
    if estimated_input + output_tokens > model.context_window:
        raise ContextTooLong(
            f"This request is about {estimated_input:,} tokens of input and up to {output_tokens:,} of output, "
            f"but {model.name} takes {model.context_window:,} in all. Shorten the messages or lower max_tokens."
        )
    config = provider_config_for(model.provider)
    with transaction.atomic():
        call = ApiCall.objects.create(
            user_id=key.user_id,
            api_key=key,
            **choice.call_fields(),
            streamed=request.stream,
            estimated_input_tokens=estimated_input,
            streamed_by=process_id,
        )
        (hold,) = place_holds(
            user=key.user,
            api_key=key,
            references_are_new=True,
            requests=[HoldRequest(api_call_reference(call.pk), model, estimated_input, output_tokens)],
        )
        if hold.price_id != call.price_id:  # a price took effect in between: the hold's is the one charged
            ApiCall.objects.filter(pk=call.pk).update(price_id=hold.price_id)
    mark_used(key)
    return StartedCall(
        call_id=call.pk,
        public_id=call.public_id.hex,
        model_slug=model.slug,
        request=CallRequest(
            provider=config,
            api_model_id=model.api_model_id,
            messages=messages,
            max_output_tokens=output_tokens,
            options=request.options,
        ),
        estimated_input_tokens=estimated_input,
        hold_expires_at=hold.expires_at,
    )


def _within_rate(key: ApiKey) -> None:
    """Refuse a request over the key's rate, or one that would pass its calls in flight (TooManyRequests)."""
    # By digest, not id: a restored database reuses ids while the cache still counts the old key's requests.
    # While Redis is away the rate is not counted (see retry_after); the calls in flight, counted below in the
    # database, still bound a key.
    wait = retry_after(action="api", key=f"key:{key.digest[:16]}", amount=settings.API_REQUESTS_PER_MINUTE, seconds=60)
    if wait is not None:
        raise TooManyRequests(
            f"This key sent more than {settings.API_REQUESTS_PER_MINUTE:,} requests in the last minute; "
            f"try again in {wait} seconds.",
            retry_after_seconds=wait,
        )
    in_flight = ApiCall.objects.filter(api_key=key, status=ModelCall.Status.STREAMING).count()
    if in_flight >= settings.API_MAX_CALLS_IN_FLIGHT:
        raise TooManyRequests(
            f"This key already has {in_flight:,} calls answering, as many as a key may; wait for one to finish.",
            retry_after_seconds=1,
        )


def _choose(key: ApiKey, request: CompletionRequest) -> PanelChoice:
    """Return the model the request names (or Auto chooses, among the key's models), or refuse it."""
    allowed = key.allowed_models or None
    if request.model == AUTO:
        history = estimate_message_tokens([m.content for m in request.messages]) - estimate_message_tokens(
            [request.prompt]
        )
        routed = choose_model(
            prompt=request.prompt,
            history_tokens=max(history, 0),
            candidates=allowed,
            ceiling_credits=auto_ceiling_for(key.user),
        )
        return PanelChoice(AUTO, routed.model, routed.task, routed.reason, comparison_model=routed.comparison)
    model = catalog_models_named([request.model])[request.model]  # UnknownModel for any other name
    if allowed is not None and model.slug not in allowed:
        raise ModelNotAllowed(
            f"This API key may call {', '.join(allowed)} (and auto among them), not {model.slug}. "
            "Change the key's models on the API keys page."
        )
    available, reason = availability(model)
    if not available:
        raise ModelUnavailable(reason)
    return PanelChoice(request.model, model)


def _messages_for(model: AIModel, request: CompletionRequest) -> tuple[ChatMessage, ...]:
    """Return the messages to send; for a provider without a JSON switch, with the JSON instruction added."""
    if model.provider.wire_format == "anthropic" and (request.options.temperature or 0) > 1:
        raise InvalidRequest(f"`temperature`: {model.name} takes a temperature from 0 to 1.")
    if request.options.response_format is None or model.provider.wire_format == "openai":
        return request.messages
    instruction = JSON_INSTRUCTION
    schema = request.options.response_format.get("json_schema", {}).get("schema")
    if schema is not None:
        instruction += f" It must match this JSON schema: {schema}"
    return (ChatMessage("system", instruction), *request.messages)


def _output_budget(model: AIModel, request: CompletionRequest) -> int:
    """Return the most output the call may produce (and its hold covers): what was asked, within the model's cap."""
    if request.max_tokens is None:
        return max_output_tokens_for(model)
    if request.max_tokens > model.max_output_tokens:
        raise InvalidRequest(
            f"`max_tokens` is at most {model.max_output_tokens:,} for {model.slug}; {request.max_tokens:,} was asked."
        )
    return request.max_tokens


@transaction.atomic
def finish_call(*, call_id: int, outcome: ReplyOutcome, estimated_input_tokens: int) -> ApiCall:
    """Settle an API call's hold and save how it ended; once per call (a finished one is returned as is)."""
    call = (
        ApiCall.objects.select_for_update(no_key=True, of=("self",)).select_related("comparison_model").get(pk=call_id)
    )
    if call.status != ModelCall.Status.STREAMING:
        return call
    record_outcome(
        call, reference=api_call_reference(call_id), outcome=outcome, estimated_input_tokens=estimated_input_tokens
    )
    call.finish_reason = (outcome.usage.finish_reason or "") if outcome.usage else ""
    call.save(update_fields=[*FINISHED_FIELDS, "finish_reason"])
    return call


def nothing_came(detail: str) -> ReplyOutcome:
    """Return the outcome of a call that produced nothing and never will: it is released, not charged."""
    return ReplyOutcome(text="", usage=None, stopped=False, error_code=Interrupted.code, error_detail=detail)


def finish_abandoned_call(*, call_id: int) -> ApiCall:
    """Finish a call whose server process died: nothing it streamed is known, so its hold is released."""
    outcome = nothing_came("This call was interrupted by a server restart.")
    return finish_call(call_id=call_id, outcome=outcome, estimated_input_tokens=0)
