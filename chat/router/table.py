"""Auto's routing table and the rules that pick one model per prompt from it: pure, no database.

The table says, for each task, which model suits it and why; the defaults are here, and an admin overrides a
task's model and reason with a `RouteRule` row (given here as `rules`). Choosing then applies three rules, in
order, down the task's line of models (its table model, its default, its fallbacks, then every other available
model by price): a prompt and its history that do not fit a model's context window beside a full reply (the
budget `chat.services.fit_history` enforces) never go to it; a model that is turned off or whose provider is not
configured is skipped; a model whose estimated cost (the task's typical reply) is above the ceiling is skipped.
Each choice also names the model its cost is compared with after the reply: the dearest other model the table
routes some task to that could have taken the prompt.

The caller loads what the rules read (chat/auto.py): every catalog model as a `Candidate`, the admin's rules
and the prices (an `Estimate`). A choice names the candidates it chose; the caller maps them back to its models.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Generic, Protocol, TypeVar

from chat.exceptions import ContextTooLong, ModelUnavailable, UnknownModel
from chat.router.classify import Task, classify
from chat.router.preferences import Preferences
from chat.tokens import estimate_message_tokens

MAX_ALTERNATIVES = 3
TYPICAL_PROMPT_TOKENS = 200  # a short prompt, for the typical costs shown beside the price ceiling
REASON_MAX_CHARS = 300  # the length of `Message.route_reason`, which is declared with this constant

# Fallback lines: models of a similar price and strength first, then the other tier of the table.
CHEAP_LINE = ("gemini-2.0-flash", "mistral-small", "claude-3-5-haiku")
STRUCTURED_LINE = ("gemini-2.0-flash", "mistral-small", "gpt-4.1-mini")  # all have a JSON mode
CAREFUL_LINE = ("gpt-4.1-mini", "claude-haiku-4-5", "gpt-4o-mini")
LONG_CONTEXT_LINE = ("gpt-4.1-mini", "gemini-2.0-flash", "gemini-2.5-flash", "gpt-4o-mini")  # 1M-token windows


@dataclass(frozen=True)
class TaskRoute:
    """One row of the built-in table: a task, where it goes by default and why, and what comes next."""

    task: Task
    label: str
    model: str  # slug of the default model
    why: str
    fallbacks: tuple[str, ...]
    reply_tokens: int  # a typical reply, to estimate the price


TABLE: tuple[TaskRoute, ...] = (
    TaskRoute(Task.SUPPORT_INTENT, "Customer support intent classification", "gpt-4o-mini",
              "cheap, reliable structured output", STRUCTURED_LINE, 50),
    TaskRoute(Task.BULK_SUMMARY, "Bulk content summarization", "gpt-4o-mini",
              "lowest cost for volume", CHEAP_LINE, 1_000),
    TaskRoute(Task.JSON_EXTRACTION, "JSON extraction from documents", "gpt-4o-mini",
              "schema-conformant output", STRUCTURED_LINE, 800),
    TaskRoute(Task.RAG_RERANK, "RAG reranking / relevance scoring", "gpt-4o-mini",
              "cheap enough for many passes", STRUCTURED_LINE, 200),
    TaskRoute(Task.SOCIAL_CAPTION, "Short-form social captions", "gpt-4o-mini",
              "tone variety at low cost", CHEAP_LINE, 300),
    TaskRoute(Task.CHATBOT, "High-volume chatbot interactions", "gpt-4o-mini",
              "cost scales at volume", CHEAP_LINE, 200),
    TaskRoute(Task.SUPPORT_EMAIL, "Customer-facing email drafts", "claude-3-5-haiku",
              "tone consistency, instruction fidelity", CAREFUL_LINE, 500),
    TaskRoute(Task.CODE_REVIEW, "Code review and explanation", "claude-3-5-haiku",
              "nuanced reasoning about code", CAREFUL_LINE, 1_200),
    TaskRoute(Task.LONG_DOCUMENT_QA, "Long document Q&A", "claude-3-5-haiku",
              "holds context across dense input (200K window)", LONG_CONTEXT_LINE, 600),
    TaskRoute(Task.BRAND_CONTENT, "Creative or brand-voice content", "claude-3-5-haiku",
              "more nuanced prose", CAREFUL_LINE, 600),
    TaskRoute(Task.MULTI_STEP, "Multi-step instruction tasks", "claude-3-5-haiku",
              "keeps layered constraints", CAREFUL_LINE, 1_200),
    TaskRoute(Task.RESEARCH_SUMMARY, "Research summarization (editorial quality)", "claude-3-5-haiku",
              "writing quality for readers", CAREFUL_LINE, 700),
    TaskRoute(Task.GENERAL_CHAT, "General chat", "gpt-4o-mini",
              "cheapest capable default", CHEAP_LINE, 500),
)  # fmt: skip
ROUTES = {route.task: route for route in TABLE}


Rules = Mapping[str, tuple[str, str]]  # the admin's enabled rules: task -> (model slug, why)


@dataclass(frozen=True)
class Candidate:
    """A catalog model as the rules see it: its window, its reply, and whether it may be named and called now."""

    slug: str
    name: str
    context_window: int
    max_output_tokens: int  # the model's own limit, which caps the typical reply a cost is estimated for
    reply_budget: int  # the output budget of one reply, kept free in the window beside the prompt and history
    offered: bool  # the model and its provider are turned on: a request may name it
    available: bool  # people can call it now (turned on, its provider configured, priced)


class Estimate(Protocol):
    def __call__(self, slug: str, *, input_tokens: int, output_tokens: int) -> int | None:
        """Return what one call of this size would cost on the model `slug` now, in credits; None with no price."""


class Skip(Enum):
    """Why a model in a task's line was passed over: one per rule."""

    TOO_LONG = "context window"
    UNAVAILABLE = "availability"
    OVER_CEILING = "price ceiling"


