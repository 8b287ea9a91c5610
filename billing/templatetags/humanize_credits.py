"""Template filters for money, all by billing/formatting.py's rule: `usd` for dollars, `credits` for credits.

    {{ cost.exact_usd|usd }} -> $0.000038     {{ wallet.balance_credits|credits }} -> 12,345

`credits` also separates other whole counts (tokens, context windows) the same way.
"""

from django import template

from billing import formatting

register = template.Library()

register.filter("usd", formatting.usd)
register.filter("credits", formatting.credits)
register.filter("signed_credits", formatting.signed_credits)
