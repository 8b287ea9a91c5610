"""Turn catalog rows into provider configurations and adapters; keys are read here and never stored or shown.

A provider names settings rather than holding values (read by catalog/endpoints.py). A provider whose key
setting is named but empty is not configured: its models are unavailable, with the setting to fix.

A key goes only to the origin it was confirmed for (`Provider.key_bound_origin`, moved by an admin through
catalog/services.py), so editing a provider's base URL cannot send its key to a new host. A base URL
read from the environment is the operator's choice and is trusted.
"""

from typing import NamedTuple

from catalog.endpoints import base_url_for, setting_value
from catalog.models import AIModel, Provider, origin_of
from chat.exceptions import ModelUnavailable
from chat.providers.base import ProviderAdapter, ProviderConfig, WireFormat


class Availability(NamedTuple):
    available: bool
    reason: str  # empty when available; otherwise a sentence an operator can act on, never a secret


def provider_config_for(provider: Provider) -> ProviderConfig:
    """Return where and how to reach `provider`; raise `ModelUnavailable` naming the setting that is missing.

    Also raise it, before the key is read, when the stored base URL is not where the key was confirmed.
    """
    if not provider.enabled:
        raise ModelUnavailable(f"{provider.name} is turned off.")
    base_url, from_environment = base_url_for(provider)
    if not base_url:
        raise ModelUnavailable(
            f"Set {provider.base_url_setting} to use {provider.name} models.", setting=provider.base_url_setting
        )
    origin = origin_of(base_url)
    if provider.api_key_setting and not from_environment and (not origin or origin != provider.key_bound_origin):
        raise ModelUnavailable(
            f"{provider.name}'s address changed since its key was set; "
            "an admin must confirm the key for the new address."
        )
    api_key = setting_value(provider.api_key_setting) if provider.api_key_setting else ""
    if provider.api_key_setting and not api_key:
        raise ModelUnavailable(
            f"Set {provider.api_key_setting} to use {provider.name} models.", setting=provider.api_key_setting
        )
    return ProviderConfig(name=provider.name, wire_format=provider.wire_format, base_url=base_url, api_key=api_key)


def adapter_for(wire_format: WireFormat) -> ProviderAdapter:
    """Return the adapter that speaks `wire_format` (imported on first use, so the SDKs load only when needed)."""
    if wire_format == "openai":
        from chat.providers.openai import OpenAIAdapter

        return OpenAIAdapter()
    if wire_format == "anthropic":
        from chat.providers.anthropic import AnthropicAdapter

        return AnthropicAdapter()
    raise ValueError(f"No adapter speaks the {wire_format!r} wire format.")


def availability(model: AIModel) -> Availability:
    """Return whether people can call `model` now and, when they cannot, what an operator must do about it."""
    if not model.enabled:
        return Availability(False, f"{model.name} is turned off.")
    try:
        provider_config_for(model.provider)
    except ModelUnavailable as error:
        return Availability(False, error.detail)
    if model.current_price() is None:
        return Availability(False, f"{model.name} has no price yet.")
    return Availability(True, "")
