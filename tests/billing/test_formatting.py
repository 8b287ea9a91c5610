"""The one way money reads: dollars to cents or two significant digits, credits whole with separators.

The browser's formatter (static/js/format.js) is checked against the same table in tests/browser.
"""

from decimal import Decimal

import pytest
from django.template import Context, Template

from billing.formatting import credits, rounded_usd, signed_credits, usd

# (amount, as shown): the issue's own examples first, then the edges of the rule.
SHOWN_AMOUNTS = [
    ("0.0000375", "$0.000038"),  # a short reply: two significant digits, half up
    ("0.0966185", "$0.097"),  # below ten cents: two significant digits
    ("0.200000", "$0.20"),  # trailing zeros of a DecimalField: cents
    ("4", "$4.00"),
    ("2.5", "$2.50"),
    ("0", "$0.00"),
    ("0E-10", "$0.00"),
    ("-0", "$0.00"),
    ("0.075", "$0.075"),  # a cached-input price keeps its third decimal
    ("0.15", "$0.15"),
    ("0.165", "$0.17"),  # from ten cents up: whole cents, half up
    ("0.004195", "$0.0042"),
    ("0.005", "$0.0050"),  # two significant digits even when the second is a zero
    ("0.0996", "$0.10"),  # rounds up to ten cents: shown as cents, not "$0.100"
    ("0.00996", "$0.010"),
    ("0.996", "$1.00"),
    ("9.995", "$10.00"),
    ("1234.5", "$1,234.50"),
    ("123456789.125", "$123,456,789.13"),
    ("0.00003750000000000000000", "$0.000038"),  # a Decimal division's many places
    ("0.0000000001", "$0.00000000010"),
    ("-1.5", "-$1.50"),  # a refund: the sign before the dollar sign
    ("-0.0000375", "-$0.000038"),
]


@pytest.mark.parametrize(("amount", "shown"), SHOWN_AMOUNTS)
def test_dollars_show_cents_or_two_significant_digits(amount, shown):
    assert usd(Decimal(amount)) == shown
    assert usd(amount) == shown  # the API's exact strings read the same


def test_whole_dollars_and_integers_read_as_cents():
    assert (usd(0), usd(12), usd(-3)) == ("$0.00", "$12.00", "-$3.00")


def test_the_rounded_amount_is_exact_and_what_is_shown():
    assert rounded_usd(Decimal("0.0966185")) == Decimal("0.097")
    assert str(rounded_usd(Decimal("0.0996"))) == "0.10"


def test_a_float_is_refused_because_it_is_no_longer_the_exact_amount():
    with pytest.raises(TypeError):
        usd(0.1)


@pytest.mark.parametrize(
    ("amount", "shown", "signed"),
    [(0, "0", "+0"), (7, "7", "+7"), (12_345, "12,345", "+12,345"), (-1_234_567, "-1,234,567", "-1,234,567")],
)
def test_credits_are_whole_with_thousands_separators(amount, shown, signed):
    assert (credits(amount), signed_credits(amount)) == (shown, signed)
    assert credits(Decimal(amount)) == shown


def test_a_fraction_of_a_credit_is_refused_rather_than_dropped():
    with pytest.raises(ValueError):
        credits(Decimal("12.5"))


def test_the_template_filters_apply_the_same_rule():
    template = Template(
        "{% load humanize_credits %}{{ cost|usd }} · {{ balance|credits }} · {{ change|signed_credits }}"
    )
    rendered = template.render(Context({"cost": Decimal("0.0000375"), "balance": 12_345, "change": -90}))
    assert rendered == "$0.000038 · 12,345 · -90"
