"""How money reads to people: one rule for dollars and one for credits, on every page, in the admin and the browser.

Dollars: at least two decimals, and as many more as it takes to show two significant digits, rounded half
up (away from zero); thousands separated by commas; the sign before the dollar sign.

    $1,234.50   $2.50   $0.50   $0.097 (0.0966185)   $0.000038 (0.0000375)   $0.00   -$1.50

So from ten cents up an amount shows whole cents, and below ten cents its first two digits, never "$0.00"
for something that costs anything. static/js/format.js applies the same rule in the browser.

Credits: whole numbers with thousands separators: 12,345.

Only for reading: amounts are computed and stored exactly (billing/pricing.py), and exports (CSV, JSON)
keep every digit.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT_PLACES = 2
SIGNIFICANT_DIGITS = 2


def exact(amount: Decimal | int | str) -> Decimal:
    """Return `amount` as a Decimal; refuse a float, which has already lost the exact amount."""
    if isinstance(amount, float):
        raise TypeError(f"Money is never a float ({amount!r}): pass a Decimal, an int or a decimal string.")
    return Decimal(amount)


def decimal_places(amount: Decimal) -> int:
    """Return how many decimals `amount` is shown with: cents, or more for two significant digits."""
    if amount == 0:
        return CENT_PLACES
    return max(CENT_PLACES, SIGNIFICANT_DIGITS - 1 - amount.adjusted())


def rounded_usd(amount: Decimal | int | str) -> Decimal:
    """Return `amount` rounded the way it is shown: Decimal("0.0966185") -> Decimal("0.097")."""
    value = exact(amount)
    rounded = value.quantize(Decimal(1).scaleb(-decimal_places(value)), rounding=ROUND_HALF_UP)
    # Rounding up can reach the next power of ten (0.0996 -> 0.100), which needs fewer decimals; dropping
    # the extra zero is exact.
    return rounded.quantize(Decimal(1).scaleb(-decimal_places(rounded)))


def usd(amount: Decimal | int | str) -> str:
    """Return `amount` in dollars as people read it: "$1,234.50", "$0.097", "$0.000038", "-$2.00"."""
    rounded = rounded_usd(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,f}"


def whole(amount: Decimal | int) -> int:
    """Return `amount` as an int; refuse a fraction rather than drop it silently."""
    if isinstance(amount, float) or amount != int(amount):
        raise ValueError(f"{amount!r} is not a whole number of credits")
    return int(amount)


def credits(amount: Decimal | int) -> str:
    """Return whole credits with thousands separators: 1234567 -> "1,234,567"."""
    return f"{whole(amount):,}"


def signed_credits(amount: Decimal | int) -> str:
    """Return a change in credits with its sign: 1234 -> "+1,234", -1234 -> "-1,234"."""
    return f"{whole(amount):+,}"
