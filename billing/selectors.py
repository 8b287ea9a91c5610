"""Read paths of billing: a person's wallet, ledger and spending (always scoped to them), and what is on offer."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter

from allauth.account.models import EmailAddress
from django.db.models import Count, QuerySet, Sum

from billing.models import BillingSettings, CreditPack, Hold, LedgerEntry, Wallet
from billing.pricing import usd_for_credits


@dataclass(frozen=True)
class ModelSpending:
    """What a person was charged on one model in a period."""

    slug: str
    name: str
    replies: int  # replies charged (one usage entry each)
    input_tokens: int
    output_tokens: int
    credits: int
    usd: Decimal  # exact: each charge's credits at the exchange rate its hold captured


@dataclass(frozen=True)
class KeySpending:
    """What a person was charged through one API key in a period, or in the chat (no key: `key_id` None)."""

    key_id: int | None
    name: str  # the key's name; "" for the chat
    prefix: str  # the key's first characters; "" for the chat
    revoked: bool
    calls: int  # charges (one usage entry per call or reply)
    input_tokens: int
    output_tokens: int
    credits: int
    usd: Decimal  # exact: each charge's credits at the exchange rate its hold captured


def wallet_of(user) -> Wallet:
    """Return the user's wallet (an empty, unsaved one if they never had any)."""
    return Wallet.objects.filter(user=user).first() or Wallet(user=user)


def balance_and_held_of(user_id: int) -> tuple[int, int]:
    """Return the user's balance and held credits, (0, 0) before their wallet exists."""
    wallet = Wallet.objects.filter(user_id=user_id).values_list("balance_credits", "held_credits").first()
    return wallet or (0, 0)


def auto_ceiling_for(user) -> int | None:
    """Return the most one Auto reply may cost the user, in credits (None: no ceiling)."""
    return Wallet.objects.filter(user=user).values_list("auto_ceiling_credits", flat=True).first()


def ledger_for(user) -> QuerySet[LedgerEntry]:
    """Return the user's ledger entries, newest first, with what caused them."""
    return (
        LedgerEntry.objects.filter(wallet__user=user)
        .select_related("hold__model", "price", "topup")
        .order_by("-created_at", "-id")
    )


def signup_credits_awaiting_verification_for(user) -> int:
    """Return the free credits verifying an email address would still add to the user's wallet (0: none)."""
    credits = BillingSettings.load().signup_grant_credits
    if not credits or EmailAddress.objects.filter(user=user, verified=True).exists():
        return 0
    granted = LedgerEntry.objects.filter(wallet__user=user, kind=LedgerEntry.Kind.SIGNUP_GRANT).exists()
    return 0 if granted else credits


def usage_for(user) -> QuerySet[LedgerEntry]:
    """Return the user's usage charges, oldest first (the order of a statement)."""
    return ledger_for(user).filter(kind=LedgerEntry.Kind.USAGE).order_by("created_at", "id")


def pending_holds_for(user) -> QuerySet[Hold]:
    """Return the credits the user's calls in flight have reserved."""
    return Hold.objects.filter(wallet__user=user, status=Hold.Status.PENDING).select_related("model")


@dataclass(frozen=True)
class _Charged:
    """The sums of a group of usage charges that may span exchange rates."""

    count: int
    input_tokens: int
    output_tokens: int
    credits: int
    usd: Decimal


def _charged(by_rate: list[dict]) -> _Charged:
    """Return the sums of groups of usage entries, one per exchange rate (`hold__credits_per_usd`), USD exact."""
    return _Charged(
        count=sum(group["count"] for group in by_rate),
        input_tokens=sum(group["input_tokens"] for group in by_rate),
        output_tokens=sum(group["output_tokens"] for group in by_rate),
        credits=-sum(group["charged"] for group in by_rate),
        usd=sum(
            (usd_for_credits(-group["charged"], credits_per_usd=group["hold__credits_per_usd"]) for group in by_rate),
            Decimal(0),
        ),
    )


