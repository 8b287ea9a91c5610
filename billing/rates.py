"""What a call costs now: the price in effect, its markup (or the global one) and the exchange rate, as a Rate.

Reads only; the arithmetic itself is billing/pricing.py's, pure and exact. A hold captures its rate when it is
placed, so a price changed while a reply streams does not apply to that reply.
"""

from billing.models import BillingSettings, Hold, Price
from billing.pricing import Cost, Rate, cost_of
from catalog.models import AIModel


def rate_for(price: Price, billing: BillingSettings) -> Rate:
    """Return the rate a call is charged at now: the price, its markup (or the global one), the exchange rate."""
    markup = price.markup_percent if price.markup_percent is not None else billing.markup_percent
    return Rate(
        input_usd_per_m=price.input_usd_per_m,
        output_usd_per_m=price.output_usd_per_m,
        cached_input_usd_per_m=price.cached_input_usd_per_m,
        markup_percent=markup,
        credits_per_usd=billing.credits_per_usd,
    )


def current_rate(model: AIModel, billing: BillingSettings | None = None) -> Rate | None:
    """Return the rate a call on `model` would be charged at now, or None while the model has no price."""
    price = model.current_price()
    return None if price is None else rate_for(price, billing or BillingSettings.load())


def hold_rate(hold: Hold) -> Rate:
    """Return the rate captured on a hold (price changes after it was placed do not apply)."""
    return Rate(
        input_usd_per_m=hold.price.input_usd_per_m,
        output_usd_per_m=hold.price.output_usd_per_m,
        cached_input_usd_per_m=hold.price.cached_input_usd_per_m,
        markup_percent=hold.markup_percent,
        credits_per_usd=hold.credits_per_usd,
    )


def current_cost(
    model: AIModel,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    billing: BillingSettings | None = None,
) -> Cost | None:
    """Return what a call of this size on `model` would cost now, or None while the model has no price."""
    rate = current_rate(model, billing)
    if rate is None:
        return None
    return cost_of(
        input_tokens=input_tokens, output_tokens=output_tokens, cached_input_tokens=cached_input_tokens, rate=rate
    )
