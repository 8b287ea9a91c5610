"""The model catalog: providers and the AI models people can call (conversations come with the chat issue).

Catalog rows are edited in the admin, so adding, disabling or re-pricing a model needs no deploy. Keys never
live in the database: a provider names the setting or environment variable that holds its key, and
chat/providers/registry.py resolves that name when a call is made. Prices live in billing (`Price`).
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# A setting name must look like the kind of value it names, so the admin cannot point a provider at
# SECRET_KEY, STRIPE_SECRET_KEY or DATABASE_URL and send it to an outside server.
API_KEY_SETTING_PATTERN = r"^[A-Z][A-Z0-9_]*_API_KEY$"
BASE_URL_SETTING_PATTERN = r"^[A-Z][A-Z0-9_]*_BASE_URL$"


class WireFormat(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible (Chat Completions)"
    ANTHROPIC = "anthropic", "Anthropic Messages"


class Provider(models.Model):
    """A service that runs models: a wire format, where to reach it, and which setting holds its key."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, help_text="Shown to people, e.g. “OpenAI”, “Google Gemini”.")
    wire_format = models.CharField(max_length=20, choices=WireFormat.choices, default=WireFormat.OPENAI)
    base_url = models.CharField(
        "base URL",
        max_length=500,
        blank=True,
        help_text="e.g. https://openrouter.ai/api/v1 or http://localhost:11434/v1. "
        "May be blank when the base URL setting supplies it.",
        validators=[RegexValidator(r"^https?://[^/\s]+\S*$", "Enter an http:// or https:// URL.")],
    )
    base_url_setting = models.CharField(
        "base URL setting",
        max_length=100,
        blank=True,
        help_text="Optional name of a setting or environment variable (ending in _BASE_URL) that overrides "
        "the base URL when it is set.",
        validators=[RegexValidator(BASE_URL_SETTING_PATTERN, "Use a name like OPENROUTER_BASE_URL.")],
    )
    api_key_setting = models.CharField(
        "API key setting",
        max_length=100,
        blank=True,
        help_text="Name of the setting or environment variable (ending in _API_KEY) that holds the key; "
        "the key itself is never stored here. Blank: no key needed (local servers).",
        validators=[RegexValidator(API_KEY_SETTING_PATTERN, "Use a name like OPENROUTER_API_KEY.")],
    )
    enabled = models.BooleanField(default=True, help_text="Off: every model of this provider is hidden.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(wire_format__in=WireFormat.values), name="provider_wire_format_known"),
            models.CheckConstraint(
                condition=~Q(base_url="") | ~Q(base_url_setting=""), name="provider_has_a_base_url_source"
            ),
            models.CheckConstraint(
                condition=Q(base_url="") | Q(base_url__startswith="http://") | Q(base_url__startswith="https://"),
                name="provider_base_url_is_http",
            ),
            models.CheckConstraint(
                condition=Q(api_key_setting="") | Q(api_key_setting__regex=API_KEY_SETTING_PATTERN),
                name="provider_api_key_setting_is_a_name",
            ),
            models.CheckConstraint(
                condition=Q(base_url_setting="") | Q(base_url_setting__regex=BASE_URL_SETTING_PATTERN),
                name="provider_base_url_setting_is_a_name",
            ),
        ]

    def __str__(self):
        return self.name


class AIModel(models.Model):
    """One model in the catalog: what people pick in a panel, and what the provider calls it."""

    slug = models.SlugField(max_length=64, unique=True, help_text="Stable: used in URLs and the API.")
    name = models.CharField(max_length=100, help_text="Shown to people, e.g. “GPT-4o mini”.")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    api_model_id = models.CharField(
        "API model id", max_length=200, help_text="The provider's own id, e.g. claude-3-5-haiku-20241022."
    )
    context_window = models.PositiveIntegerField(help_text="Input plus output tokens the model accepts.")
    max_output_tokens = models.PositiveIntegerField(help_text="The most tokens one reply may use.")
    supports_vision = models.BooleanField("vision", default=False)
    supports_json_mode = models.BooleanField("JSON mode", default=False)
    supports_tools = models.BooleanField("tools", default=False)
    best_for = models.CharField(max_length=200, blank=True, help_text="One line: what this model is best at.")
    enabled = models.BooleanField(default=True, help_text="Off: hidden from people; history is kept.")
    sort_order = models.PositiveIntegerField(default=100, help_text="Lower comes first in the model picker.")

    class Meta:
        verbose_name = "AI model"
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(context_window__gt=0), name="aimodel_context_window_positive"),
            models.CheckConstraint(condition=Q(max_output_tokens__gt=0), name="aimodel_max_output_positive"),
            models.CheckConstraint(
                condition=Q(max_output_tokens__lte=F("context_window")), name="aimodel_max_output_fits_context"
            ),
            models.CheckConstraint(condition=~Q(api_model_id=""), name="aimodel_api_model_id_not_blank"),
        ]

    def __str__(self):
        return self.name

    def current_price(self, at=None):
        """Return the `billing.Price` in effect at `at` (default: now), or None before the first one.

        Use the prefetched history when there is one (see `chat.selectors.catalog_models`), so a list of
        models costs no query per model.
        """
        at = at or timezone.now()
        if "prices" in getattr(self, "_prefetched_objects_cache", {}):
            in_effect = [price for price in self.prices.all() if price.effective_from <= at]
            return max(in_effect, key=lambda price: price.effective_from, default=None)
        return self.prices.filter(effective_from__lte=at).order_by("-effective_from").first()