M = TypeVar("M")  # what a choice names models by: a `Candidate` here, the caller's own model once mapped back
N = TypeVar("N")


@dataclass(frozen=True)
class Alternative(Generic[M]):
    model: M
    estimated_credits: int


@dataclass(frozen=True)
class RouteChoice(Generic[M]):
    task: Task
    task_label: str
    model: M
    reason: str  # at most REASON_MAX_CHARS, so it fits `Message.route_reason`
    estimated_credits: int
    alternatives: tuple[Alternative[M], ...]
    comparison: M | None = None  # the other candidate, to price the same reply on (see `comparison_for`)

    def with_models(self, model_of: Callable[[M], N]) -> "RouteChoice[N]":
        """Return this choice with every model it names replaced by `model_of(model)`."""
        return RouteChoice(
            task=self.task,
            task_label=self.task_label,
            model=model_of(self.model),
            reason=self.reason,
            estimated_credits=self.estimated_credits,
            alternatives=tuple(Alternative(model_of(a.model), a.estimated_credits) for a in self.alternatives),
            comparison=None if self.comparison is None else model_of(self.comparison),
        )


def table_rule(task: Task, rules: Rules) -> tuple[str, str]:
    """Return (model slug, why) for `task`: the admin's enabled rule if there is one, else the default."""
    return rules.get(task, (ROUTES[task].model, ROUTES[task].why))


def table_slugs(rules: Rules) -> dict[Task, str]:
    """Return the model slug the table sends each task to: the admin's enabled rule, else the default."""
    return {route.task: table_rule(route.task, rules)[0] for route in TABLE}


def comparison_for(
    chosen: Candidate, *, could_answer: dict[str, Candidate], costs: dict[str, int], rules: Rules
) -> Candidate | None:
    """Return the candidate to compare a reply of `chosen` with: the dearest other table model that could answer.

    "Dearest" is by the estimate for this prompt; a model the prompt does not fit, or that is unavailable, could
    not have answered and is left out; one over the person's ceiling could have, and stays in.
    """
    candidates = set(table_slugs(rules).values())  # Auto's candidates: in practice gpt-4o-mini and claude-3-5-haiku
    rivals = [could_answer[slug] for slug in candidates & could_answer.keys() if slug != chosen.slug]
    return max(rivals, key=lambda model: (costs[model.slug], model.slug), default=None)


def typical_reply_cost(model: Candidate, route: TaskRoute, *, input_tokens: int, estimate: Estimate) -> int | None:
    """Return the estimate for `input_tokens` and the task's typical reply (capped by the model's limit) on `model`."""
    output_tokens = min(route.reply_tokens, model.max_output_tokens)
    return estimate(model.slug, input_tokens=input_tokens, output_tokens=output_tokens)


def typical_costs(
    *, catalog: Iterable[Candidate], rules: Rules, estimate: Estimate, prompt_tokens: int = TYPICAL_PROMPT_TOKENS
) -> list[tuple[TaskRoute, Candidate, int]]:
    """Return each task, the model the table sends it to, and the estimate the ceiling is checked against there.

    The estimate is for a short prompt (`prompt_tokens`, no history) and the task's typical reply; a model not
    in the catalog or with no price is left out.
    """
    slugs = table_slugs(rules)
    models = {model.slug: model for model in catalog}
    rows = []
    for route in TABLE:
        model = models.get(slugs[route.task])
        if model is None:
            continue
        cost = typical_reply_cost(model, route, input_tokens=prompt_tokens, estimate=estimate)
        if cost is not None:
            rows.append((route, model, cost))
    return rows


