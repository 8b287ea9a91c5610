"""Read paths of the chat app, each scoped to its owner: the catalog, conversations, replies, threads."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from billing.selectors import hold_minutes as billing_hold_minutes
from catalog.models import AIModel
from catalog.selectors import catalog_models
from chat.attachments.prompt import Prompt
from chat.exceptions import NotFound, UnknownModel
from chat.liveness import dead_before
from chat.models import (
    ApiCall,
    Conversation,
    Message,
    Preset,
    ServerProcess,
    Turn,
    api_call_reference,
    hold_reference,
    route_task_choices,
)
from chat.router.preferences import Preference, preferences_from

ORPHANED_AFTER = timedelta(seconds=10)  # a reply's task starts within moments of its turn being written

# What one Auto reply saved: its price on the other candidate minus its charge, when that is positive.
SAVED_BY_AUTO = Case(
    When(comparison_credits__gt=F("credits"), then=F("comparison_credits") - F("credits")),
    default=Value(0),
    output_field=BigIntegerField(),
)


@dataclass(frozen=True)
class Folder:
    """One of a person's folders and how many of their conversations are filed in it."""

    name: str
    conversations: int


@dataclass(frozen=True)
class TaskSpending:
    """What a person's Auto replies and Auto API calls of one task cost in a period, and what Auto saved on them."""

    task: str
    label: str
    replies: int  # Auto replies and API calls charged
    credits: int
    saved: int  # credits; see SAVED_BY_AUTO


@dataclass(frozen=True)
class ModelWins:
    """How many of a task's decided turns one model's reply won."""

    slug: str
    name: str
    wins: int
    share: float  # of the task's decided turns


@dataclass(frozen=True)
class TaskWins:
    """A person's turns of one task with a best reply marked (decided), and how each model fared in them."""

    task: str
    label: str
    decided: int
    models: list[ModelWins]  # most wins first


def catalog_models_named(slugs: Iterable[str]) -> dict[str, AIModel]:
    """Return the enabled models called `slugs`, by slug, in one read; raise `UnknownModel` naming the first other."""
    wanted = list(dict.fromkeys(slugs))
    models = {model.slug: model for model in catalog_models().filter(slug__in=wanted)}
    for slug in wanted:
        if slug not in models:
            raise UnknownModel(f"There is no model called {slug!r}.")
    return models


def conversations_for(user) -> QuerySet[Conversation]:
    """Return the user's conversations, most recently active first."""
    return Conversation.objects.filter(user=user).order_by("-updated_at", "-id")


def listed_conversations_for(user, *, query: str = "", folder: str = "") -> QuerySet[Conversation]:
    """Return the user's conversations as the sidebar lists them: pinned first, latest pin first, then by activity.

    `folder` keeps one folder's conversations; `query` keeps those whose title, folder, prompts or replies
    contain it (ignoring case), in one query.
    """
    conversations = conversations_for(user).order_by(F("pinned_at").desc(nulls_last=True), "-updated_at", "-id")
    if folder:
        conversations = conversations.filter(folder=folder)
    if query:
        conversations = conversations.filter(
            Q(title__icontains=query)
            | Q(folder__icontains=query)
            | Q(turns__content__icontains=query)
            | Q(turns__messages__text__icontains=query)
        ).distinct()
    return conversations


def folders_for(user) -> list[Folder]:
    """Return the user's folders, by name (ignoring case), each with how many conversations it holds."""
    rows = (
        Conversation.objects.filter(user=user)
        .exclude(folder="")
        .values("folder")
        .annotate(conversations=Count("id"))
        .order_by(Lower("folder"), "folder")
    )
    return [Folder(name=row["folder"], conversations=row["conversations"]) for row in rows]


def conversation_for(user, conversation_id) -> Conversation:
    """Return the user's conversation `conversation_id`; raise `NotFound` for any other id."""
    try:
        return conversations_for(user).get(pk=conversation_id)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise NotFound("There is no such conversation.") from None


def message_for(user, message_id) -> Message:
    """Return the user's reply `message_id`; raise `NotFound` for any other id."""
    try:
        return Message.objects.select_related("turn", "model", "comparison_model").get(pk=message_id, turn__user=user)
    except (Message.DoesNotExist, ValueError, TypeError):
        raise NotFound("There is no such reply.") from None


def presets_for(user) -> QuerySet[Preset]:
    """Return the user's own presets by name (the built-in ones are in chat/presets.py)."""
    return Preset.objects.filter(user=user).order_by("name", "id")


def preset_for(user, preset_id) -> Preset:
    """Return the user's preset `preset_id`; raise `NotFound` for any other id."""
    try:
        return presets_for(user).get(pk=preset_id)
    except (Preset.DoesNotExist, ValueError, TypeError):
        raise NotFound("There is no such preset.") from None


def turn_messages_for(user, turn_id) -> list[Message]:
    """Return the replies of the user's turn `turn_id`; raise `NotFound` for any other id."""
    messages = list(Message.objects.filter(turn_id=turn_id, turn__user=user).select_related("model"))
    if not messages:
        raise NotFound("There is no such turn.")
    return messages


