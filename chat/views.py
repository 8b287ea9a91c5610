"""The chat's JSON endpoints: the model catalog; list, read, rename, pin, file, delete and export conversations."""

import json
from functools import wraps

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import api_login_required
from billing.models import BillingSettings
from billing.pricing import per_million, usd_string
from billing.rates import current_rate
from catalog.models import AIModel
from chat.attachments.json import attachment_json
from chat.budget import max_output_tokens_for
from chat.exceptions import NotFound, StillStreaming
from chat.limits import MAX_MODELS_PER_TURN, storable_text
from chat.models import Conversation, Message
from chat.providers.base import LOWEST_MAX_TEMPERATURE, MAX_TEMPERATURE
from chat.providers.registry import availability
from chat.selectors import (
    branch_end,
    branch_turns,
    catalog_models,
    conversation_for,
    folders_for,
    listed_conversations_for,
    message_for,
)
from chat.services import AUTO, delete_conversation, show_branch, show_version, update_conversation
from errors import InvalidRequest
from errors.responses import error_response

PAGE_SIZE = 50
PATCHABLE = {"title": str, "system_prompt": str, "pinned": bool, "folder": str}  # what a PATCH may change
PATCHABLE_KINDS = {str: "text", bool: "true or false"}
PRICE_FIELDS = ("input_usd_per_m", "output_usd_per_m", "input_credits_per_m", "output_credits_per_m")


def model_entry(model: AIModel, billing: BillingSettings) -> dict:
    """Return what the picker and the pricing page show of a model: prices, limits, strengths, availability.

    Prices are what a person pays (markup included), per million tokens, in USD and in credits.
    """
    available, reason = availability(model)
    prices = dict.fromkeys(PRICE_FIELDS)  # null until the model has a price
    if (rate := current_rate(model, billing)) is not None:
        per_million_in, per_million_out = per_million(rate)
        prices = {
            "input_usd_per_m": usd_string(per_million_in.exact_usd),
            "output_usd_per_m": usd_string(per_million_out.exact_usd),
            "input_credits_per_m": per_million_in.credits,
            "output_credits_per_m": per_million_out.credits,
        }
    capabilities = {
        "vision": model.supports_vision,
        "json_mode": model.supports_json_mode,
        "tools": model.supports_tools,
    }
    return {
        "slug": model.slug,
        "name": model.name,
        "provider": model.provider.name,
        **prices,
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "reply_budget_tokens": max_output_tokens_for(model),  # what a turn holds for one reply
        "max_temperature": float(MAX_TEMPERATURE[model.provider.wire_format]),
        "best_for": model.best_for,
        "capabilities": [name for name, present in capabilities.items() if present],
        "available": available,
        "reason": reason,
    }


def auto_entry(entries: list[dict]) -> dict:
    """Return the picker's Auto choice: available while any model is."""
    available = any(entry["available"] for entry in entries)
    return {
        "slug": AUTO,
        "name": "Auto",
        "provider": "Panels",
        **dict.fromkeys(PRICE_FIELDS),  # Auto is charged at the price of the model it picks
        "context_window": None,
        "max_output_tokens": None,
        "reply_budget_tokens": settings.CHAT_MAX_OUTPUT_TOKENS,
        "max_temperature": float(LOWEST_MAX_TEMPERATURE),  # the model it picks may take no more
        "best_for": "Picks a suitable model for each prompt and says why; charged at that model's price.",
        "capabilities": [],
        "available": available,
        "reason": "" if available else "No model is available right now.",
    }


def catalog_json() -> dict:
    """Return the model picker's catalog: Auto first, then each enabled model in picker order, and the limits."""
    billing = BillingSettings.load()
    entries = [model_entry(model, billing) for model in catalog_models()]
    return {
        "models": [auto_entry(entries), *entries],
        "credits_per_usd": billing.credits_per_usd,
        "max_models_per_turn": MAX_MODELS_PER_TURN,
        "max_output_tokens": settings.CHAT_MAX_OUTPUT_TOKENS,
    }


@require_GET
@cache_control(public=True, max_age=60)
def model_catalog(request):
    """Return the catalog for the model picker: names, prices per 1M tokens, limits, strengths, availability."""
    return JsonResponse(catalog_json())


def conversation_summary(conversation: Conversation) -> dict:
    """Return what the sidebar shows of a conversation."""
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "models": conversation.chosen_models,
        "pinned": conversation.pinned_at is not None,
        "folder": conversation.folder,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
    }


