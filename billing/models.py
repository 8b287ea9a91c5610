"""Money records: prices, the billing settings, wallets, holds, the append-only ledger, top-ups and Stripe."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from billing.formatting import usd
from errors.constraints import ConstraintErrorsOnFields

USD_PER_MILLION = {"max_digits": 12, "decimal_places": 6}


class LedgerIsAppendOnly(Exception):
    """Raised on an attempt to change or delete a ledger entry."""


class Price(ConstraintErrorsOnFields, models.Model):
    """What one AI model costs, in USD per million tokens, from `effective_from` on.

    Design: prices are effective-dated history. A re-price adds a row (effective now or later); a row is
    never edited or deleted, so every charge can be explained by the price that was current when it was
    made (`AIModel.current_price(at)`: the row with the latest `effective_from` <= `at`). A future-dated
    row is a scheduled change and is not current until its time comes. The database keeps amounts
    non-negative and allows one row per model and instant, so "the current price" is never ambiguous;
    deleting a model that has prices is refused (disable it instead).
    """

    fields_by_violation_code = {
        "input_price_negative": "input_usd_per_m",
        "output_price_negative": "output_usd_per_m",
        "cached_input_price_negative": "cached_input_usd_per_m",
        "markup_negative": "markup_percent",
        "price_already_starts_then": "effective_from",
    }

    model = models.ForeignKey("catalog.AIModel", on_delete=models.PROTECT, related_name="prices")
    input_usd_per_m = models.DecimalField("input USD / 1M tokens", **USD_PER_MILLION)
    output_usd_per_m = models.DecimalField("output USD / 1M tokens", **USD_PER_MILLION)
    cached_input_usd_per_m = models.DecimalField(
        "cached input USD / 1M tokens",
        **USD_PER_MILLION,
        null=True,
        blank=True,
        help_text="Blank: the provider has no cached-input price for this model.",
    )
    markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Blank: the global markup of the billing settings applies.",
    )
    effective_from = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why the price changed, e.g. a link.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(input_usd_per_m__gte=0),
                name="price_input_not_negative",
                violation_error_code="input_price_negative",
                violation_error_message="A price cannot be negative; enter 0 for free input.",
            ),
            models.CheckConstraint(
                condition=Q(output_usd_per_m__gte=0),
                name="price_output_not_negative",
                violation_error_code="output_price_negative",
                violation_error_message="A price cannot be negative; enter 0 for free output.",
            ),
            models.CheckConstraint(
                condition=Q(cached_input_usd_per_m__isnull=True) | Q(cached_input_usd_per_m__gte=0),
                name="price_cached_input_not_negative",
                violation_error_code="cached_input_price_negative",
                violation_error_message="A price cannot be negative; leave it blank if there is no cached price.",
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__isnull=True) | Q(markup_percent__gte=0),
                name="price_markup_not_negative",
                violation_error_code="markup_negative",
                violation_error_message="A markup cannot be negative; leave it blank for the global markup.",
            ),
            models.UniqueConstraint(
                fields=["model", "effective_from"],
                name="price_one_per_model_and_instant",
                violation_error_code="price_already_starts_then",
                violation_error_message="This model already has a price starting at that time; choose another.",
            ),
        ]

    def __str__(self):
        return f"{self.model} from {self.effective_from:%Y-%m-%d %H:%M}"


class BillingSettings(ConstraintErrorsOnFields, models.Model):
    """The admin's money knobs, one row: exchange rate, global markup, signup grant, top-up bounds.

    Balances are whole credits, so changing the exchange rate never changes a balance already held; it
    changes how many credits the next top-up buys and what the next call costs in credits.
    """

    # The top-up bounds are one rule about two fields, so their violation stays above the form.
    fields_by_violation_code = {"rate_not_positive": "credits_per_usd", "markup_negative": "markup_percent"}

    credits_per_usd = models.PositiveBigIntegerField(default=2_000_000, help_text="Credits one US dollar buys.")
    markup_percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal(0),
        help_text="Added to every model's price unless the model's price sets its own markup.",
    )
    signup_grant_credits = models.PositiveBigIntegerField(
        default=200_000,
        help_text="Free credits for a new account, given once its email address is verified. 0: none.",
    )
    min_topup_usd = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    max_topup_usd = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("500.00"))
    hold_minutes = models.PositiveIntegerField(
        default=15, help_text="A hold not settled within this time is released by the sweeper."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "billing settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(pk=1),
                name="billing_settings_single_row",
                violation_error_code="second_settings_row",
                violation_error_message="There is one row of billing settings; change it instead of adding one.",
            ),
            models.CheckConstraint(
                condition=Q(credits_per_usd__gt=0),
                name="billing_settings_rate_positive",
                violation_error_code="rate_not_positive",
                violation_error_message="One US dollar must buy at least 1 credit.",
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0),
                name="billing_settings_markup_not_negative",
                violation_error_code="markup_negative",
                violation_error_message="The markup cannot be negative; enter 0 for none.",
            ),
            models.CheckConstraint(
                condition=Q(min_topup_usd__gte=Decimal("0.50")) & Q(max_topup_usd__gte=F("min_topup_usd")),
                name="billing_settings_topup_bounds",
                violation_error_code="topup_bounds",
                violation_error_message="The smallest top-up must be at least $0.50 (Stripe's minimum charge), "
                "and the largest at least the smallest.",
            ),
        ]

    def __str__(self):
        return "Billing settings"

    @classmethod
    def load(cls) -> "BillingSettings":
        """Return the one settings row, created with the defaults on first use."""
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class Wallet(models.Model):
    """A person's prepaid credits. `balance` is posted money; `held` is reserved by calls in flight.

    Invariants kept by the database: held >= 0, balance >= held (so available = balance - held is never
    negative and no interleaving of calls can overdraw), debt >= 0. `balance` always equals the sum of the
    wallet's ledger entries and `debt` the sum of their `debt_change` (`manage.py verify_ledger` checks).
    Debt arises only when a refund or lost dispute takes back more than is left; the wallet is then
    restricted, and the next top-up pays the debt first.
    """

    class Restriction(models.TextChoices):
        NONE = "", "Active"
        DISPUTE = "dispute", "A payment is disputed"
        DEBT = "debt", "Credits are owed"
        ADMIN = "admin", "Suspended by an admin"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet")
    balance_credits = models.BigIntegerField(default=0)
    held_credits = models.BigIntegerField(default=0)
    debt_credits = models.BigIntegerField(default=0)
    restriction = models.CharField(max_length=20, choices=Restriction.choices, blank=True, default="")
    auto_ceiling_credits = models.PositiveBigIntegerField(
        "Auto price ceiling",
        null=True,
        blank=True,
        help_text="The most one Auto reply may cost, in credits (by the router's estimate). Blank: no ceiling.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(held_credits__gte=0), name="wallet_held_not_negative"),
            models.CheckConstraint(condition=Q(balance_credits__gte=F("held_credits")), name="wallet_covers_holds"),
            models.CheckConstraint(condition=Q(debt_credits__gte=0), name="wallet_debt_not_negative"),
        ]

    def __str__(self):
        return f"Wallet of {self.user}"

    @property
    def available_credits(self) -> int:
        return self.balance_credits - self.held_credits


class CreditPack(ConstraintErrorsOnFields, models.Model):
    """A top-up amount offered as one click (the custom amount is always offered too)."""

    fields_by_violation_code = {"pack_amount_not_positive": "amount_usd"}

    name = models.CharField(max_length=50)
    amount_usd = models.DecimalField(max_digits=8, decimal_places=2)
    active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "amount_usd"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_usd__gt=0),
                name="credit_pack_amount_positive",
                violation_error_code="pack_amount_not_positive",
                violation_error_message="A pack must cost more than $0.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({usd(self.amount_usd)})"


class ApiKey(models.Model):
    """A secret that lets a program spend its owner's wallet through the API, within the limits set on it.

    Only a digest of the secret is kept (the secret is shown once, at creation); `prefix` is its first
    characters, to tell keys apart. A key is never deleted, only revoked: the ledger names the key of each
    charge. The spend counters are kept by the same statements that hold and settle (billing/services.py),
    so concurrent calls cannot take a key past its limits: admission is one conditional UPDATE of this row.
    `spent_today_credits` counts the charges of the UTC day `spent_on`; a day without charges reads as 0.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=20, help_text="The first characters of the secret, to tell keys apart.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret, in hex.")
    allowed_models = models.JSONField(
        default=list, blank=True, help_text="Model slugs this key may call (and Auto chooses among); empty: all."
    )
    daily_limit_credits = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The most the key may spend in a UTC day. Blank: no daily limit."
    )
    total_limit_credits = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The most the key may ever spend. Blank: no limit."
    )
    held_credits = models.BigIntegerField(default=0, help_text="Reserved by the key's calls in flight.")
    spent_credits = models.BigIntegerField(default=0, help_text="Charged to the key, ever.")
    spent_on = models.DateField(null=True, blank=True, help_text="The UTC day `spent_today_credits` counts.")
    spent_today_credits = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(held_credits__gte=0), name="api_key_held_not_negative"),
            models.CheckConstraint(condition=Q(spent_credits__gte=0), name="api_key_spent_not_negative"),
            models.CheckConstraint(condition=Q(spent_today_credits__gte=0), name="api_key_spent_today_not_negative"),
            models.CheckConstraint(
                condition=Q(daily_limit_credits__isnull=True) | Q(daily_limit_credits__gt=0),
                name="api_key_daily_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(total_limit_credits__isnull=True) | Q(total_limit_credits__gt=0),
                name="api_key_total_limit_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def spent_today(self) -> int:
        """Return what the key was charged on the current UTC day (its counter names an earlier day: 0)."""
        return self.spent_today_credits if self.spent_on == timezone.now().date() else 0


class Hold(models.Model):
    """Credits reserved for one model call before it starts, resolved once when it ends.

    The price, markup and exchange rate are captured here, so a price change mid-stream does not change
    what this call is charged. `reference` names the call (e.g. `message:42`) and makes a hold idempotent.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SETTLED = "settled"
        RELEASED = "released"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="holds", help_text="The key that spends."
    )
    reference = models.CharField(max_length=100, unique=True)
    model = models.ForeignKey("catalog.AIModel", on_delete=models.PROTECT, related_name="+")
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="+")
    markup_percent = models.DecimalField(max_digits=6, decimal_places=2)
    credits_per_usd = models.PositiveBigIntegerField()
    estimated_input_tokens = models.PositiveIntegerField()
    max_output_tokens = models.PositiveIntegerField()
    amount_credits = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    charged_credits = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="pending"), name="hold_pending_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_credits__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(charged_credits__isnull=True)
                | (Q(charged_credits__gte=0) & Q(charged_credits__lte=F("amount_credits"))),
                name="hold_charge_within_amount",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(resolved_at__isnull=True))
                | (~Q(status="pending") & Q(resolved_at__isnull=False)),
                name="hold_resolved_iff_not_pending",
            ),
        ]

    def __str__(self):
        return f"Hold {self.reference} ({self.amount_credits} credits, {self.status})"


class TopUp(models.Model):
    """One purchase of credits through Stripe Checkout; its id is the session's `client_reference_id`."""

    class Status(models.TextChoices):
        CREATED = "created"
        AWAITING_PAYMENT = "awaiting_payment"
        PAID = "paid"
        FAILED = "failed"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="topups")
    pack = models.ForeignKey(CreditPack, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    amount_cents = models.PositiveIntegerField()
    credits = models.BigIntegerField(help_text="Credits bought, fixed at the exchange rate when the top-up began.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    refunded_cents = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="topup_amount_positive"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="topup_credits_positive"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("amount_cents")), name="topup_refund_within_amount"
            ),
        ]

    def __str__(self):
        return f"Top-up {self.id} ({usd(self.amount_usd)}, {self.status})"

    @property
    def amount_usd(self) -> Decimal:
        return Decimal(self.amount_cents) / 100


