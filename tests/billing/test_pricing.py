"""Money arithmetic at its edges: the issue's worked examples, rounding once per call, no drift."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.pricing import Rate, cents, cost_of, credits_for_usd, usd_for_credits

CREDITS_PER_USD = 2_000_000


def rate(input_price: str, output_price: str, *, cached: str | None = None, markup: str = "0", per_usd=CREDITS_PER_USD):
    return Rate(
        Decimal(input_price),
        Decimal(output_price),
        None if cached is None else Decimal(cached),
        Decimal(markup),
        per_usd,
    )


@pytest.mark.parametrize(
    ("prices", "total_usd"),
    [
        (("0.15", "0.60"), Decimal("0.255")),  # gpt-4o-mini
        (("0.25", "1.25"), Decimal("0.50")),  # claude-3-haiku
        (("0.80", "4.00"), Decimal("1.60")),  # claude-3-5-haiku
    ],
)
def test_a_thousand_calls_of_500_in_and_300_out_cost_what_the_issue_says(prices, total_usd):
    one_call = cost_of(input_tokens=500, output_tokens=300, rate=rate(*prices))
    charged = 1000 * one_call.credits
    assert usd_for_credits(charged, credits_per_usd=CREDITS_PER_USD) == total_usd
    assert 1000 * one_call.exact_usd == total_usd


def test_a_fraction_of_a_credit_is_rounded_up_once_per_call():
    # one input token of gpt-4o-mini: 0.15e-6 USD = 0.3 credits -> 1 credit, the exact value kept beside it
    one_token = cost_of(input_tokens=1, output_tokens=0, rate=rate("0.15", "0.60"))
    assert one_token.exact_credits == Decimal("0.3")
    assert one_token.credits == 1
    # 10 tokens in one call are rounded once: 3 credits, not 10 x 1
    assert cost_of(input_tokens=10, output_tokens=0, rate=rate("0.15", "0.60")).credits == 3


def test_an_exact_whole_number_of_credits_is_not_rounded_up():
    assert cost_of(input_tokens=500, output_tokens=300, rate=rate("0.15", "0.60")).credits == 510


def test_cached_input_is_charged_at_the_cached_price():
    full = cost_of(input_tokens=1000, output_tokens=0, rate=rate("0.15", "0.60", cached="0.075"))
    half_cached = cost_of(
        input_tokens=1000, cached_input_tokens=500, output_tokens=0, rate=rate("0.15", "0.60", cached="0.075")
    )
    assert (full.exact_credits, half_cached.exact_credits) == (Decimal(300), Decimal(225))


def test_cached_input_without_a_cached_price_is_charged_as_input():
    no_price = cost_of(input_tokens=1000, cached_input_tokens=1000, output_tokens=0, rate=rate("0.15", "0.60"))
    assert no_price.credits == 300


def test_markup_is_applied_before_the_single_rounding():
    marked = cost_of(input_tokens=500, output_tokens=300, rate=rate("0.15", "0.60", markup="10"))
    assert marked.exact_credits == Decimal(561)
    assert cost_of(input_tokens=1, output_tokens=0, rate=rate("0.15", "0.60", markup="10")).credits == 1


@pytest.mark.parametrize(("input_tokens", "output_tokens", "cached"), [(-1, 0, 0), (0, -1, 0), (10, 0, 11)])
def test_impossible_token_counts_are_refused(input_tokens, output_tokens, cached):
    with pytest.raises(ValueError, match="token counts"):
        cost_of(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached,
            rate=rate("0.15", "0.60"),
        )


def test_usd_converts_to_whole_credits_at_the_given_rate():
    assert credits_for_usd(Decimal("1.00"), credits_per_usd=CREDITS_PER_USD) == 2_000_000
    assert credits_for_usd(Decimal("12.34"), credits_per_usd=CREDITS_PER_USD) == 24_680_000
    assert credits_for_usd(Decimal("0.01"), credits_per_usd=150) == 1  # 1.5 credits: the fraction is not sold


def test_cents_refuse_fractions_of_a_cent():
    assert cents(Decimal("5.10")) == 510
    with pytest.raises(ValueError, match="whole number of cents"):
        cents(Decimal("1.005"))


prices = st.decimals(min_value=0, max_value=100, places=6)
tokens = st.integers(min_value=0, max_value=2_000_000)


@given(input_price=prices, output_price=prices, input_tokens=tokens, output_tokens=tokens)
def test_the_charge_is_the_exact_cost_rounded_up_by_less_than_one_credit(
    input_price, output_price, input_tokens, output_tokens
):
    cost = cost_of(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        rate=Rate(input_price, output_price, None, Decimal(0), CREDITS_PER_USD),
    )
    assert isinstance(cost.credits, int)
    assert cost.exact_credits <= cost.credits < cost.exact_credits + 1


@given(input_tokens=tokens, output_tokens=tokens, extra_output=st.integers(min_value=0, max_value=10_000))
def test_more_output_never_costs_less(input_tokens, output_tokens, extra_output):
    model = rate("0.80", "4.00")
    smaller = cost_of(input_tokens=input_tokens, output_tokens=output_tokens, rate=model)
    larger = cost_of(input_tokens=input_tokens, output_tokens=output_tokens + extra_output, rate=model)
    assert larger.credits >= smaller.credits


@pytest.mark.parametrize(
    ("amount", "text"),
    [("0.255", "0.255"), ("0.5", "0.50"), ("1.600000", "1.60"), ("0.000255", "0.000255"), ("12", "12.00")],
)
def test_usd_strings_are_exact_with_at_least_cents(amount, text):
    from billing.pricing import usd_string

    assert usd_string(Decimal(amount)) == text
