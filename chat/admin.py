"""Admin for the model catalog (add, disable, reorder and re-price models, connect providers) and Auto's table."""

import copy

from django import forms
from django.contrib import admin

from billing.admin import PriceInline, ReadOnlyAdmin
from billing.formatting import usd
from billing.models import Price
from billing.services import add_price
from catalog.models import AIModel, Provider, ProviderChange
from catalog.services import ROUTE_FIELDS, change_provider, key_move
from chat.exceptions import ModelUnavailable
from chat.models import RouteRule
from chat.providers.registry import availability, provider_config_for
from chat.selectors import catalog_models


class ProviderForm(forms.ModelForm):
    """The provider form, with the confirmation a change that moves the key needs."""

    confirm_api_key_setting = forms.CharField(
        label="confirm the key",
        required=False,
        max_length=100,
        help_text="Needed when this change sends the provider's key to a new address, or sends another key: "
        "type the API key setting's name again.",
    )

    class Meta:
        model = Provider
        fields = ["name", "slug", "wire_format", "base_url", "base_url_setting", "api_key_setting", "enabled"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        after = copy.copy(self.instance)  # the instance still holds the stored values until the form saves
        for field in ROUTE_FIELDS:
            if field in cleaned:
                setattr(after, field, cleaned[field])
        move = key_move(before=self.instance if self.instance.pk else None, after=after)
        if move and cleaned.get("confirm_api_key_setting", "").strip() != move.setting:
            self.add_error("confirm_api_key_setting", move.prompt)
        return cleaned


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Providers, with whether each is configured; keys stay in the environment, never in these rows.

    Only superusers change where a provider's requests and key go, and a change that moves the key needs
    its setting's name typed again. Saves go through catalog.services, which records them.
    """

    form = ProviderForm
    list_display = [
        "name",
        "slug",
        "wire_format",
        "base_url",
        "base_url_setting",
        "api_key_setting",
        "key_bound_origin",
        "enabled",
        "status",
    ]
    list_editable = ["enabled"]
    list_filter = ["wire_format", "enabled"]
    search_fields = ["slug", "name", "base_url"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [
        "name",
        "slug",
        "wire_format",
        "base_url",
        "base_url_setting",
        "api_key_setting",
        "confirm_api_key_setting",
        "key_bound_origin",
        "enabled",
    ]

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if request.user.is_superuser else [f for f in fields if f != "confirm_api_key_setting"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser:
            form.base_fields.pop("confirm_api_key_setting", None)  # nothing they may change moves a key
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["key_bound_origin"] if request.user.is_superuser else [*ROUTE_FIELDS, "key_bound_origin"]

    def save_model(self, request, obj, form, change):
        confirmation = form.cleaned_data.get("confirm_api_key_setting", "")
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field in ProviderForm.Meta.fields}
        change_provider(provider=obj, changes=changes, by=request.user, confirmation=confirmation)

    @admin.display(description="status")
    def status(self, provider):
        try:
            provider_config_for(provider)
        except ModelUnavailable as error:
            return error.detail
        return "Ready"


@admin.register(ProviderChange)
class ProviderChangeAdmin(ReadOnlyAdmin):
    """Who changed where a provider's requests and key go, and when: the record, read-only."""

    list_display = ["changed_at", "provider", "field", "old_value", "new_value", "changed_by"]
    list_filter = ["provider", "field"]
    list_select_related = ["provider", "changed_by"]
    search_fields = ["provider__name", "old_value", "new_value", "changed_by__email"]
    date_hierarchy = "changed_at"


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    """The catalog; re-pricing adds a row to the price inline, stamped with the admin who added it."""

    list_display = ["slug", "name", "provider", "enabled", "sort_order", "price", "status"]
    list_display_links = ["slug"]
    list_editable = ["enabled", "sort_order"]
    list_filter = ["provider", "enabled", "supports_vision", "supports_json_mode", "supports_tools"]
    search_fields = ["slug", "name", "api_model_id", "best_for"]
    inlines = [PriceInline]
    fieldsets = [
        (None, {"fields": ["slug", "name", "provider", "api_model_id", "best_for"]}),
        ("Limits (tokens)", {"fields": ["context_window", "max_output_tokens"]}),
        (
            "Capabilities",
            {
                "fields": [
                    "supports_vision",
                    "image_token_formula",
                    "image_base_tokens",
                    "image_tile_tokens",
                    "image_patch_multiplier",
                    "supports_json_mode",
                    "supports_tools",
                ]
            },
        ),
        ("Model picker", {"fields": ["enabled", "sort_order"]}),
    ]

    def get_queryset(self, request):
        return catalog_models(include_disabled=True)

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []  # the slug is in URLs and the API: stable once created

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj else {"slug": ["name"]}

    def save_formset(self, request, form, formset, change):
        if formset.model is not Price:
            super().save_formset(request, form, formset, change)
            return
        for price in formset.save(commit=False):
            add_price(price=price, by=request.user)

    @admin.display(description="price now, $/1M in / out / cached")
    def price(self, model):
        price = model.current_price()
        if price is None:
            return "no price yet"
        amounts = [price.input_usd_per_m, price.output_usd_per_m, price.cached_input_usd_per_m]
        return " / ".join("-" if amount is None else usd(amount) for amount in amounts)

    @admin.display(description="status")
    def status(self, model):
        return availability(model).reason or "Available"


@admin.register(RouteRule)
class RouteRuleAdmin(admin.ModelAdmin):
    """Auto's routing table: the model each task goes to and why. A task without an enabled row uses its default."""

    list_display = ["task", "model", "reason", "enabled", "status"]
    list_editable = ["model", "enabled"]
    list_filter = ["enabled"]
    list_select_related = ["model", "model__provider"]
    fields = ["task", "model", "reason", "enabled"]

    def get_readonly_fields(self, request, obj=None):
        return ["task"] if obj else []  # a row belongs to its task; add a new row for another task

    @admin.display(description="model status")
    def status(self, rule):
        return availability(rule.model).reason or "Available"
