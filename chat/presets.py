"""Presets: a saved start of a chat (a system prompt, the models, each panel's settings), the person's and built in.

A person's presets are rows (`Preset`), written only here, each checked as a turn would check it: known models,
settings within each model's limits, a system prompt that can be stored. The built-in presets are defined in
code, the same for everyone, and offered only while every model they name is in the catalog and enabled.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction

from catalog.models import AIModel
from catalog.selectors import catalog_models
from chat.budget import max_output_tokens_for
from chat.exceptions import UnknownModel
from chat.limits import MAX_CONTENT_CHARS, MAX_MODELS_PER_TURN, storable_text
from chat.models import Preset
from chat.providers.base import LOWEST_MAX_TEMPERATURE, MAX_TEMPERATURE
from chat.selectors import catalog_models_named
from chat.services import AUTO
from errors import InvalidRequest

MAX_NAME_CHARS = Preset._meta.get_field("name").max_length
TEMPERATURE_STEP = Decimal("0.01")  # what Message.temperature stores


def settings_for_panel(temperature: float | None = None, max_output_tokens: int | None = None) -> dict:
    """Return one panel's settings as presets and the `send` frame carry them (None: the model's default)."""
    return {"temperature": temperature, "max_output_tokens": max_output_tokens}


@dataclass(frozen=True)
class BuiltinPreset:
    """A preset everyone is offered; `key` names it in the page's URL (`/chat/?preset=<key>`)."""

    key: str
    name: str
    model_slugs: tuple[str, ...]
    system_prompt: str = ""
    panel_settings: tuple[dict, ...] = field(default=())

    def settings_per_panel(self) -> list[dict]:
        return list(self.panel_settings) or [settings_for_panel() for _ in self.model_slugs]


# Small output limits and temperatures within every provider's range (Anthropic's ends at 1).
BUILTIN_PRESETS = (
    BuiltinPreset(
        key="compare-mini-haiku",
        name="Compare GPT-4o mini and Claude 3.5 Haiku",
        model_slugs=("gpt-4o-mini", "claude-3-5-haiku"),
    ),
    BuiltinPreset(
        key="code-reviewer",
        name="Code reviewer",
        model_slugs=("gpt-4o-mini",),
        system_prompt=(
            "You are a careful senior code reviewer. For the code you are given, point out bugs, security "
            "problems and unclear names first, then smaller style issues. Quote the lines you mean, explain why "
            "each matters, and suggest a concrete fix. Say so plainly when the code is fine."
        ),
        panel_settings=(settings_for_panel(temperature=0.2, max_output_tokens=2000),),
    ),
    BuiltinPreset(
        key="concise-answers",
        name="Concise answers",
        model_slugs=("gpt-4o-mini", "gemini-2.0-flash"),
        system_prompt=(
            "Answer in at most three sentences. Lead with the answer itself, skip any preamble, and use a short "
            "list only when the question asks for several items."
        ),
        panel_settings=(settings_for_panel(max_output_tokens=300), settings_for_panel(max_output_tokens=300)),
    ),
    BuiltinPreset(
        key="writing-editor",
        name="Writing editor",
        model_slugs=("claude-3-5-haiku",),
        system_prompt=(
            "You are a thoughtful writing editor. Improve the clarity, rhythm and tone of the text you are given "
            "while keeping the author's voice. Return the edited text first, then a short list of the most "
            "important changes and why you made them."
        ),
        panel_settings=(settings_for_panel(temperature=0.9),),
    ),
)


def builtin_presets() -> list[BuiltinPreset]:
    """Return the built-in presets whose models are all in the catalog and enabled, in their listed order."""
    enabled = set(catalog_models().values_list("slug", flat=True))
    return [preset for preset in BUILTIN_PRESETS if all(slug == AUTO or slug in enabled for slug in preset.model_slugs)]


def checked_name(name) -> str:
    """Return a preset's name trimmed; raise InvalidRequest unless it is text of 1 to 80 characters."""
    if not isinstance(name, str):
        raise InvalidRequest("A preset's name must be text.")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"A preset's name has 1 to {MAX_NAME_CHARS} characters.")
    return _storable(name, "name")


def checked_system_prompt(system_prompt) -> str:
    """Return a system prompt trimmed; raise InvalidRequest unless it is storable text within the limit."""
    if not isinstance(system_prompt, str):
        raise InvalidRequest("A system prompt must be text.")
    if len(system_prompt) > MAX_CONTENT_CHARS:
        raise InvalidRequest(f"A system prompt has at most {MAX_CONTENT_CHARS:,} characters.")
    return _storable(system_prompt, "system prompt").strip()


def checked_models(model_slugs) -> list[str]:
    """Return 1 to 4 different slugs, each an enabled model of the catalog or auto; raise InvalidRequest otherwise."""
    if not isinstance(model_slugs, list) or not all(isinstance(slug, str) for slug in model_slugs):
        raise InvalidRequest("'models' must be a list of model slugs.")
    if not 1 <= len(model_slugs) <= MAX_MODELS_PER_TURN:
        raise InvalidRequest(f"A preset has 1 to {MAX_MODELS_PER_TURN} models.")
    if len(set(model_slugs)) != len(model_slugs):
        raise InvalidRequest("A preset names each model once.")
    try:
        catalog_models_named(slug for slug in model_slugs if slug != AUTO)
    except UnknownModel as unknown:
        raise InvalidRequest(unknown.detail) from None
    return list(model_slugs)


