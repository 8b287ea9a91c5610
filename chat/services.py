"""Write paths of the chat app: start a turn (records, holds, calls to make) and finish each reply.

A turn is written as a whole or not at all: the conversation, the turn, one message per panel and every
panel's hold commit together, so a turn the wallet cannot cover leaves nothing behind. Finishing a reply
settles its hold and saves its text and usage in one transaction, once; a reply Auto routed also saves what
the same tokens would have cost on the other candidate it was chosen over.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from billing.models import BillingSettings
from billing.rates import current_cost
from billing.selectors import auto_ceiling_for, balance_and_held_of, credits_held_for, hold_named
from billing.services import ChargedUsage, HoldRequest, place_holds, release, settle
from catalog.models import AIModel
from chat.attachments.prompt import Prompt, files_text_tokens
from chat.attachments.services import attachments_to_send
from chat.auto import choose_model
from chat.budget import fit_history, history_tokens, max_output_tokens_for
from chat.exceptions import (
    CannotReadImages,
    Interrupted,
    ModelUnavailable,
    NotFound,
    StillStreaming,
    TooManyInFlight,
)
from chat.limits import MAX_CONTENT_CHARS
from chat.models import Attachment, Conversation, Message, ModelCall, Turn, hold_reference
from chat.providers.base import MAX_TEMPERATURE, CallOptions, CallRequest, Usage
from chat.providers.registry import availability, provider_config_for
from chat.selectors import (
    branch_end,
    catalog_models_named,
    conversation_for,
    message_for,
    my_routing_for,
    newest_leaf_under,
    streaming_messages,
    threads_for,
)
from chat.titles import title_from
from chat.tokens import estimate_tokens
from errors import InvalidRequest

AUTO = "auto"
FINISHED_FIELDS = [  # what `record_outcome` sets on a model call
    "status",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "usage_estimated",
    "credits",
    "comparison_credits",
    "error_code",
    "error_detail",
    "ttft_ms",
    "duration_ms",
    "streaming_ms",
    "provider_request_id",
    "finished_at",
]
MAX_TITLE_CHARS = Conversation._meta.get_field("title").max_length
MAX_FOLDER_CHARS = Conversation._meta.get_field("folder").max_length


@dataclass(frozen=True)
class PanelChoice:
    """The model that answers in one panel, and why (for Auto)."""

    requested: str
    model: AIModel
    route_task: str = ""  # for Auto: the task it saw in the prompt, and why it chose this model
    route_reason: str = ""
    comparison_model: AIModel | None = None  # for Auto: the other candidate the reply's cost is compared with

    def call_fields(self) -> dict:
        """Return what a model call records of this choice (the price is the one a hold will capture)."""
        return {
            "model": self.model,
            "price": self.model.current_price(),
            "requested_model": self.requested,
            "route_task": self.route_task,
            "route_reason": self.route_reason,
            "comparison_model": self.comparison_model,
        }


@dataclass(frozen=True)
class ReplySettings:
    """What a person set for one panel: its sampling temperature and output limit; None keeps the model's own."""

    temperature: Decimal | None = None
    max_output_tokens: int | None = None

    @classmethod
    def of(cls, message: Message) -> "ReplySettings":
        """Return the settings a reply was asked with."""
        return cls(temperature=message.temperature, max_output_tokens=message.max_output_tokens)

    def as_json(self) -> dict:
        """Return the settings as the conversation remembers them (the temperature as a number)."""
        temperature = None if self.temperature is None else float(self.temperature)
        return {"temperature": temperature, "max_output_tokens": self.max_output_tokens}


DEFAULT_SETTINGS = ReplySettings()


@dataclass(frozen=True)
class PreparedReply:
    """Everything the streaming task needs to produce one reply, without touching the database."""

    message_id: int
    stream_key: str
    user_id: int
    model_slug: str
    call: CallRequest
    estimated_input_tokens: int
    hold_expires_at: datetime  # the reply must end before its hold expires, or it could not be charged