def choose(
    *,
    prompt: str,
    catalog: Iterable[Candidate],
    rules: Rules,
    estimate: Estimate,
    history_tokens: int = 0,
    allowed: Collection[str] | None = None,
    ceiling_credits: int | None = None,
    preferences: Preferences | None = None,
) -> RouteChoice[Candidate]:
    """Return the model Auto sends `prompt` to, why, and the next-best models that also qualify.

    `catalog` is every model, turned off or not; `allowed` restricts the choice to those model slugs
    (UnknownModel names any that is not offered); `ceiling_credits` is the most one Auto turn may cost;
    `preferences` are the person's own winners per task (my routing): a settled preference that passes the same
    rules is chosen over the table's line. When no model qualifies, raise ContextTooLong if the prompt fits none,
    else ModelUnavailable (none available, or none within the ceiling).
    """
    classification = classify(prompt)
    route = ROUTES[classification.task]
    wanted_slug, why = table_rule(classification.task, rules)

    pool = {model.slug: model for model in catalog}  # turned-off ones are skipped
    if allowed is not None:
        offered = {slug for slug, model in pool.items() if model.offered}
        unknown = sorted(set(allowed) - offered)
        if unknown:
            raise UnknownModel(f"Unknown model: {', '.join(unknown)}.")
        pool = {slug: model for slug, model in pool.items() if slug in allowed}

    input_tokens = estimate_message_tokens([prompt]) + history_tokens
    # A model with no price counts 0: it is unavailable, so the 0 only gives it its place in line.
    costs = {
        slug: typical_reply_cost(model, route, input_tokens=input_tokens, estimate=estimate) or 0
        for slug, model in pool.items()
    }
    named = [slug for slug in dict.fromkeys((wanted_slug, route.model, *route.fallbacks)) if slug in pool]
    line = named + sorted(pool.keys() - set(named), key=lambda slug: (costs[slug], slug))

    qualified, skipped = [], {}
    for slug in line:
        model = pool[slug]
        if input_tokens + model.reply_budget > model.context_window:
            skipped[slug] = (
                Skip.TOO_LONG,
                f"does not fit: about {input_tokens:,} tokens against a {model.context_window:,}-token window",
            )
        elif not model.available:
            skipped[slug] = (Skip.UNAVAILABLE, "is unavailable")
        elif ceiling_credits is not None and costs[slug] > ceiling_credits:
            skipped[slug] = (
                Skip.OVER_CEILING,
                f"would cost about {credits(costs[slug])}, over the ceiling of {credits(ceiling_credits)}",
            )
        else:
            qualified.append(model)
    if not qualified:
        raise no_route(pool, skipped, input_tokens, ceiling_credits)

    chosen = qualified[0]
    task_words = f"{route.label}: {classification.reason}."
    preference = (preferences or {}).get(classification.task)
    if preference is not None and preference.settled and preference.slug in {model.slug for model in qualified}:
        chosen = pool[preference.slug]
        qualified.remove(chosen)
        qualified.insert(0, chosen)
        # The person's own reason comes first, so clipping cuts the classifier's signals rather than it.
        task_words, choice_words = (
            f"You picked {chosen.name} as the best reply for {lowered(route.label)} "
            f"in {preference.wins} of {preference.decided} turns.",
            task_words,
        )
    elif chosen.slug == wanted_slug:
        choice_words = f"{chosen.name}: {why}."
    elif wanted_slug in skipped:
        choice_words = f"{pool[wanted_slug].name} {skipped[wanted_slug][1]}, so {chosen.name}, next in line."
    else:
        choice_words = f"{chosen.name}, the first of the allowed models in line for this task."
    return RouteChoice(
        task=classification.task,
        task_label=route.label,
        model=chosen,
        reason=clip(f"{task_words} {choice_words}"),
        estimated_credits=costs[chosen.slug],
        alternatives=tuple(Alternative(model, costs[model.slug]) for model in qualified[1 : 1 + MAX_ALTERNATIVES]),
        comparison=comparison_for(
            chosen,
            could_answer={
                slug: model
                for slug, model in pool.items()
                if slug not in skipped or skipped[slug][0] is Skip.OVER_CEILING
            },
            costs=costs,
            rules=rules,
        ),
    )


def no_route(
    pool: dict[str, Candidate], skipped: dict[str, tuple[Skip, str]], input_tokens: int, ceiling: int | None
) -> ContextTooLong | ModelUnavailable:
    """Return the error that says why no model qualified, in words a person can act on."""
    kinds = {kind for kind, _ in skipped.values()}
    if pool and kinds == {Skip.TOO_LONG}:
        largest = max(model.context_window for model in pool.values())
        return ContextTooLong(
            f"The prompt and its history (about {input_tokens:,} tokens) fit no allowed model; "
            f"the largest window is {largest:,} tokens."
        )
    if Skip.OVER_CEILING in kinds:
        return ModelUnavailable(f"No available model can answer within the ceiling of {credits(ceiling)}.")
    return ModelUnavailable("No model that can take this prompt is available right now.")


def credits(amount: int) -> str:
    """Return an amount of credits in words: "1 credit", "2,400 credits"."""
    return f"{amount:,} credit{'' if amount == 1 else 's'}"


def lowered(label: str) -> str:
    """Return a task's label to use mid-sentence: "Code review..." -> "code review...", "RAG..." unchanged."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def clip(reason: str) -> str:
    """Return `reason` cut to REASON_MAX_CHARS, ending with an ellipsis when cut."""
    return reason if len(reason) <= REASON_MAX_CHARS else reason[: REASON_MAX_CHARS - 1].rstrip() + "…"