class LedgerEntry(models.Model):
    """One change of a wallet's balance (or debt): append-only, never edited or deleted.

    `idempotency_key` is derived from the cause (`topup:<checkout session>`, `usage:<hold reference>`,
    `refund:<refund id>`, `dispute:<id>:lost`...) and is unique, so a replayed cause changes nothing.
    Usage entries also record the tokens, the price they were charged at and the exact cost before rounding.
    """

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        USAGE = "usage", "Usage"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        ADMIN_GRANT = "admin_grant", "Admin grant"
        SIGNUP_GRANT = "signup_grant", "Signup grant"
        REVERSAL = "reversal", "Reversal"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_credits = models.BigIntegerField(help_text="Signed change of the balance.")
    debt_change_credits = models.BigIntegerField(default=0, help_text="Signed change of the debt.")
    balance_after = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=255, unique=True)
    memo = models.CharField(max_length=255, blank=True, help_text="Who or what caused it, in words.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The admin who made it; empty for the system.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Cause, where there is one
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="entry")
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        help_text="For usage through the API: the key that spent it.",
    )
    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    # Usage details
    price = models.ForeignKey(Price, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    cached_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    usage_estimated = models.BooleanField(default=False)
    exact_credits = models.DecimalField(max_digits=30, decimal_places=12, null=True, blank=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["wallet", "-created_at"], name="ledger_wallet_recent")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount_credits=0) | ~Q(debt_change_credits=0), name="ledger_entry_changes_something"
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="usage") | (Q(hold__isnull=False) & Q(price__isnull=False) & Q(amount_credits__lt=0)),
                name="ledger_usage_has_hold_and_price",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount_credits:+,} credits ({self.idempotency_key})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger entries are never changed: post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries are never deleted: post a reversal instead.")


