"""Auto: load the routing table, the candidates and their prices, and ask the pure router (chat/router/).

The router owns the rules and reads only what it is given; this module owns what it is given: the admin's
enabled `RouteRule` rows, every catalog model as a `Candidate` (window, reply budget, whether it may be named
and called now) and an estimate at each model's current rate. It maps the router's choice back to catalog models.
"""

from collections.abc import Collection

from billing.models import BillingSettings
from billing.rates import current_cost
from catalog.models import AIModel
from catalog.selectors import catalog_models
from chat.budget import max_output_tokens_for
from chat.models import RouteRule
from chat.providers.registry import availability
from chat.router.preferences import Preferences
from chat.router.table import (
    TYPICAL_PROMPT_TOKENS,
    Candidate,
    Estimate,
    RouteChoice,
    Rules,
    TaskRoute,
    choose,
    typical_costs,
)


def route_rules() -> Rules:
    """Return the admin's enabled rules: task -> (model slug, why)."""
    rules = RouteRule.objects.filter(enabled=True).select_related("model")
    return {rule.task: (rule.model.slug, rule.reason) for rule in rules}


def candidate(model: AIModel) -> Candidate:
    """Return `model` as the router sees it."""
    return Candidate(
        slug=model.slug,
        name=model.name,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        reply_budget=max_output_tokens_for(model),
        offered=model.enabled and model.provider.enabled,
        available=availability(model).available,
    )


def estimate_at_current_rates(models: dict[str, AIModel]) -> Estimate:
    """Return what a call on one of `models` would cost now, in credits (None while the model has no price)."""
    billing = BillingSettings.load()

    def estimate(slug: str, *, input_tokens: int, output_tokens: int) -> int | None:
        cost = current_cost(models[slug], input_tokens=input_tokens, output_tokens=output_tokens, billing=billing)
        return None if cost is None else cost.credits

    return estimate


def choose_model(
    *,
    prompt: str,
    history_tokens: int = 0,
    candidates: Collection[str] | None = None,
    ceiling_credits: int | None = None,
    preferences: Preferences | None = None,
) -> RouteChoice[AIModel]:
    """Return the model Auto sends `prompt` to, why, and the next-best models that also qualify.

    `candidates` restricts the choice to those model slugs (UnknownModel names any that is not an enabled
    catalog model); `ceiling_credits` is the most one Auto turn may cost; `preferences` are the person's own
    winners per task when they opted in to my routing (chat.selectors.my_routing_for). When no model qualifies, raise
    ContextTooLong if the prompt fits none, else ModelUnavailable (none available, or none within the ceiling).
    """
    models = {model.slug: model for model in catalog_models(include_disabled=True)}  # turned-off ones are skipped
    choice = choose(
        prompt=prompt,
        catalog=[candidate(model) for model in models.values()],
        rules=route_rules(),
        estimate=estimate_at_current_rates(models),
        history_tokens=history_tokens,
        allowed=candidates,
        ceiling_credits=ceiling_credits,
        preferences=preferences,
    )
    return choice.with_models(lambda chosen: models[chosen.slug])


def typical_reply_costs(*, prompt_tokens: int = TYPICAL_PROMPT_TOKENS) -> list[tuple[TaskRoute, AIModel, int]]:
    """Return each task, the model the table sends it to, and the estimate the ceiling is checked against there.

    The estimate is for a short prompt (`prompt_tokens`, no history) and the task's typical reply; a model not
    in the catalog or with no price is left out.
    """
    models = {model.slug: model for model in catalog_models(include_disabled=True)}
    rows = typical_costs(
        catalog=[candidate(model) for model in models.values()],
        rules=route_rules(),
        estimate=estimate_at_current_rates(models),
        prompt_tokens=prompt_tokens,
    )
    return [(route, models[model.slug], cost) for route, model, cost in rows]
