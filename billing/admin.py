"""The pricing console: prices (history read-only; re-price by adding a row), money settings, packs, records."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from billing.formatting import credits, signed_credits, usd
from billing.keys import revoke_api_key
from billing.models import (
    ApiKey,
    BillingSettings,
    CreditPack,
    Hold,
    LedgerEntry,
    Price,
    StripeDispute,
    StripeEvent,
    StripeRefund,
    TopUp,
    Wallet,
)
from billing.pricing import cost_of, credits_for_usd, per_million
from billing.rates import current_rate
from billing.services import change_billing_settings, grant_credits
from catalog.selectors import catalog_models

# The admin's "Now" shortcut fills in the time the page was opened; a price starting that recently is
# taken to mean "now" rather than refused as back-dated.
BACKDATE_GRACE = timedelta(minutes=15)


def usd_column(field: str, description: str, *, in_cents: bool = False):
    """Return a list_display column that shows a dollar (or cent) field by the money rule, sortable by it."""

    @admin.display(description=description, ordering=field)
    def column(record):
        amount = getattr(record, field)
        if amount is None:
            return None  # the admin's empty value
        return usd(Decimal(amount).scaleb(-2) if in_cents else amount)

    column.__name__ = field  # the column's CSS class: field-<name>
    return column


def credits_column(field: str, description: str, *, signed: bool = False):
    """Return a list_display column that shows whole credits with separators (a change with its sign)."""

    @admin.display(description=description, ordering=field)
    def column(record):
        amount = getattr(record, field)
        if amount is None:
            return None  # the admin's empty value
        return signed_credits(amount) if signed else credits(amount)

    column.__name__ = field  # the column's CSS class: field-<name>
    return column


class NewPriceForm(forms.ModelForm):
    """A price to add; it starts now or later, because charges already made must keep the price they used."""

    effective_from = forms.SplitDateTimeField(
        required=False, widget=AdminSplitDateTime, help_text="Blank: now. A later time schedules the change."
    )

    class Meta:
        model = Price
        fields = [
            "input_usd_per_m",
            "output_usd_per_m",
            "cached_input_usd_per_m",
            "markup_percent",
            "effective_from",
            "note",
        ]

    def clean_effective_from(self):
        now = timezone.now()
        starts = self.cleaned_data["effective_from"]
        if starts is None:
            return now
        if starts < now - BACKDATE_GRACE:
            raise ValidationError("A new price cannot start in the past; leave the time blank to start now.")
        return max(starts, now)


class PriceInline(admin.TabularInline):
    """The model's price history (read-only) plus a row to add a new price; rows are never edited or deleted.

    The model admin that shows this inline records `created_by` when it saves the formset.
    """

    model = Price
    form = NewPriceForm
    extra = 1
    can_delete = False
    fields = [*NewPriceForm.Meta.fields, "in_effect", "entered_by", "created_at"]
    readonly_fields = ["in_effect", "entered_by", "created_at"]
    verbose_name = "price (USD per 1M tokens)"
    verbose_name_plural = "prices (USD per 1M tokens): add a row to re-price"
    classes = ["price-history"]  # static/css/admin.css fits the table to the page

    class Media:
        css = {"all": ["css/admin.css"]}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="in effect")
    def in_effect(self, price):
        if price.pk is None:
            return "-"
        if price.effective_from > timezone.now():
            return "scheduled"
        return "current" if price.model.current_price() == price else "superseded"

    @admin.display(description="created by")
    def entered_by(self, price):
        """Show who set the price, with places to wrap a long address: before the @ and after each dot."""
        if price.created_by is None:
            return "-"
        pieces = re.split(r"(?<=\.)|(?=@)", price.created_by.email)
        return format_html_join(mark_safe("<wbr>"), "{}", ((piece,) for piece in pieces))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by their services (money, provider changes); the admin shows them, never edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Price)
class PriceAdmin(ReadOnlyAdmin):
    """Every price ever set, read-only; re-price a model from its page under AI models."""

    list_display = [
        "model",
        usd_column("input_usd_per_m", "input per 1M"),
        usd_column("output_usd_per_m", "output per 1M"),
        usd_column("cached_input_usd_per_m", "cached input per 1M"),
        "effective_from",
        "created_by",
        "note",
    ]
    list_filter = ["model__provider", "model"]
    list_select_related = ["model", "created_by"]
    search_fields = ["model__slug", "model__name", "note"]
    date_hierarchy = "effective_from"


# --- The pricing console: money settings, packs, and read-only money records ---------------------------

TYPICAL_REQUESTS = [("short chat turn", 500, 300), ("long answer", 2_000, 1_500), ("document Q&A", 50_000, 800)]


@admin.register(BillingSettings)
class BillingSettingsAdmin(admin.ModelAdmin):
    """The single row of money settings, and the pricing overview page beside it."""

    fields = [
        "credits_per_usd",
        "markup_percent",
        "signup_grant_credits",
        "min_topup_usd",
        "max_topup_usd",
        "hold_minutes",
        "updated_by",
        "updated_at",
    ]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request):
        return not BillingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """Open the one row directly (there is never a list of them)."""
        settings_row = BillingSettings.load()
        return redirect(reverse("admin:billing_billingsettings_change", args=[settings_row.pk]))

    def save_model(self, request, obj, form, change):
        change_billing_settings(billing=obj, by=request.user)

    def get_urls(self):
        overview = self.admin_site.admin_view(self.pricing_overview)
        return [path("pricing/", overview, name="billing_pricing_overview"), *super().get_urls()]

    def pricing_overview(self, request):
        """Show each model's price per 1M tokens in USD and credits, and what typical requests cost."""
        billing = BillingSettings.load()
        rows = []
        for model in catalog_models(include_disabled=True):
            rate = current_rate(model, billing)
            if rate is None:
                continue
            prices = per_million(rate)
            typical = [cost_of(input_tokens=i, output_tokens=o, rate=rate) for _, i, o in TYPICAL_REQUESTS]
            rows.append(
                {
                    "model": model,
                    "markup": rate.markup_percent,
                    "per_million": prices,
                    "typical": typical,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Pricing overview",
            "billing": billing,
            "rows": rows,
            "typical_requests": TYPICAL_REQUESTS,
        }
        return TemplateResponse(request, "admin/billing/pricing_overview.html", context)


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ["name", usd_column("amount_usd", "price"), "credits_now", "active", "sort_order"]
    list_editable = ["active", "sort_order"]

    @admin.display(description="credits at today's rate")
    def credits_now(self, pack):
        return credits(credits_for_usd(pack.amount_usd, credits_per_usd=BillingSettings.load().credits_per_usd))


class GrantForm(forms.Form):
    credits = forms.IntegerField(help_text="Whole credits; negative to remove.")
    reason = forms.CharField(max_length=255, help_text="Shown to the person in their wallet history.")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    """Wallets are read-only here; credits are granted through the grant page, which posts a ledger entry."""

    list_display = [
        "user",
        credits_column("balance_credits", "balance"),
        credits_column("held_credits", "held"),
        credits_column("debt_credits", "debt"),
        "restriction",
        "grant",
    ]
    list_filter = ["restriction"]
    search_fields = ["user__email"]
    list_select_related = ["user"]

    @admin.display(description="grant")
    def grant(self, wallet):
        return format_html('<a href="{}">Grant credits</a>', reverse("admin:billing_wallet_grant", args=[wallet.pk]))

    def get_urls(self):
        grant = self.admin_site.admin_view(self.grant_view)
        return [path("<int:wallet_id>/grant/", grant, name="billing_wallet_grant"), *super().get_urls()]

    def grant_view(self, request, wallet_id):
        """Grant (or remove) credits with a reason, through billing.services.grant_credits."""
        if not request.user.has_perm("billing.add_ledgerentry"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("user"), pk=wallet_id)
        form = GrantForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    entry = grant_credits(
                        user=wallet.user,
                        credits=form.cleaned_data["credits"],
                        reason=form.cleaned_data["reason"],
                        granted_by=request.user,
                        key=f"admin:{uuid.uuid4()}",
                    )
            except (ValueError, IntegrityError):
                form.add_error("credits", "That would take the balance below what is held or below zero.")
            else:
                messages.success(request, f"{entry.amount_credits:+,} credits for {wallet.user}.")
                return redirect(reverse("admin:billing_wallet_change", args=[wallet.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Grant credits to {wallet.user}",
            "form": form,
            "wallet": wallet,
        }
        return TemplateResponse(request, "admin/billing/grant.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "wallet",
        "kind",
        credits_column("amount_credits", "amount", signed=True),
        credits_column("debt_change_credits", "debt change", signed=True),
        credits_column("balance_after", "balance after"),
        "memo",
    ]
    list_filter = ["kind", "usage_estimated"]
    search_fields = ["wallet__user__email", "idempotency_key", "memo"]
    list_select_related = ["wallet__user"]
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "wallet",
        "model",
        credits_column("amount_credits", "held"),
        "status",
        credits_column("charged_credits", "charged"),
        "expires_at",
    ]
    list_filter = ["status", "model"]
    search_fields = ["reference", "wallet__user__email"]
    list_select_related = ["wallet__user", "model"]


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """People's API keys, read-only (their owners set names and limits); an admin may revoke them.

    The digest is never shown: it is what a key is looked up by, and nothing an admin needs.
    """

    list_display = [
        "name",
        "user",
        "prefix_shown",
        credits_column("daily_limit_credits", "daily limit"),
        credits_column("total_limit_credits", "total limit"),
        "spent_today_shown",
        credits_column("spent_credits", "spent"),
        credits_column("held_credits", "held"),
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [KeyStatusFilter]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "name",
        "prefix",
        "allowed_models",
        "daily_limit_credits",
        "total_limit_credits",
        "spent_today_shown",
        "spent_credits",
        "held_credits",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["spent_today_shown"]
    actions = ["revoke"]

    @admin.display(description="prefix", ordering="prefix")
    def prefix_shown(self, key):
        return f"{key.prefix}…"

    @admin.display(description="spent today (UTC)")
    def spent_today_shown(self, key):
        return credits(key.spent_today)

    def has_revoke_permission(self, request) -> bool:
        """Revoking changes a key, so it takes the permission to change keys (the form stays read-only)."""
        return request.user.has_perm("billing.change_apikey")

    @admin.action(description="Revoke the selected API keys", permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            revoke_api_key(key=key)
            revoked += 1
        self.message_user(
            request,
            f"Revoked {revoked} API key{'s' if revoked != 1 else ''}; requests that send them are refused."
            if revoked
            else "The selected keys were already revoked.",
            messages.SUCCESS if revoked else messages.INFO,
        )


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "wallet",
        usd_column("amount_cents", "amount", in_cents=True),
        credits_column("credits", "credits"),
        "status",
        usd_column("refunded_cents", "refunded", in_cents=True),
        "created_at",
        "paid_at",
    ]
    list_filter = ["status"]
    search_fields = ["id", "checkout_session_id", "payment_intent_id", "wallet__user__email"]
    list_select_related = ["wallet__user"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "livemode", "received_at"]
    list_filter = ["type", "livemode"]
    search_fields = ["event_id"]


@admin.register(StripeRefund)
class StripeRefundAdmin(ReadOnlyAdmin):
    list_display = [
        "refund_id",
        "topup",
        usd_column("amount_cents", "amount", in_cents=True),
        usd_column("applied_cents", "applied", in_cents=True),
        "status",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["refund_id", "topup__wallet__user__email"]


@admin.register(StripeDispute)
class StripeDisputeAdmin(ReadOnlyAdmin):
    list_display = ["dispute_id", "topup", usd_column("amount_cents", "amount", in_cents=True), "status", "created_at"]
    list_filter = ["status"]