class StripeEvent(models.Model):
    """A Stripe webhook event already applied; stored in the same transaction as its effect."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    def __str__(self):
        return f"{self.type} {self.event_id}"


class StripeRefund(models.Model):
    """A refund of a top-up as the ledger counted it; one row per Stripe refund id, written when it is taken.

    `applied_cents` is what it added to the top-up's `refunded_cents`: less than `amount_cents` when refunds
    would add up past the top-up's amount (capped there), and possibly worth no credits at all. A failed
    refund gives back exactly that, so a capped or zero-credit refund that fails leaves the top-up as before.
    """

    class Status(models.TextChoices):
        TAKEN = "taken"
        REVERSED = "reversed"  # the refund failed or was canceled: its cents and credits were given back

    refund_id = models.CharField(max_length=255, primary_key=True)
    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField(help_text="What Stripe refunded.")
    applied_cents = models.PositiveIntegerField(help_text="What counted against the top-up (capped at its amount).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TAKEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(applied_cents__lte=F("amount_cents")), name="stripe_refund_applied_within_amount"
            ),
        ]

    def __str__(self):
        return f"Refund {self.refund_id} ({self.status})"


class StripeDispute(models.Model):
    """A chargeback on a top-up: open disputes restrict the wallet until they close."""

    class Status(models.TextChoices):
        OPEN = "open"
        WON = "won"
        LOST = "lost"

    dispute_id = models.CharField(max_length=255, primary_key=True)
    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="disputes")
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Dispute {self.dispute_id} ({self.status})"
