"""Template filters that show whole credits with thousands separators, and exact dollars."""

from decimal import Decimal

from django import template

from billing.pricing import usd_string

register = template.Library()


@register.filter
def credits(value) -> str:
    """Return 1234567 as "1,234,567"."""
    return f"{int(value):,}"


@register.filter
def signed_credits(value) -> str:
    """Return 1234 as "+1,234" and -1234 as "-1,234"."""
    return f"{int(value):+,}"


@register.filter
def usd(value: Decimal) -> str:
    """Return Decimal("0.000605") as "0.000605" and Decimal("1.5") as "1.50": exact, never rounded."""
    return usd_string(value)