def turn_for(user, turn_id) -> Turn:
    """Return the user's turn `turn_id`; raise `NotFound` for any other id."""
    try:
        return Turn.objects.get(pk=turn_id, user=user)
    except (Turn.DoesNotExist, ValueError, TypeError):
        raise NotFound("There is no such turn.") from None


def wins_for(user) -> list[TaskWins]:
    """Return, per task, how many of the user's turns have a best reply marked and how often each model won.

    Every marked turn counts: a winner can only be marked among two replies or more (chat/winners.py), so each
    is a real comparison. Most decided turns first; within a task, most wins first. One read.
    """
    won = (
        Turn.objects.filter(user=user, winner__isnull=False)
        .values("winner_task", "winner__model__slug", "winner__model__name")
        .annotate(wins=Count("id"))
        .order_by()
    )
    by_task: dict[str, list[tuple[str, str, int]]] = {}
    for row in won:
        by_task.setdefault(row["winner_task"], []).append(
            (row["winner__model__slug"], row["winner__model__name"], row["wins"])
        )
    labels = dict(route_task_choices())
    tasks = []
    for task, models in by_task.items():
        decided = sum(wins for *_, wins in models)
        ranked = sorted(models, key=lambda model: (-model[2], model[1]))
        tasks.append(
            TaskWins(
                task=task,
                label=labels.get(task, task),
                decided=decided,
                models=[ModelWins(slug, name, wins, wins / decided) for slug, name, wins in ranked],
            )
        )
    return sorted(tasks, key=lambda task: (-task.decided, task.label))


def my_routing_for(user) -> dict[str, Preference] | None:
    """Return what Auto learns from the user's winners (task -> most-marked model), or None when not opted in."""
    if not user.routes_by_my_winners:
        return None
    return preferences_from((task.task, model.slug, model.wins) for task in wins_for(user) for model in task.models)


def abandoned_before(*, hold_minutes: int | None = None):
    """Return the time before which a reply no live process claims was abandoned.

    A minute before its hold expires, so the reply is finished (and charged for what it delivered) before
    billing's sweeper releases the hold. This covers replies whose process never registered a heartbeat.
    `hold_minutes` is read from the billing settings unless the caller has them.
    """
    minutes = hold_minutes if hold_minutes is not None else billing_hold_minutes()
    return timezone.now() - timedelta(minutes=minutes) + timedelta(minutes=1)


def _abandoned(*, hold_minutes: int | None = None) -> Q:
    """Match a streaming reply whose process is dead: its heartbeat stopped, or it has none and is old."""
    process = ServerProcess.objects.filter(pk=OuterRef("streamed_by"))
    return Q(Exists(process.filter(seen_at__lt=dead_before()))) | (
        ~Q(Exists(process)) & Q(created_at__lt=abandoned_before(hold_minutes=hold_minutes))
    )


def streaming_messages(*, hold_minutes: int | None = None) -> QuerySet[Message]:
    """Return the replies that are really streaming: marked so, and not abandoned by a dead process."""
    return Message.objects.filter(status=Message.Status.STREAMING).exclude(_abandoned(hold_minutes=hold_minutes))


def abandoned_replies(*, this_process: str, running: Iterable[int], known_before: datetime) -> QuerySet[Message]:
    """Return the replies still marked streaming that nothing streams, oldest first.

    Those whose process died, and those of `this_process` that it does not run (`running` are the ones it
    does, complete for the replies written before `known_before`), once they are a few seconds old: a turn
    written whose replies never started (a failure between the two) must not stay streaming, its credits
    held, for as long as its process lives.
    """
    written_before = min(known_before, timezone.now()) - ORPHANED_AFTER
    orphaned = Q(streamed_by=this_process, created_at__lt=written_before) & ~Q(pk__in=list(running))
    return Message.objects.filter(Q(status=Message.Status.STREAMING) & (_abandoned() | orphaned)).order_by(
        "created_at", "id"
    )


def abandoned_api_calls() -> list[int]:
    """Return the ids of the API calls still marked streaming whose process died, oldest first."""
    calls = ApiCall.objects.filter(Q(status=ApiCall.Status.STREAMING) & _abandoned()).order_by("created_at", "id")
    return list(calls.values_list("pk", flat=True))


def streaming_messages_in(conversation: Conversation) -> list[Message]:
    """Return the replies of a conversation that are still streaming, in turn and panel order."""
    return list(
        streaming_messages()
        .filter(turn__conversation=conversation)
        .select_related("model")
        .order_by("turn_id", "panel")
    )