@dataclass(frozen=True)
class StartedTurn:
    """A turn as written: its replies (one per panel, models loaded), what they hold, and the calls to make."""

    turn: Turn
    messages: list[Message]
    held_credits: int
    replies: list[PreparedReply]  # empty when the request was a retry of a turn already started
    wallet: tuple[int, int] | None = None  # (balance, held) as the turn left it; None for a retry
    titled: str = ""  # the title a new conversation got from this turn's prompt
    attachments: tuple[Attachment, ...] = ()  # the files sent with the prompt


@dataclass(frozen=True)
class FinishedReply:
    """A reply as saved, and the wallet (balance, held) as settling it left it."""

    message: Message
    wallet: tuple[int, int]


def choose_panels(
    model_slugs: list[str],
    *,
    content: str,
    conversation: Conversation,
    parent_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> list[PanelChoice]:
    """Resolve the requested slugs to callable models; `auto` asks the router, within the person's price ceiling.

    `parent_id` is the turn the prompt follows: Auto sizes the history on that branch. A person who opted in
    to my routing has Auto prefer the model they mark best for the prompt's task. With images attached, a
    named model without vision is refused (CannotReadImages, before anything is held) and Auto chooses among
    the models with vision.
    """
    prompt = Prompt(content, attachments)
    choices = []
    ceiling = auto_ceiling_for(conversation.user) if AUTO in model_slugs else None
    preferences = my_routing_for(conversation.user) if AUTO in model_slugs else None
    named = catalog_models_named(slug for slug in model_slugs if slug != AUTO)
    for slug in model_slugs:
        if slug == AUTO:
            routed = choose_model(
                prompt=content,
                history_tokens=history_tokens(conversation, parent_id) + files_text_tokens(attachments),
                candidates=vision_models() if prompt.images else None,
                ceiling_credits=ceiling,
                preferences=preferences,
            )
            choices.append(
                PanelChoice(AUTO, routed.model, routed.task, routed.reason, comparison_model=routed.comparison)
            )
            continue
        model = named[slug]
        available, reason = availability(model)
        if not available:
            raise ModelUnavailable(reason)
        if prompt.images and not model.supports_vision:
            raise CannotReadImages(
                f"{model.name} cannot read images. Remove the image, or choose a model with vision for that panel."
            )
        choices.append(PanelChoice(slug, model))
    return choices


def vision_models() -> list[str]:
    """Return the slugs of the enabled models that read images: Auto's candidates for a prompt with images."""
    slugs = list(
        AIModel.objects.filter(enabled=True, provider__enabled=True, supports_vision=True).values_list(
            "slug", flat=True
        )
    )
    if not slugs:
        raise CannotReadImages("No model that reads images is available right now. Remove the image to send.")
    return slugs


def turns_in_flight(user, *, hold_minutes: int | None = None) -> int:
    """Return how many of the user's turns still have a reply streaming (`hold_minutes`: see `abandoned_before`)."""
    return streaming_messages(hold_minutes=hold_minutes).filter(turn__user=user).values("turn").distinct().count()


@transaction.atomic
def finish_abandoned_reply(*, message_id: int, text: str) -> FinishedReply | None:
    """Finish a reply whose process died, with the text its log holds; return it finished.

    The reply ends as an error (`interrupted`); its input and the text it delivered are charged as
    estimated, like a cut stream. Return None when it was finished meanwhile (by its process or another).
    """
    message = Message.objects.select_for_update(no_key=True).get(pk=message_id)
    if message.status != Message.Status.STREAMING:
        return None
    hold = hold_named(hold_reference(message.pk))
    outcome = ReplyOutcome(
        text=text,
        usage=None,
        stopped=False,
        error_code=Interrupted.code,
        error_detail="This reply was interrupted by a server restart; what had arrived is kept.",
    )
    return finish_reply(
        message_id=message.pk, outcome=outcome, estimated_input_tokens=hold.estimated_input_tokens if hold else 0
    )


def start_turn(
    *,
    user,
    request_id: str,
    conversation_id: int | None,
    model_slugs: list[str],
    content: str,
    process_id: str | None = None,
    after_turn_id: int | None = None,
    edit_of_turn_id: int | None = None,
    system_prompt: str | None = None,
    panel_settings: list[ReplySettings] | None = None,
    attachment_ids: list[str] | None = None,
):
    """Start a turn: write it, hold its worst-case cost for every panel, and return the calls to make.

    The turn follows `after_turn_id` (the last turn of the branch the person sees; None: the conversation's
    current turn), or, as an edit of `edit_of_turn_id`, becomes that turn's sibling: a new branch, the old one
    kept. Each panel's history is its branch. `system_prompt`, when given, becomes the conversation's first;
    `panel_settings` (one per model) set each reply's temperature and output limit, and so its hold.
    `attachment_ids` name the person's uploaded files that go with the prompt (chat/attachments/).
    `process_id` names the server process that will stream the replies (see chat/liveness.py). A
    `request_id` already used by this user returns that turn's `turn.started` again and starts nothing.
    Raises a ChatError or BillingError (nothing written) when the turn cannot start.
    """
    settings_per_panel = list(panel_settings) if panel_settings is not None else [DEFAULT_SETTINGS] * len(model_slugs)
    if len(settings_per_panel) != len(model_slugs):
        raise InvalidRequest("Give one panel's settings per model.")
    if system_prompt is not None and len(system_prompt) > MAX_CONTENT_CHARS:
        raise InvalidRequest(f"A system prompt has at most {MAX_CONTENT_CHARS:,} characters.")
    try:
        return _write_turn(
            user=user,
            request_id=request_id,
            conversation_id=conversation_id,
            model_slugs=model_slugs,
            content=content,
            process_id=process_id,
            after_turn_id=after_turn_id,
            edit_of_turn_id=edit_of_turn_id,
            system_prompt=system_prompt,
            panel_settings=settings_per_panel,
            attachment_ids=attachment_ids or [],
        )
    except IntegrityError:
        replay = Turn.objects.filter(user=user, request_id=request_id).first()
        if replay is None:
            raise
        return started_again(replay)  # the same request, whose first attempt committed while this one waited


def _parent_of_new_turn(conversation: Conversation, *, after_turn_id, edit_of_turn_id) -> int | None:
    """Return the turn a new turn follows in `conversation` (None: it is a first prompt); NotFound for other ids."""
    if conversation.pk is None:
        return None
    named = edit_of_turn_id if edit_of_turn_id is not None else after_turn_id
    if named is None:
        return branch_end(conversation)
    parent = conversation.turns.filter(pk=named).values_list("parent_id", flat=True).first()
    if parent is None and not conversation.turns.filter(pk=named).exists():
        raise NotFound("There is no such turn in this conversation.")
    return parent if edit_of_turn_id is not None else named


@transaction.atomic
def _write_turn(
    *,
    user,
    request_id,
    conversation_id,
    model_slugs,
    content,
    process_id,
    after_turn_id,
    edit_of_turn_id,
    system_prompt,
    panel_settings,
    attachment_ids,
) -> StartedTurn:
    billing = BillingSettings.load()
    replay_id, in_flight = _admit(user.pk, request_id, hold_minutes=billing.hold_minutes)
    if replay_id is not None:
        return started_again(Turn.objects.get(pk=replay_id))
    _check_in_flight(in_flight)
    conversation = conversation_for(user, conversation_id) if conversation_id is not None else Conversation(user=user)
    parent_id = _parent_of_new_turn(conversation, after_turn_id=after_turn_id, edit_of_turn_id=edit_of_turn_id)
    if system_prompt is not None:
        conversation.system_prompt = system_prompt.strip()
    attachments = attachments_to_send(user, attachment_ids)
    panels = choose_panels(
        model_slugs, content=content, conversation=conversation, parent_id=parent_id, attachments=attachments
    )
    # Titled from the first prompt at once (a person's own title is never replaced).
    untitled = not conversation.title and (conversation.pk is None or not conversation.turns.exists())
    conversation.title = title_from(content or attachments[0].name) if untitled else conversation.title
    conversation.chosen_models = list(model_slugs)
    conversation.chosen_settings = [chosen.as_json() for chosen in panel_settings]
    is_new = conversation.pk is None
    if is_new:
        conversation.save()
    turn = Turn.objects.create(
        conversation=conversation, user=user, request_id=request_id, content=content, parent_id=parent_id
    )
    if attachments:
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(turn=turn)
    conversation.current_turn = turn
    conversation.save(
        update_fields=["title", "system_prompt", "chosen_models", "chosen_settings", "current_turn", "updated_at"]
    )
    threads = [[] for _ in panels] if is_new else threads_for(conversation, _panel_models(panels), parent_id)
    messages, replies, held = _start_replies(
        user=user,
        turn=turn,
        prompt=Prompt(content, attachments),
        system_prompt=conversation.system_prompt,
        panels=[
            (panel, choice, chosen, 1)
            for panel, (choice, chosen) in enumerate(zip(panels, panel_settings, strict=True))
        ],
        threads=threads,
        billing=billing,
        process_id=process_id,
    )
    return StartedTurn(
        turn,
        messages,
        held,
        replies,
        wallet=balance_and_held_of(user.pk),
        titled=conversation.title if untitled else "",
        attachments=attachments,
    )


def _panel_models(panels: list[PanelChoice]) -> list[tuple[AIModel, int]]:
    return [(choice.model, panel) for panel, choice in enumerate(panels)]


def _check_in_flight(in_flight: int) -> None:
    if in_flight >= settings.CHAT_MAX_TURNS_IN_FLIGHT:
        raise TooManyInFlight(
            f"You already have {settings.CHAT_MAX_TURNS_IN_FLIGHT} turns answering; wait for one to finish."
        )


def _start_replies(
    *,
    user,
    turn: Turn,
    prompt: Prompt,
    system_prompt: str,
    panels: list[tuple[int, PanelChoice, ReplySettings, int]],  # (panel, choice, settings, version)
    threads: list[list[tuple[str, str]]],
    billing: BillingSettings,
    process_id: str | None,
    request_id: str = "",
) -> tuple[list[Message], list[PreparedReply], int]:
    """Write one reply per panel of `turn`, hold each one's worst case, and return them, their calls and the sum held.

    `threads` are each panel's earlier (prompt, reply) pairs; a reply holds for the output limit its settings
    ask (never above the model's own), so a lower limit holds, and so needs, fewer credits.
    """
    plans = []
    for (panel, choice, reply_settings, version), pairs in zip(panels, threads, strict=True):
        reply_settings = _within_temperature_range(choice, reply_settings)
        chat_messages, dropped, estimated_input = fit_history(
            system_prompt=system_prompt,
            pairs=pairs,
            content=prompt,
            model=choice.model,
            max_output_tokens=reply_settings.max_output_tokens,
        )
        message = Message(
            turn=turn,
            panel=panel,
            version=version,
            request_id=request_id,
            temperature=reply_settings.temperature,
            max_output_tokens=reply_settings.max_output_tokens,
            **choice.call_fields(),  # its price is the one the hold below captures
            dropped_turns=dropped,
            attachment_tokens=prompt.attachment_tokens_for(choice.model),
            streamed_by=process_id,
        )
        budget = max_output_tokens_for(choice.model, asked=reply_settings.max_output_tokens)
        plans.append((message, choice, reply_settings, chat_messages, estimated_input, budget))
    Message.objects.bulk_create([plan[0] for plan in plans])  # one statement for every panel

    holds = place_holds(
        user=user,
        references_are_new=True,  # the messages were written just above
        billing=billing,
        requests=[
            HoldRequest(
                reference=hold_reference(message.pk),
                model=choice.model,
                estimated_input_tokens=estimated_input,
                max_output_tokens=budget,
            )
            for message, choice, _, _, estimated_input, budget in plans
        ],
    )
    repriced = []  # a price that took effect between reading it and holding (the hold's is the one charged)
    for plan, hold in zip(plans, holds, strict=True):
        if plan[0].price_id != hold.price_id:
            plan[0].price_id = hold.price_id
            repriced.append(plan[0])
    if repriced:
        Message.objects.bulk_update(repriced, ["price"])

    replies = [
        PreparedReply(
            message_id=message.pk,
            stream_key=str(message.stream_key),
            user_id=user.pk,
            model_slug=choice.model.slug,
            call=CallRequest(
                provider=provider_config_for(choice.model.provider),
                api_model_id=choice.model.api_model_id,
                messages=tuple(chat_messages),
                max_output_tokens=budget,
                options=_call_options(reply_settings),
            ),
            estimated_input_tokens=estimated_input,
            hold_expires_at=hold.expires_at,
        )
        for (message, choice, reply_settings, chat_messages, estimated_input, budget), hold in zip(
            plans, holds, strict=True
        )
    ]
    return [plan[0] for plan in plans], replies, sum(hold.amount_credits for hold in holds)


def _within_temperature_range(choice: PanelChoice, reply_settings: ReplySettings) -> ReplySettings:
    """Return the settings with a temperature the model's provider takes; refuse one above it for a named model.

    For Auto the person did not choose the provider, so a temperature above its range is lowered to its top.
    """
    limit = MAX_TEMPERATURE[choice.model.provider.wire_format]
    if reply_settings.temperature is None or reply_settings.temperature <= limit:
        return reply_settings
    if choice.requested != AUTO:
        raise InvalidRequest(f"{choice.model.name} takes a temperature from 0 to {limit}.")
    return replace(reply_settings, temperature=limit)


def _call_options(reply_settings: ReplySettings) -> CallOptions:
    if reply_settings.temperature is None:
        return CallOptions()
    return CallOptions(temperature=float(reply_settings.temperature))


def regenerate_reply(
    *,
    user,
    request_id: str,
    message_id: int,
    process_id: str | None = None,
    reply_settings: ReplySettings | None = None,
) -> StartedTurn:
    """Ask one panel of a turn again: a new version of the reply in place, which becomes the one shown.

    The earlier versions stay, each with its charge on the ledger. The panel's model is asked again (Auto
    chooses again) with the history of the turn's branch, with `reply_settings` or the regenerated version's
    own. A `request_id` already used for this turn returns that version again and starts nothing.
    """
    try:
        return _write_version(
            user=user,
            request_id=request_id,
            message_id=message_id,
            process_id=process_id,
            reply_settings=reply_settings,
        )
    except IntegrityError:
        replay = Message.objects.filter(turn__user=user, request_id=request_id).select_related("turn").first()
        if replay is None:
            raise
        return _version_started_again(replay)


@transaction.atomic
def _write_version(*, user, request_id, message_id, process_id, reply_settings) -> StartedTurn:
    billing = BillingSettings.load()
    _lock_account(user.pk)
    original = message_for(user, message_id)
    replay = Message.objects.filter(turn=original.turn, request_id=request_id).select_related("turn").first()
    if replay is not None:
        return _version_started_again(replay)
    _check_in_flight(turns_in_flight(user, hold_minutes=billing.hold_minutes))
    turn = original.turn
    conversation = turn.conversation
    attachments = tuple(turn.attachments.all())
    choice = choose_panels(
        [original.requested_model],
        content=turn.content,
        conversation=conversation,
        parent_id=turn.parent_id,
        attachments=attachments,
    )[0]
    siblings = Message.objects.filter(turn=turn, panel=original.panel)
    version = max(siblings.values_list("version", flat=True)) + 1
    siblings.filter(current=True).update(current=False)  # before the new one: one current version per panel
    threads = threads_for(conversation, [(choice.model, original.panel)], turn.parent_id)
    messages, replies, held = _start_replies(
        user=user,
        turn=turn,
        prompt=Prompt(turn.content, attachments),
        system_prompt=conversation.system_prompt,
        panels=[(original.panel, choice, reply_settings or ReplySettings.of(original), version)],
        threads=threads,
        billing=billing,
        process_id=process_id,
        request_id=request_id,
    )
    conversation.save(update_fields=["updated_at"])
    return StartedTurn(turn, messages, held, replies, wallet=balance_and_held_of(user.pk), attachments=attachments)


def _version_started_again(message: Message) -> StartedTurn:
    message = Message.objects.select_related("model", "turn").get(pk=message.pk)
    held = credits_held_for([hold_reference(message.pk)])
    return StartedTurn(message.turn, [message], held, replies=[], attachments=tuple(message.turn.attachments.all()))


@transaction.atomic
def show_version(*, message: Message) -> Message:
    """Make `message` the version of its panel that is shown, and that later turns send as its history."""
    _lock_account(message.turn.user_id)
    Message.objects.filter(turn_id=message.turn_id, panel=message.panel, current=True).exclude(pk=message.pk).update(
        current=False
    )
    Message.objects.filter(pk=message.pk).update(current=True)
    message.current = True
    return message


@transaction.atomic
def show_branch(*, conversation: Conversation, turn_id: int) -> int:
    """Open the conversation on the branch through `turn_id` (to its newest turn); return that last turn's id.

    NotFound when `turn_id` is not a turn of this conversation.
    """
    last = newest_leaf_under(conversation, turn_id)
    Conversation.objects.filter(pk=conversation.pk).update(current_turn_id=last)  # viewing is not activity
    conversation.current_turn_id = last
    return last


def _admit(user_id: int, request_id: str, *, hold_minutes: int) -> tuple[int | None, int]:
    """Lock the person's account; return the turn `request_id` started (or None) and their turns answering.

    One admission at a time per person: two turns started at once (from two tabs, on two processes) cannot
    both see room under the limit. The count is a statement of its own, after the lock: a statement that
    waited for the lock still reads what was committed before it started. (A retry that races its first
    attempt can miss it the same way; the turn's unique request id catches that one.)
    """
    replay = Turn.objects.filter(user_id=OuterRef("pk"), request_id=request_id).values("pk")[:1]
    replay_id = (
        get_user_model()
        .objects.select_for_update(no_key=True)
        .filter(pk=user_id)
        .annotate(replay=Subquery(replay))
        .values_list("replay", flat=True)
        .get()
    )
    return replay_id, turns_in_flight(user_id, hold_minutes=hold_minutes)


def started_again(turn: Turn) -> StartedTurn:
    """Return a turn already started, to answer a retried request; it starts nothing new."""
    messages = list(turn.messages.filter(version=1).select_related("model").order_by("panel"))
    held = credits_held_for([hold_reference(m.pk) for m in messages])
    return StartedTurn(turn, messages, held, replies=[], attachments=tuple(turn.attachments.all()))


@dataclass(frozen=True)
class ReplyOutcome:
    """How a provider call ended, as the streaming task saw it."""

    text: str
    usage: Usage | None  # as the provider reported it; None when it never came
    stopped: bool
    error_code: str = ""
    error_detail: str = ""
    ttft_ms: int | None = None
    duration_ms: int | None = None
    streaming_ms: int | None = None  # first token to last; None when no text came
    retry_after_seconds: int | None = None  # the provider's wait, when it refused for now (rate limited)


def charged_usage(outcome: ReplyOutcome, *, estimated_input_tokens: int) -> ChargedUsage | None:
    """Return what to charge for a call: reported usage, else an estimate, else nothing.

    A call that failed before any output costs nothing; a stopped or cut call costs its input plus the
    output already delivered, counted by Panels when the provider did not report it.
    """
    if outcome.usage is not None:
        return ChargedUsage(
            input_tokens=outcome.usage.input_tokens,
            output_tokens=outcome.usage.output_tokens,
            cached_input_tokens=min(outcome.usage.cached_input_tokens, outcome.usage.input_tokens),
        )
    if outcome.text or outcome.stopped:
        return ChargedUsage(
            input_tokens=estimated_input_tokens, output_tokens=estimate_tokens(outcome.text), estimated=True
        )
    return None


@transaction.atomic
def finish_reply(*, message_id: int, outcome: ReplyOutcome, estimated_input_tokens: int) -> FinishedReply:
    """Settle a reply's hold and save it; return it finished. Once per reply: a finished one is returned as is."""
    message = (
        Message.objects.select_for_update(no_key=True, of=("self",))
        .select_related("comparison_model")
        .annotate(owner_id=F("turn__user_id"))
        .get(pk=message_id)
    )
    if message.status != Message.Status.STREAMING:
        return FinishedReply(message, balance_and_held_of(message.owner_id))
    record_outcome(
        message, reference=hold_reference(message_id), outcome=outcome, estimated_input_tokens=estimated_input_tokens
    )
    message.text = outcome.text
    message.save(update_fields=[*FINISHED_FIELDS, "text"])
    return FinishedReply(message, balance_and_held_of(message.owner_id))


def record_outcome(call: ModelCall, *, reference: str, outcome: ReplyOutcome, estimated_input_tokens: int) -> None:
    """Charge a model call's outcome to the hold named `reference` (or release it) and record it on `call`.

    The one way a call is paid for, chat reply or API call alike. Must run in the transaction that locked
    `call` and found it streaming; the caller saves `FINISHED_FIELDS` (and fields of its own).
    """
    hold = hold_named(reference)  # placed in the transaction that wrote the call
    usage = charged_usage(outcome, estimated_input_tokens=estimated_input_tokens)
    entry = settle(hold=hold, usage=usage) if usage is not None else None
    if usage is None:
        release(hold=hold)
    if outcome.error_code:
        call.status = ModelCall.Status.ERROR
    elif outcome.stopped:
        call.status = ModelCall.Status.STOPPED
    else:
        call.status = ModelCall.Status.COMPLETE
    call.input_tokens = usage.input_tokens if usage else 0
    call.cached_input_tokens = usage.cached_input_tokens if usage else 0
    call.output_tokens = usage.output_tokens if usage else 0
    call.usage_estimated = bool(usage and usage.estimated)
    call.credits = -entry.amount_credits if entry else 0
    if call.comparison_model_id is not None and usage is not None:
        call.comparison_credits = credits_on(call.comparison_model, usage)
    call.error_code = outcome.error_code
    call.error_detail = outcome.error_detail[:500]
    call.ttft_ms = outcome.ttft_ms
    call.duration_ms = outcome.duration_ms
    call.streaming_ms = outcome.streaming_ms
    call.provider_request_id = (outcome.usage.provider_request_id or "") if outcome.usage else ""
    call.finished_at = timezone.now()


def credits_on(model: AIModel, usage: ChargedUsage) -> int | None:
    """Return what `usage` would cost on `model` at its current price (None while it has none)."""
    cost = current_cost(
        model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
    )
    return None if cost is None else cost.credits


def _lock_account(user_id: int) -> None:
    """Lock the person's account row until the transaction ends: one turn admission or deletion at a time."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user_id).values_list("pk").get()


@transaction.atomic
def delete_conversation(*, conversation: Conversation) -> None:
    """Delete a conversation with its turns and replies; refused while a reply of it streams (it is being paid).

    The ledger keeps its entries: they point at holds, not at messages. The account lock orders this against a
    turn being started in the same conversation, which then finds the conversation gone.
    """
    _lock_account(conversation.user_id)
    if streaming_messages().filter(turn__conversation=conversation).exists():
        raise StillStreaming("Replies are still streaming; stop them first.")
    conversation.delete()


def update_conversation(
    *,
    conversation: Conversation,
    title: str | None = None,
    system_prompt: str | None = None,
    pinned: bool | None = None,
    folder: str | None = None,
) -> Conversation:
    """Rename, set the system prompt of, pin or unpin, or file a conversation; None leaves a field.

    A title and a folder have their whitespace collapsed (an empty folder takes the conversation out of its
    folder); a system prompt is trimmed. Pinning one already pinned keeps its place among the pinned. Raise
    `InvalidRequest` (nothing changed) for a value out of bounds.
    """
    changes = {}
    if system_prompt is not None:
        if len(system_prompt) > MAX_CONTENT_CHARS:
            raise InvalidRequest(f"A system prompt has at most {MAX_CONTENT_CHARS:,} characters.")
        changes["system_prompt"] = system_prompt.strip()
    if title is not None:
        title = " ".join(title.split())
        if not title or len(title) > MAX_TITLE_CHARS:
            raise InvalidRequest(f"A title has 1 to {MAX_TITLE_CHARS} characters.")
        changes["title"] = title
    if folder is not None:
        folder = " ".join(folder.split())
        if len(folder) > MAX_FOLDER_CHARS:
            raise InvalidRequest(f"A folder name has at most {MAX_FOLDER_CHARS} characters.")
        changes["folder"] = folder
    if pinned is not None:
        changes["pinned_at"] = (conversation.pinned_at or timezone.now()) if pinned else None
    if not changes:
        return conversation
    # The list orders by activity (`updated_at`, which save() would set: auto_now). Renaming, pinning and
    # filing are not activity, so they are written with QuerySet.update, which leaves it; a new system prompt
    # changes what the next reply is given and counts as activity, as it always has.
    if "system_prompt" in changes:
        changes["updated_at"] = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    for field, value in changes.items():
        setattr(conversation, field, value)
    return conversation
