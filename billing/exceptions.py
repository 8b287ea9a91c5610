"""Errors of the billing app; each carries a stable code and a sentence a person can act on."""

from errors import PanelsError


class BillingError(PanelsError):
    """Base of every billing error."""

    code = "billing_error"


class InsufficientCredits(BillingError):
    """The wallet's available credits do not cover what a call might cost."""

    code = "insufficient_credits"

    def __init__(self, *, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(
            f"This needs up to {needed:,} credits but your wallet has {available:,} available. "
            f"Top up at least {needed - available:,} credits, or choose fewer or cheaper models."
        )


class WalletRestricted(BillingError):
    """The wallet may not start new calls (an open dispute or an unpaid balance)."""

    code = "wallet_restricted"


class PriceMissing(BillingError):
    """A model has no price in effect, so its cost cannot be bounded: it may not be called."""

    code = "price_missing"


class InvalidTopUp(BillingError):
    """A top-up amount or pack that cannot be bought."""

    code = "invalid_top_up"


class PaymentProviderError(BillingError):
    """Stripe could not be reached or refused a request; nothing was charged."""

    code = "payments_unavailable"

    def __init__(self, detail: str = "Payments are unavailable right now; nothing was charged."):
        super().__init__(detail)


class PaymentsNotConfigured(PaymentProviderError):
    """No Stripe key is configured, so the server cannot take payments."""

    code = "payments_not_configured"

    def __init__(self, detail: str = "Payments are not set up on this server yet; nothing was charged."):
        super().__init__(detail)


class InvalidWebhook(BillingError):
    """A webhook request that is not a correctly signed, recent Stripe event; it is refused unread."""

    code = "invalid_webhook"


class InvalidApiKey(BillingError):
    """No API key was sent, or the one sent is not a key of Panels (or was revoked)."""

    code = "invalid_api_key"


class KeySpendLimitReached(BillingError):
    """The API key's daily or total spend limit does not cover what a call might cost."""

    code = "key_spend_limit"
