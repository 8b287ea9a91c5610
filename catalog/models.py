"""The model catalog: providers and the AI models they run.

Catalog rows are edited in the admin, so adding, disabling or re-pricing a model needs no deploy. Keys never
live in the database: a provider names the setting or environment variable that holds its key, and
chat/providers/registry.py resolves that name when a call is made, sending the key only to the origin an
admin confirmed for it (`Provider.key_bound_origin`, moved by catalog/services.py, each move recorded
as a `ProviderChange`). Prices live in billing (`Price`).
"""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from errors.constraints import ConstraintErrorsOnFields

# A setting name must look like the kind of value it names, so the admin cannot point a provider at
# SECRET_KEY, STRIPE_SECRET_KEY or DATABASE_URL and send it to an outside server.
API_KEY_SETTING_PATTERN = r"^[A-Z][A-Z0-9_]*_API_KEY$"
BASE_URL_SETTING_PATTERN = r"^[A-Z][A-Z0-9_]*_BASE_URL$"

# Only a plain authority (host or [IPv6], optional port, then the path or nothing) has an origin: user info,
# backslashes or percent signs are read as different hosts by different URL parsers, so they bind nothing.
PLAIN_ORIGIN = re.compile(r"(https?)://([a-z0-9._-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?(?=[/?#]|$)", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """Return the origin (scheme://host[:port], lower-cased, default port dropped) of `url`, or "" if unclear."""
    match = PLAIN_ORIGIN.match(url)
    if match is None:
        return ""
    scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if port is not None and not 0 < int(port) < 65536:
        return ""
    if port is None or int(port) == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def validate_plain_origin(url: str) -> None:
    """Refuse an http(s) URL whose host is unclear, since a key is never sent to one (see `origin_of`)."""
    if url.lower().startswith(("http://", "https://")) and not origin_of(url):
        raise ValidationError("Enter a plain host and port, with no user name, backslash or % before the path.")


class WireFormat(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible (Chat Completions)"
    ANTHROPIC = "anthropic", "Anthropic Messages"


class Provider(ConstraintErrorsOnFields, models.Model):
    """A service that runs models: a wire format, where to reach it, and which setting holds its key."""

    fields_by_violation_code = {
        "unknown_wire_format": "wire_format",
        "no_base_url": "base_url",
        "base_url_not_http": "base_url",
        "api_key_setting_not_a_name": "api_key_setting",
        "base_url_setting_not_a_name": "base_url_setting",
    }

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, help_text="Shown to people, e.g. “OpenAI”, “Google Gemini”.")
    wire_format = models.CharField(max_length=20, choices=WireFormat.choices, default=WireFormat.OPENAI)
    base_url = models.CharField(
        "base URL",
        max_length=500,
        blank=True,
        help_text="e.g. https://openrouter.ai/api/v1 or http://localhost:11434/v1. "
        "May be blank when the base URL setting supplies it.",
        validators=[
            RegexValidator(r"^https?://[^/\s]+\S*$", "Enter an http:// or https:// URL."),
            validate_plain_origin,
        ],
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
    key_bound_origin = models.CharField(
        "key confirmed for",
        max_length=300,
        blank=True,
        editable=False,
        help_text="The origin (scheme://host:port) an admin confirmed this provider's key may be sent to; a "
        "stored base URL elsewhere gets no key. Moved only by catalog.services.",
    )

    class Meta:
        db_table = "chat_provider"  # moved from chat: the table keeps its name, so no table is rewritten
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(wire_format__in=WireFormat.values),
                name="provider_wire_format_known",
                violation_error_code="unknown_wire_format",
                violation_error_message="Choose one of the listed wire formats.",
            ),
            models.CheckConstraint(
                condition=~Q(base_url="") | ~Q(base_url_setting=""),
                name="provider_has_a_base_url_source",
                violation_error_code="no_base_url",
                violation_error_message="Enter a base URL, or the name of a setting that holds one.",
            ),
            models.CheckConstraint(
                condition=Q(base_url="") | Q(base_url__startswith="http://") | Q(base_url__startswith="https://"),
                name="provider_base_url_is_http",
                violation_error_code="base_url_not_http",
                violation_error_message="Enter an http:// or https:// URL.",
            ),
            models.CheckConstraint(
                condition=Q(api_key_setting="") | Q(api_key_setting__regex=API_KEY_SETTING_PATTERN),
                name="provider_api_key_setting_is_a_name",
                violation_error_code="api_key_setting_not_a_name",
                violation_error_message="Use a name like OPENROUTER_API_KEY.",
            ),
            models.CheckConstraint(
                condition=Q(base_url_setting="") | Q(base_url_setting__regex=BASE_URL_SETTING_PATTERN),
                name="provider_base_url_setting_is_a_name",
                violation_error_code="base_url_setting_not_a_name",
                violation_error_message="Use a name like OPENROUTER_BASE_URL.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # A new provider's key is confirmed for the address it is created with (see catalog.services).
        if self._state.adding and not self.key_bound_origin:
            self.key_bound_origin = origin_of(self.base_url)
        super().save(*args, **kwargs)


class ProviderChangeIsAppendOnly(Exception):
    """Raised on an attempt to change or delete a recorded provider change."""


class ProviderChangeField(models.TextChoices):
    BASE_URL = "base_url", "base URL"
    BASE_URL_SETTING = "base_url_setting", "base URL setting"
    API_KEY_SETTING = "api_key_setting", "API key setting"
    KEY_BOUND_ORIGIN = "key_bound_origin", "key confirmed for"


class ProviderChange(ConstraintErrorsOnFields, models.Model):
    """One change of where a provider's requests and key go: who, when, which field, from what, to what.

    Append-only (also in PostgreSQL, by a trigger): written by catalog.services in the transaction
    that saves the provider, never edited or deleted.
    """

    fields_by_violation_code = {"unknown_field": "field", "nothing_changed": "new_value"}

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank: changed by a migration or a script, not a person.",
    )
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=30, choices=ProviderChangeField.choices)
    old_value = models.CharField(max_length=500, blank=True)
    new_value = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "chat_providerchange"  # moved from chat; the append-only trigger is on this table
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(field__in=ProviderChangeField.values),
                name="provider_change_field_known",
                violation_error_code="unknown_field",
                violation_error_message="A provider change records one of the listed fields.",
            ),
            models.CheckConstraint(
                condition=~Q(old_value=F("new_value")),
                name="provider_change_changes_something",
                violation_error_code="nothing_changed",
                violation_error_message="A provider change needs a new value different from the old one.",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.field}: {self.old_value or '-'} → {self.new_value or '-'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ProviderChangeIsAppendOnly("Provider changes are never edited: they are the record.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ProviderChangeIsAppendOnly("Provider changes are never deleted: they are the record.")


class AIModel(ConstraintErrorsOnFields, models.Model):
    """One model in the catalog: what people pick in a panel, and what the provider calls it."""

    fields_by_violation_code = {
        "context_window_not_positive": "context_window",
        "max_output_not_positive": "max_output_tokens",
        "max_output_above_context_window": "max_output_tokens",
        "api_model_id_blank": "api_model_id",
    }

    slug = models.SlugField(max_length=64, unique=True, help_text="Stable: used in URLs and the API.")
    name = models.CharField(max_length=100, help_text="Shown to people, e.g. “GPT-4o mini”.")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    api_model_id = models.CharField(
        "API model id", max_length=200, help_text="The provider's own id, e.g. claude-3-5-haiku-20241022."
    )
    context_window = models.PositiveIntegerField(help_text="Input plus output tokens the model accepts.")
    max_output_tokens = models.PositiveIntegerField(help_text="The most tokens one reply may use.")
    supports_vision = models.BooleanField("vision", default=False)
    # What an image costs in input tokens, by the formula its provider documents for the model
    # (chat/attachments/tokens.py). The holds are sized on it, so it must not undercount.
    image_token_formula = models.CharField(
        max_length=8,
        choices=[
            ("tiles", "Tiles of 512 px: base + per tile (GPT-4o family)"),
            ("patches", "Patches of 32 px, at most 1,536, times a multiplier (GPT-4.1 mini, o4-mini)"),
            ("pixels", "Width x height / 750 (Anthropic)"),
            ("gemini", "258 per tile of 768 px (Gemini)"),
        ],
        default="tiles",
        db_default="tiles",
    )
    image_base_tokens = models.PositiveIntegerField(
        default=85, db_default=85, help_text="Tiles formula: the tokens of any image (GPT-4o 85, GPT-4o mini 2,833)."
    )
    image_tile_tokens = models.PositiveIntegerField(
        default=170, db_default=170, help_text="Tiles formula: the tokens of each tile (GPT-4o 170, GPT-4o mini 5,667)."
    )
    image_patch_multiplier = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal(1),
        db_default=Decimal(1),
        help_text="Patches formula: tokens per patch (GPT-4.1 mini 1.62, GPT-4.1 nano 2.46, o4-mini 1.72).",
    )
    supports_json_mode = models.BooleanField("JSON mode", default=False)
    supports_tools = models.BooleanField("tools", default=False)
    best_for = models.CharField(max_length=200, blank=True, help_text="One line: what this model is best at.")
    enabled = models.BooleanField(default=True, help_text="Off: hidden from people; history is kept.")
    sort_order = models.PositiveIntegerField(default=100, help_text="Lower comes first in the model picker.")

    class Meta:
        db_table = "chat_aimodel"  # moved from chat: the table keeps its name, so no table is rewritten
        verbose_name = "AI model"
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(context_window__gt=0),
                name="aimodel_context_window_positive",
                violation_error_code="context_window_not_positive",
                violation_error_message="The context window must be at least 1 token.",
            ),
            models.CheckConstraint(
                condition=Q(max_output_tokens__gt=0),
                name="aimodel_max_output_positive",
                violation_error_code="max_output_not_positive",
                violation_error_message="The max output must be at least 1 token.",
            ),
            models.CheckConstraint(
                condition=Q(max_output_tokens__lte=F("context_window")),
                name="aimodel_max_output_fits_context",
                violation_error_code="max_output_above_context_window",
                violation_error_message="The max output cannot be larger than the context window, "
                "which counts the prompt and the reply together.",
            ),
            models.CheckConstraint(
                condition=~Q(api_model_id=""),
                name="aimodel_api_model_id_not_blank",
                violation_error_code="api_model_id_blank",
                violation_error_message="Enter the provider's id for this model.",
            ),
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