def checked_panel_settings(entries, model_slugs: list[str]) -> list[dict]:
    """Return each panel's settings, one per model in order, None filled in as the model's default.

    `entries` None means the defaults everywhere. A temperature is 0 to 2 with at most two decimals; an output
    limit a whole number from 1 to what one reply of that model may use (Auto: the site's limit per reply).
    """
    if entries is None:
        return [settings_for_panel() for _ in model_slugs]
    if not isinstance(entries, list) or len(entries) != len(model_slugs):
        raise InvalidRequest("'panel_settings' needs one entry per model, in the same order.")
    limits = _limits(model_slugs)
    return [_checked_panel(entry, slug, *limits[slug]) for entry, slug in zip(entries, model_slugs, strict=True)]


def _checked_panel(entry, slug: str, output_limit: int, max_temperature: Decimal) -> dict:
    if entry is None:
        return settings_for_panel()
    if not isinstance(entry, dict) or set(entry) - {"temperature", "max_output_tokens"}:
        raise InvalidRequest("Each panel's settings are an object with 'temperature' and 'max_output_tokens'.")
    temperature, max_output = entry.get("temperature"), entry.get("max_output_tokens")
    if temperature is not None:
        temperature = float(_checked_temperature(temperature, slug, max_temperature))
    if max_output is not None and (
        isinstance(max_output, bool) or not isinstance(max_output, int) or not 1 <= max_output <= output_limit
    ):
        raise InvalidRequest(f"Max output tokens for {slug} is a whole number from 1 to {output_limit:,}.")
    return settings_for_panel(temperature=temperature, max_output_tokens=max_output)


def _checked_temperature(value, slug: str, max_temperature: Decimal) -> Decimal:
    problem = InvalidRequest(
        f"The temperature for {slug} is a number from 0 to {max_temperature} with at most two decimals."
    )
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise problem
    try:
        temperature = Decimal(str(value))  # a float as written (0.2), not its binary expansion
    except InvalidOperation:
        raise problem from None
    if not temperature.is_finite() or not 0 <= temperature <= max_temperature:
        raise problem
    if temperature != temperature.quantize(TEMPERATURE_STEP):
        raise problem
    return temperature


def _limits(model_slugs: list[str]) -> dict[str, tuple[int, Decimal]]:
    """Return what each slug may set: the output limit of one reply, and the highest temperature it takes."""
    named: dict[str, AIModel] = catalog_models_named(slug for slug in model_slugs if slug != AUTO)
    limits = {
        slug: (max_output_tokens_for(model), MAX_TEMPERATURE[model.provider.wire_format])
        for slug, model in named.items()
    }
    limits[AUTO] = (settings.CHAT_MAX_OUTPUT_TOKENS, LOWEST_MAX_TEMPERATURE)  # Auto may pick either provider
    return limits


def _storable(text: str, what: str) -> str:
    try:
        return storable_text(text)
    except ValueError as error:
        raise InvalidRequest(f"The {what}: {error}.") from None


def _save(preset: Preset) -> Preset:
    """Save `preset`, turning a name the person already uses into a clear error (nothing is written then)."""
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:
        raise InvalidRequest(f"You already have a preset called {preset.name!r}; choose another name.") from None
    return preset


@transaction.atomic
def create_preset(*, user, name, model_slugs, system_prompt: str = "", panel_settings: list | None = None) -> Preset:
    """Save a new preset for `user`; raise InvalidRequest (nothing saved) when any field is out of bounds."""
    name = checked_name(name)
    system_prompt = checked_system_prompt(system_prompt)
    model_slugs = checked_models(model_slugs)
    settings_per_panel = checked_panel_settings(panel_settings, model_slugs)
    preset = Preset(
        user=user,
        name=name,
        system_prompt=system_prompt,
        model_slugs=model_slugs,
        panel_settings=settings_per_panel,
    )
    return _save(preset)


@transaction.atomic
def update_preset(*, preset: Preset, name=None, system_prompt=None, model_slugs=None, panel_settings=None) -> Preset:
    """Change the given fields of a preset (None leaves one as it is); raise InvalidRequest, changing nothing.

    New models without new settings start from each model's defaults; new settings alone must match the
    preset's models.
    """
    changes = {}
    if name is not None:
        changes["name"] = checked_name(name)
    if system_prompt is not None:
        changes["system_prompt"] = checked_system_prompt(system_prompt)
    models = preset.model_slugs
    if model_slugs is not None:
        models = changes["model_slugs"] = checked_models(model_slugs)
    if panel_settings is not None or model_slugs is not None:
        changes["panel_settings"] = checked_panel_settings(panel_settings, models)
    original = {name: getattr(preset, name) for name in changes}
    for name, value in changes.items():
        setattr(preset, name, value)
    try:
        return _save(preset)
    except InvalidRequest:
        for name, value in original.items():  # the caller's object stays what the database holds
            setattr(preset, name, value)
        raise


def delete_preset(*, preset: Preset) -> None:
    """Delete a person's preset; built-in presets are not rows, so they cannot be deleted."""
    preset.delete()