def message_json(message: Message) -> dict:
    """Return a reply with its usage, credits, timings, error, and (for Auto) its price on the other candidate."""
    return {
        "id": message.pk,
        "panel": message.panel,
        "version": message.version,
        "current": message.current,
        "temperature": None if message.temperature is None else float(message.temperature),
        "max_output_tokens": message.max_output_tokens,
        "model": message.model.slug,
        "requested_model": message.requested_model,
        "route": {"task": message.route_task, "reason": message.route_reason} if message.route_task else None,
        "text": message.text,
        "status": message.status,
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "usage_estimated": message.usage_estimated,
        "credits": message.credits,
        "ttft_ms": message.ttft_ms,
        "duration_ms": message.duration_ms,
        "streaming_ms": message.streaming_ms,
        "dropped_turns": message.dropped_turns,
        "attachment_tokens": message.attachment_tokens,
        "error": {"code": message.error_code, "detail": message.error_detail} if message.error_code else None,
        "comparison": {"model": message.comparison_model.slug, "credits": message.comparison_credits}
        if message.comparison_credits is not None
        else None,
    }


def conversation_json(conversation: Conversation) -> dict:
    """Return a whole conversation: every turn of every branch, each with all its replies' versions.

    Turns name their `parent_id`; `current_turn_id` ends the branch to show. A turn's `messages` are every
    version of every panel, in panel then version order; `current` marks the version each panel shows.
    """
    turns = conversation.turns.prefetch_related(
        "messages__model", "messages__comparison_model", "attachments"
    ).order_by("created_at", "id")
    return {
        **conversation_summary(conversation),
        "system_prompt": conversation.system_prompt,
        "chosen_settings": conversation.chosen_settings,
        "current_turn_id": branch_end(conversation),
        "turns": [
            {
                "id": turn.pk,
                "parent_id": turn.parent_id,
                "content": turn.content,
                "attachments": [attachment_json(a) for a in turn.attachments.all()],
                "winner_id": turn.winner_id,
                "created_at": turn.created_at.isoformat(),
                "messages": [message_json(m) for m in sorted(turn.messages.all(), key=lambda m: (m.panel, m.version))],
            }
            for turn in turns
        ],
    }


def branch_json(conversation: Conversation) -> dict:
    """Return the branch a conversation is open on, as an export shows it: its turns and the replies shown."""
    return {
        **conversation_summary(conversation),
        "system_prompt": conversation.system_prompt,
        "turns": [
            {
                "id": turn.pk,
                "content": turn.content,
                "attachments": [attachment_json(a) for a in turn.attachments.all()],
                "created_at": turn.created_at.isoformat(),
                "winner_id": turn.winner_id,
                "messages": [message_json(m) for m in turn.shown],
            }
            for turn in branch_turns(conversation, branch_end(conversation))
        ],
    }


@require_GET
@api_login_required
def conversation_list(request):
    """Return the person's conversations, pinned first then most recent, 50 a page.

    `folder` keeps one folder's; `q` searches titles, folder names and text.
    """
    conversations = listed_conversations_for(
        request.user, query=request.GET.get("q", "").strip(), folder=" ".join(request.GET.get("folder", "").split())
    )
    page = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "results": [conversation_summary(c) for c in page],
            "page": page.number,
            "pages": page.paginator.num_pages,
            "count": page.paginator.count,
        }
    )


@require_GET
@api_login_required
def conversation_folders(request):
    """Return the person's folders, by name, with how many conversations each holds (the sidebar's filter)."""
    folders = folders_for(request.user)
    return JsonResponse({"folders": [{"name": f.name, "count": f.conversations} for f in folders]})


def with_conversation(view):
    """Load the person's conversation named in the URL for `view`; any other id is a 404."""

    @wraps(view)
    def wrapper(request, conversation_id: int):
        try:
            conversation = conversation_for(request.user, conversation_id)
        except NotFound as missing:
            return error_response(missing, status=404)
        return view(request, conversation)

    return wrapper


@require_http_methods(["GET", "PATCH", "DELETE"])
@api_login_required
@with_conversation
def conversation_detail(request, conversation: Conversation):
    """Read (GET), rename, set the system prompt, pin or file (PATCH), or delete (DELETE) one conversation."""
    if request.method == "GET":
        return JsonResponse(conversation_json(conversation))
    if request.method == "DELETE":
        try:
            delete_conversation(conversation=conversation)
        except StillStreaming as streaming:
            return error_response(streaming, status=409)
        return HttpResponse(status=204)
    return rename(request, conversation)


