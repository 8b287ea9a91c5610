"""Admin for the model catalog (add, disable, reorder and re-price models, connect providers) and Auto's table."""

from django.contrib import admin

from billing.admin import PriceInline, format_usd
from billing.models import Price
from chat.exceptions import ModelUnavailable
from chat.models import AIModel, Provider, RouteRule
from chat.providers.registry import availability, provider_config_for
from chat.selectors import catalog_models


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Providers, with whether each is configured; keys stay in the environment, never in these rows."""

    list_display = [
        "name",
        "slug",
        "wire_format",
        "base_url",
        "base_url_setting",
        "api_key_setting",
        "enabled",
        "status",
    ]
    list_editable = ["enabled"]
    list_filter = ["wire_format", "enabled"]
    search_fields = ["slug", "name", "base_url"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "wire_format", "base_url", "base_url_setting", "api_key_setting", "enabled"]

    @admin.display(description="status")
    def status(self, provider):
        try:
            provider_config_for(provider)
        except ModelUnavailable as error:
            return error.detail
        return "Ready"


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
        ("Capabilities", {"fields": ["supports_vision", "supports_json_mode", "supports_tools"]}),
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
            price.created_by = request.user
            price.save()

    @admin.display(description="price now, $/1M in / out / cached")
    def price(self, model):
        price = model.current_price()
        if price is None:
            return "no price yet"
        amounts = [price.input_usd_per_m, price.output_usd_per_m, price.cached_input_usd_per_m]
        return " / ".join(format_usd(amount) for amount in amounts)

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
