"""The registry: catalog rows become provider configurations, and unconfigured providers say what to set."""

import sys
from datetime import timedelta
from decimal import Decimal
from types import ModuleType

import pytest
from django.utils import timezone

from billing.models import Price
from catalog.models import AIModel, Provider, origin_of
from chat.exceptions import ModelUnavailable
from chat.providers.registry import adapter_for, availability, provider_config_for

pytestmark = pytest.mark.django_db

SECRET = "sk-test-NEVER-SHOW-0123456789"

BUILT_IN = [
    # model slug, provider name, key setting, base URL setting, wire format
    ("gpt-4o-mini", "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "openai"),
    ("claude-3-5-haiku", "Anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "anthropic"),
    ("gemini-2.0-flash", "Google Gemini", "GEMINI_API_KEY", "GEMINI_BASE_URL", "openai"),
    ("mistral-small", "Mistral", "MISTRAL_API_KEY", "MISTRAL_BASE_URL", "openai"),
]


def admin_added_model(provider: Provider, slug: str = "local-llama") -> AIModel:
    """Return a priced model on `provider`, as an admin would add it."""
    model = AIModel.objects.create(
        slug=slug, name="Local Llama", provider=provider, api_model_id="llama3.2", context_window=8192,
        max_output_tokens=2048,
    )  # fmt: skip
    Price.objects.create(model=model, input_usd_per_m=Decimal("0"), output_usd_per_m=Decimal("0"))
    return model


@pytest.mark.parametrize(("slug", "name", "key_setting", "url_setting", "wire_format"), BUILT_IN)
def test_a_built_in_provider_without_its_key_makes_its_models_unavailable(
    settings, slug, name, key_setting, url_setting, wire_format
):
    setattr(settings, key_setting, "")
    model = AIModel.objects.get(slug=slug)

    available, reason = availability(model)

    assert not available
    assert reason == f"Set {key_setting} to use {name} models."
    with pytest.raises(ModelUnavailable) as raised:
        provider_config_for(model.provider)
    assert (raised.value.code, raised.value.setting) == ("model_unavailable", key_setting)


@pytest.mark.parametrize(("slug", "name", "key_setting", "url_setting", "wire_format"), BUILT_IN)
def test_setting_the_key_makes_a_built_in_provider_available_at_its_configured_url(
    settings, slug, name, key_setting, url_setting, wire_format
):
    setattr(settings, key_setting, SECRET)
    setattr(settings, url_setting, "http://127.0.0.1:9/simulated")
    model = AIModel.objects.get(slug=slug)

    assert availability(model) == (True, "")
    config = provider_config_for(model.provider)
    assert (config.name, config.wire_format, config.base_url, config.api_key) == (
        name,
        wire_format,
        "http://127.0.0.1:9/simulated",
        SECRET,
    )


def test_an_admin_added_provider_reads_its_key_from_the_environment(monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    openrouter = Provider.objects.create(
        slug="openrouter", name="OpenRouter", base_url="https://openrouter.ai/api/v1",
        api_key_setting="OPENROUTER_API_KEY",
    )  # fmt: skip
    model = admin_added_model(openrouter)
    assert availability(model) == (False, "Set OPENROUTER_API_KEY to use OpenRouter models.")

    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)

    assert availability(model) == (True, "")
    config = provider_config_for(openrouter)
    assert (config.base_url, config.api_key, config.wire_format) == ("https://openrouter.ai/api/v1", SECRET, "openai")


def test_a_local_server_that_needs_no_key_is_available(monkeypatch):
    ollama = Provider.objects.create(
        slug="ollama", name="Ollama", base_url="http://localhost:11434/v1", base_url_setting="OLLAMA_BASE_URL"
    )
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    model = admin_added_model(ollama)

    assert availability(model) == (True, "")
    assert provider_config_for(ollama).api_key == ""
    assert provider_config_for(ollama).base_url == "http://localhost:11434/v1"

    monkeypatch.setenv("OLLAMA_BASE_URL", "http://ollama:11434/v1")
    assert provider_config_for(ollama).base_url == "http://ollama:11434/v1"


def test_a_provider_whose_only_base_url_setting_is_empty_names_that_setting(monkeypatch):
    monkeypatch.delenv("VLLM_BASE_URL", raising=False)
    vllm = Provider.objects.create(slug="vllm", name="vLLM", base_url_setting="VLLM_BASE_URL")
    model = admin_added_model(vllm)

    assert availability(model) == (False, "Set VLLM_BASE_URL to use vLLM models.")


def test_a_django_setting_wins_over_an_environment_variable_of_the_same_name(settings, monkeypatch):
    settings.OPENAI_API_KEY = ""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    assert availability(AIModel.objects.get(slug="gpt-4o")).available is False


def test_disabled_models_and_providers_are_unavailable_with_a_reason(settings):
    settings.ANTHROPIC_API_KEY = SECRET
    sonnet = AIModel.objects.get(slug="claude-sonnet")
    sonnet.enabled = False
    assert availability(sonnet) == (False, "Claude Sonnet 4.5 is turned off.")

    sonnet.enabled = True
    sonnet.provider.enabled = False
    assert availability(sonnet) == (False, "Anthropic is turned off.")


def test_a_model_whose_only_price_is_scheduled_is_not_yet_available(settings):
    settings.OPENAI_API_KEY = SECRET
    model = AIModel.objects.create(
        slug="gpt-next", name="GPT Next", provider=Provider.objects.get(slug="openai"), api_model_id="gpt-next",
        context_window=200_000, max_output_tokens=32_000,
    )  # fmt: skip
    assert availability(model) == (False, "GPT Next has no price yet.")

    Price.objects.create(
        model=model,
        input_usd_per_m=Decimal("1"),
        output_usd_per_m=Decimal("4"),
        effective_from=timezone.now() + timedelta(days=1),
    )

    assert availability(model) == (False, "GPT Next has no price yet.")


def test_keys_never_appear_in_configs_reasons_or_errors(settings, monkeypatch):
    settings.OPENAI_API_KEY = SECRET
    config = provider_config_for(Provider.objects.get(slug="openai"))
    assert SECRET not in repr(config)
    assert SECRET not in str(config)

    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    openrouter = Provider.objects.create(
        slug="openrouter", name="OpenRouter", base_url="https://openrouter.ai/api/v1",
        api_key_setting="OPENROUTER_API_KEY", enabled=False,
    )  # fmt: skip
    reason = availability(admin_added_model(openrouter)).reason
    with pytest.raises(ModelUnavailable) as raised:
        provider_config_for(openrouter)
    assert reason == "OpenRouter is turned off."
    assert SECRET not in reason
    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value)


MOVED = "OpenRouter's address changed since its key was set; an admin must confirm the key for the new address."


def test_a_key_goes_only_to_the_origin_it_was_bound_to(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    openrouter = Provider.objects.create(
        slug="openrouter", name="OpenRouter", base_url="https://openrouter.ai/api/v1",
        api_key_setting="OPENROUTER_API_KEY",
    )  # fmt: skip
    assert openrouter.key_bound_origin == "https://openrouter.ai"

    openrouter.base_url = "https://OpenRouter.ai:443/api/v2"  # the same origin, spelled differently
    assert provider_config_for(openrouter).api_key == SECRET

    for elsewhere in ("https://openrouter.ai.evil.example/api/v1", "http://openrouter.ai/api/v1",
                      "https://openrouter.ai:8443/api/v1"):  # fmt: skip
        openrouter.base_url = elsewhere
        with pytest.raises(ModelUnavailable) as raised:
            provider_config_for(openrouter)
        assert raised.value.detail == MOVED
        assert availability(admin_added_model(openrouter, slug=f"m-{len(elsewhere)}")) == (False, MOVED)


def test_a_base_url_from_the_environment_is_trusted_with_the_key(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    monkeypatch.delenv("OPENROUTER_BASE_URL", raising=False)
    openrouter = Provider.objects.create(
        slug="openrouter", name="OpenRouter", base_url="https://openrouter.ai/api/v1",
        base_url_setting="OPENROUTER_BASE_URL", api_key_setting="OPENROUTER_API_KEY",
    )  # fmt: skip
    Provider.objects.filter(pk=openrouter.pk).update(key_bound_origin="https://elsewhere.example")
    openrouter.refresh_from_db()
    with pytest.raises(ModelUnavailable):
        provider_config_for(openrouter)  # the stored base URL is not where the key was confirmed

    monkeypatch.setenv("OPENROUTER_BASE_URL", "http://proxy.internal:8080/v1")

    config = provider_config_for(openrouter)
    assert (config.base_url, config.api_key) == ("http://proxy.internal:8080/v1", SECRET)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://evil.example\\@openrouter.ai/api/v1",  # parsers disagree on which host this is
        "https://openrouter.ai@evil.example/api/v1",  # credentials before the host
        "https://openrouter.ai%2f@evil.example/api/v1",
        "https:///openrouter.ai/api/v1",
    ],
)
def test_a_base_url_whose_host_is_ambiguous_never_carries_a_key(monkeypatch, base_url):
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    openrouter = Provider.objects.create(
        slug="openrouter", name="OpenRouter", base_url=base_url, api_key_setting="OPENROUTER_API_KEY"
    )

    assert openrouter.key_bound_origin == ""
    with pytest.raises(ModelUnavailable) as raised:
        provider_config_for(openrouter)
    assert raised.value.detail == MOVED


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com"),
        ("HTTPS://API.OpenAI.com:443", "https://api.openai.com"),
        ("http://localhost:11434/v1", "http://localhost:11434"),
        ("http://127.0.0.1:80/v1?x=1", "http://127.0.0.1"),
        ("http://[::1]:8000/v1", "http://[::1]:8000"),
        ("http://ollama_box:11434", "http://ollama_box:11434"),
        ("https://api.openai.com@evil.example", ""),
        ("http://evil.example\\api.openai.com", ""),
        ("ftp://api.openai.com", ""),
        ("http://host:99999/v1", ""),
        ("", ""),
    ],
)
def test_the_origin_a_key_is_bound_to(url, origin):
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("wire_format", "module", "class_name"),
    [
        ("openai", "chat.providers.openai", "OpenAIAdapter"),
        ("anthropic", "chat.providers.anthropic", "AnthropicAdapter"),
    ],
)
def test_adapter_for_returns_the_adapter_of_the_wire_format(monkeypatch, wire_format, module, class_name):
    # Stand-in modules keep this test about the registry's mapping, whatever the adapters import.
    stand_in = ModuleType(module)
    adapter_class = type(class_name, (), {})
    setattr(stand_in, class_name, adapter_class)
    monkeypatch.setitem(sys.modules, module, stand_in)

    assert isinstance(adapter_for(wire_format), adapter_class)


def test_adapter_for_refuses_an_unknown_wire_format():
    with pytest.raises(ValueError, match="grpc"):
        adapter_for("grpc")