def branch_turns(conversation: Conversation, last_turn_id: int | None) -> list[Turn]:
    """Return the turns of the branch that ends at `last_turn_id`, first to last, with replies and files loaded.

    The replies are each panel's current version, in panel order (`turn.shown`). None, or a turn not in this
    conversation, is the empty branch. One read of the conversation's turns, one of their current replies.
    """
    if last_turn_id is None:
        return []
    parents = dict(conversation.turns.values_list("pk", "parent_id"))
    path, turn_id = [], last_turn_id
    while turn_id is not None and turn_id in parents and len(path) <= len(parents):
        path.append(turn_id)
        turn_id = parents[turn_id]
    turns = {turn.pk: turn for turn in conversation.turns.filter(pk__in=path).prefetch_related("attachments")}
    shown: dict[int, list[Message]] = {pk: [] for pk in path}
    for message in Message.objects.filter(turn_id__in=path, current=True).select_related("model").order_by("panel"):
        shown[message.turn_id].append(message)
    branch = []
    for pk in reversed(path):
        turns[pk].shown = shown[pk]
        branch.append(turns[pk])
    return branch


def branch_end(conversation: Conversation) -> int | None:
    """Return the last turn of the branch the conversation is open on (its newest turn if none is set)."""
    if conversation.current_turn_id is not None:
        return conversation.current_turn_id
    return conversation.turns.order_by("-created_at", "-id").values_list("pk", flat=True).first()


def newest_leaf_under(conversation: Conversation, turn_id) -> int:
    """Return the newest turn at the end of a branch through `turn_id`; raise `NotFound` for a turn not in it."""
    rows = list(conversation.turns.order_by("created_at", "id").values_list("pk", "parent_id"))
    if not any(pk == turn_id for pk, _ in rows):
        raise NotFound("There is no such turn in this conversation.")
    children: dict[int, list[int]] = {}
    for pk, parent in rows:
        children.setdefault(parent, []).append(pk)
    newest, stack = turn_id, [turn_id]
    while stack:  # every turn below `turn_id`; ids grow with time, so the largest is the newest
        pk = stack.pop()
        newest = max(newest, pk)
        stack.extend(children.get(pk, []))
    return newest


def threads_for(
    conversation: Conversation, panels: Sequence[tuple[AIModel, int]], parent_id: int | None
) -> list[list[tuple[Prompt, str]]]:
    """Return, for each (model, panel), the (prompt, reply) pairs of the branch ending at `parent_id`, oldest first.

    A panel continues its own thread through the versions shown: each turn contributes this model's reply,
    else the reply in the same panel, else the prompt alone is left out (there is no answer to pair it with).
    """
    turns = [
        (
            Prompt(turn.content, tuple(turn.attachments.all())),
            [m for m in turn.shown if m.text and m.status != Message.Status.STREAMING],
        )
        for turn in branch_turns(conversation, parent_id)
    ]
    threads = []
    for model, panel in panels:
        pairs = []
        for content, replies in turns:
            chosen = next((m for m in replies if m.model_id == model.pk), None) or next(
                (m for m in replies if m.panel == panel), None
            )
            if chosen is not None:
                pairs.append((content, chosen.text))
        threads.append(pairs)
    return threads


def auto_spending_for(user, *, since: datetime | None = None) -> list[TaskSpending]:
    """Return the user's charged Auto replies and API calls that finished since `since` (None: ever) per task.

    Most credits first. Summed in the database, chat replies and API calls apart, then added per task: how
    many, the credits charged, and the credits saved against the other candidate.
    """
    sums = {"replies": Count("id"), "charged": Sum("credits"), "saved": Sum(SAVED_BY_AUTO)}
    replies = Message.objects.filter(turn__user=user, credits__gt=0).exclude(route_task="")
    calls = ApiCall.objects.filter(user=user, credits__gt=0).exclude(route_task="")
    totals: dict[str, list[int]] = {}
    for routed in (replies, calls):
        if since is not None:
            routed = routed.filter(finished_at__gte=since)
        for group in routed.values("route_task").annotate(**sums).order_by():
            total = totals.setdefault(group["route_task"], [0, 0, 0])
            total[0] += group["replies"]
            total[1] += group["charged"]
            total[2] += group["saved"]
    labels = dict(route_task_choices())
    rows = [
        TaskSpending(task=task, label=labels.get(task, task), replies=count, credits=charged, saved=saved)
        for task, (count, charged, saved) in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.credits, row.task))


def auto_tasks_by_reference(user, references: Iterable[str]) -> dict[str, str]:
    """Return the task Auto recognised for the user's replies and API calls whose holds these references name.

    Two reads in all (replies, API calls). References of anything else, of other people's calls, of calls not
    routed by Auto, and of replies since deleted are left out.
    """
    replies, calls = {}, {}
    for reference in references:
        number = reference.partition(":")[2]
        if not number.isdigit():
            continue
        if reference == hold_reference(int(number)):
            replies[int(number)] = reference
        elif reference == api_call_reference(int(number)):
            calls[int(number)] = reference
    tasks = {}
    for routed, ids in ((Message.objects.filter(turn__user=user), replies), (ApiCall.objects.filter(user=user), calls)):
        if ids:
            for pk, task in routed.filter(pk__in=ids).exclude(route_task="").values_list("pk", "route_task"):
                tasks[ids[pk]] = task
    return tasks