def _usage_charges_for(user, since: datetime | None) -> QuerySet[LedgerEntry]:
    charges = LedgerEntry.objects.filter(wallet__user=user, kind=LedgerEntry.Kind.USAGE)
    return charges if since is None else charges.filter(created_at__gte=since)


# What each group of usage charges sums, one group per exchange rate (`_charged` adds the groups up).
USAGE_SUMS = {
    "count": Count("id"),
    "input_tokens": Sum("input_tokens"),
    "output_tokens": Sum("output_tokens"),
    "charged": Sum("amount_credits"),
}


def spending_by_model_for(user, *, since: datetime | None = None) -> list[ModelSpending]:
    """Return the user's usage charges since `since` (None: ever) per model, most credits first.

    Summed in the database per model and exchange rate, so each group's USD is exact at the rate its holds
    captured and a change of rate in the period does not blur it.
    """
    groups = (
        _usage_charges_for(user, since)
        .values("hold__model__slug", "hold__model__name", "hold__credits_per_usd")
        .annotate(**USAGE_SUMS)
        .order_by("hold__model__slug", "hold__credits_per_usd")
    )
    rows = []
    for slug, by_rate in groupby(groups, key=itemgetter("hold__model__slug")):
        by_rate = list(by_rate)
        charged = _charged(by_rate)
        rows.append(
            ModelSpending(
                slug=slug,
                name=by_rate[0]["hold__model__name"],
                replies=charged.count,
                input_tokens=charged.input_tokens,
                output_tokens=charged.output_tokens,
                credits=charged.credits,
                usd=charged.usd,
            )
        )
    return sorted(rows, key=lambda row: (-row.credits, row.slug))


def spending_by_key_for(user, *, since: datetime | None = None) -> list[KeySpending]:
    """Return the user's usage charges since `since` (None: ever) per API key, the chat's as one row with no key.

    Most credits first. Summed in the database per key and exchange rate, so each row's USD is exact (as in
    `spending_by_model_for`); a revoked key's charges count like any other's.
    """
    groups = (
        _usage_charges_for(user, since)
        .values("api_key", "api_key__name", "api_key__prefix", "api_key__revoked_at", "hold__credits_per_usd")
        .annotate(**USAGE_SUMS)
        .order_by("api_key", "hold__credits_per_usd")
    )
    rows = []
    for key_id, by_rate in groupby(groups, key=itemgetter("api_key")):
        by_rate = list(by_rate)
        charged = _charged(by_rate)
        rows.append(
            KeySpending(
                key_id=key_id,
                name=by_rate[0]["api_key__name"] or "",
                prefix=by_rate[0]["api_key__prefix"] or "",
                revoked=by_rate[0]["api_key__revoked_at"] is not None,
                calls=charged.count,
                input_tokens=charged.input_tokens,
                output_tokens=charged.output_tokens,
                credits=charged.credits,
                usd=charged.usd,
            )
        )
    return sorted(rows, key=lambda row: (-row.credits, row.name, row.key_id or 0))


def hold_minutes() -> int:
    """Return how long a hold lasts, without writing anything (the default while no settings row exists).

    Background sweeps read it every few seconds; they must not create the settings row as `load()` does.
    """
    minutes = BillingSettings.objects.filter(pk=1).values_list("hold_minutes", flat=True).first()
    return minutes if minutes is not None else BillingSettings._meta.get_field("hold_minutes").default


def credit_packs_offered() -> QuerySet[CreditPack]:
    """Return the credit packs people may buy now, in the order the wallet page shows them."""
    return CreditPack.objects.filter(active=True)


def credits_held_for(references: list[str]) -> int:
    """Return the credits the holds with these references reserve (all of them, whatever their status now)."""
    return sum(Hold.objects.filter(reference__in=references).values_list("amount_credits", flat=True))


def hold_named(reference: str) -> Hold | None:
    """Return the hold placed under `reference` (see `HoldRequest.reference`), or None if there is none.

    Its price, model and API key come with it, in the same query: settling it reads them.
    """
    return Hold.objects.filter(reference=reference).select_related("price", "model", "api_key").first()
