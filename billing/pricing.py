"""Pure money arithmetic: tokens x prices -> credits, exact Decimals rounded up once per call.

No database here, so every rounding edge is tested directly (tests/billing/test_pricing.py).
Prices are USD per one million tokens; the wallet counts whole credits.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

MILLION = Decimal(1_000_000)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rate:
    """What one call is charged at: a model's prices plus markup, and the credits per USD at that moment."""

    input_usd_per_m: Decimal
    output_usd_per_m: Decimal
    cached_input_usd_per_m: Decimal | None
    markup_percent: Decimal
    credits_per_usd: int


@dataclass(frozen=True)
class Cost:
    exact_usd: Decimal  # before rounding, markup included
    exact_credits: Decimal  # before rounding
    credits: int  # what is charged: exact_credits rounded up once


def cost_of(*, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0, rate: Rate) -> Cost:
    """Return the cost of one call; `cached_input_tokens` is the part of `input_tokens` read from cache."""
    if min(input_tokens, output_tokens, cached_input_tokens) < 0 or cached_input_tokens > input_tokens:
        raise ValueError("token counts must be non-negative, and cached input a part of input")
    cached_price = rate.input_usd_per_m if rate.cached_input_usd_per_m is None else rate.cached_input_usd_per_m
    base_usd = (
        (input_tokens - cached_input_tokens) * rate.input_usd_per_m
        + cached_input_tokens * cached_price
        + output_tokens * rate.output_usd_per_m
    ) / MILLION
    exact_usd = base_usd * (HUNDRED + rate.markup_percent) / HUNDRED
    exact_credits = exact_usd * rate.credits_per_usd
    return Cost(exact_usd, exact_credits, int(exact_credits.to_integral_value(rounding=ROUND_CEILING)))


def per_million(rate: Rate) -> tuple[Cost, Cost]:
    """Return what a million input tokens and a million output tokens cost at `rate`: the prices people see."""
    return cost_of(input_tokens=int(MILLION), output_tokens=0, rate=rate), cost_of(
        input_tokens=0, output_tokens=int(MILLION), rate=rate
    )


def credits_for_usd(amount_usd: Decimal, *, credits_per_usd: int) -> int:
    """Return the whole credits bought with `amount_usd` (a fraction of a credit is never sold)."""
    return int((amount_usd * credits_per_usd).to_integral_value(rounding=ROUND_FLOOR))


def usd_for_credits(credits: int, *, credits_per_usd: int) -> Decimal:
    """Return the exact USD value of `credits` at the given rate."""
    return Decimal(credits) / Decimal(credits_per_usd)


def cents(amount_usd: Decimal) -> int:
    """Return `amount_usd` in whole cents; refuse fractions of a cent rather than round money silently."""
    value = amount_usd * HUNDRED
    if value != value.to_integral_value():
        raise ValueError(f"{amount_usd} is not a whole number of cents")
    return int(value)


def usd_string(amount: Decimal) -> str:
    """Return dollars as a plain decimal string with at least two decimals and no trailing zeros past them.

    "0.255", "0.50", "1.60", "0.000255": exact, never rounded, for the API and exports; pages show amounts
    by billing/formatting.py's rule.
    """
    whole, _, fraction = f"{amount:f}".partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction.ljust(2, '0')}"