def rename(request, conversation: Conversation) -> JsonResponse:
    """Apply a PATCH of `title`, `system_prompt`, `pinned` and/or `folder`, refusing anything else with a reason."""
    try:
        changes = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be what we ask for
        return error_response(InvalidRequest("Send a JSON object."), status=400)
    if not isinstance(changes, dict) or not changes or set(changes) - set(PATCHABLE):
        fields = ", ".join(f"'{field}'" for field in PATCHABLE)
        return error_response(InvalidRequest(f"Send a JSON object with any of {fields}."), status=400)
    for field, kind in PATCHABLE.items():
        if field not in changes:
            continue
        if not isinstance(changes[field], kind):
            return error_response(InvalidRequest(f"'{field}' must be {PATCHABLE_KINDS[kind]}."), status=400)
        if kind is str:
            try:
                storable_text(changes[field])
            except ValueError as error:
                return error_response(InvalidRequest(f"'{field}': {error}."), status=400)
    try:
        update_conversation(conversation=conversation, **{field: changes.get(field) for field in PATCHABLE})
    except InvalidRequest as invalid:
        return error_response(invalid, status=400)
    return JsonResponse(conversation_summary(conversation))


@require_GET
@api_login_required
@with_conversation
def conversation_export(request, conversation: Conversation):
    """Download the branch a conversation shows as Markdown (`format=md`, the default) or JSON (`format=json`)."""
    kind = request.GET.get("format", "md")
    if kind not in ("md", "json"):
        return error_response(InvalidRequest("format must be md or json."), status=400)
    data = branch_json(conversation)
    name = f"panels-conversation-{conversation.pk}.{kind}"
    if kind == "json":
        response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    else:
        response = HttpResponse(as_markdown(data), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def as_markdown(data: dict) -> str:
    """Return a conversation as Markdown: each prompt, then each model's reply under its name."""
    lines = [f"# {data['title'] or 'Conversation'}", ""]
    if data["system_prompt"]:
        lines += ["> System prompt: " + data["system_prompt"].replace("\n", "\n> "), ""]
    for turn in data["turns"]:
        lines += ["## You", "", turn["content"], ""]
        if turn["attachments"]:
            lines += [f"Attached: {attachment_line(a)}" for a in turn["attachments"]] + [""]
        for message in turn["messages"]:
            footer = f"{message['input_tokens']} in / {message['output_tokens']} out, {message['credits']} credits"
            lines += [f"### {message['model']} ({message['status']}, {footer})", "", message["text"], ""]
    return "\n".join(lines)


def attachment_line(attachment: dict) -> str:
    """Return a file as an export lists it: its name and size, and an image's pixels or a PDF's pages."""
    size = attachment["size_bytes"]
    shown = (
        f"{size:,} bytes"
        if size < 1024
        else f"{size / 1024:,.1f} KB"
        if size < 1024 * 1024
        else f"{size / 1024 / 1024:,.1f} MB"
    )
    if attachment["width"]:
        shown += f", {attachment['width']}x{attachment['height']} px"
    if attachment["pages"]:
        shown += f", {attachment['pages']} pages"
    return f"{attachment['name']} ({shown})"


@require_POST
@api_login_required
@with_conversation
def conversation_branch(request, conversation: Conversation):
    """Open the conversation on the branch through the turn `turn_id` (JSON); return its last turn's id."""
    try:
        turn_id = json.loads(request.body or b"{}").get("turn_id")
    except (ValueError, RecursionError, AttributeError):
        turn_id = None
    if not isinstance(turn_id, int) or isinstance(turn_id, bool):
        return error_response(InvalidRequest("Send a JSON object with the 'turn_id' to show."), status=400)
    try:
        last = show_branch(conversation=conversation, turn_id=turn_id)
    except NotFound as missing:
        return error_response(missing, status=404)
    return JsonResponse({"current_turn_id": last})


@require_POST
@api_login_required
def message_shown(request, message_id: int):
    """Show this version of a reply in its panel (and send it as the panel's history from now on)."""
    try:
        message = message_for(request.user, message_id)
    except NotFound as missing:
        return error_response(missing, status=404)
    show_version(message=message)
    return JsonResponse(
        {"id": message.pk, "turn_id": message.turn_id, "panel": message.panel, "version": message.version}
    )
