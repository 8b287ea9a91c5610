"""Template filters that show whole credits with thousands separators."""

from django import template

register = template.Library()


@register.filter
def credits(value) -> str:
    """Return 1234567 as "1,234,567"."""
    return f"{int(value):,}"


@register.filter
def signed_credits(value) -> str:
    """Return 1234 as "+1,234" and -1234 as "-1,234"."""
    return f"{int(value):+,}"
