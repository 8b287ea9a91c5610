"""Seed the built-in providers, the launch catalog and each model's first price (list prices, USD / 1M tokens).

Idempotent: rows are matched by slug, and a model gets a first price only while it has none, so running it
again never rewrites price history. Reversing it keeps the rows (prices are billing history); dropping the
tables is what unapplying 0001 is for.
"""

from decimal import Decimal

from django.db import migrations

# slug, name, wire format, base URL setting, API key setting. The base URL comes from the setting (whose
# default in panels/settings.py is the public endpoint), so the literal base_url stays blank.
PROVIDERS = [
    ("openai", "OpenAI", "openai", "OPENAI_BASE_URL", "OPENAI_API_KEY"),
    ("anthropic", "Anthropic", "anthropic", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
    ("gemini", "Google Gemini", "openai", "GEMINI_BASE_URL", "GEMINI_API_KEY"),  # OpenAI-compatible endpoint
    ("mistral", "Mistral", "openai", "MISTRAL_BASE_URL", "MISTRAL_API_KEY"),
]

V, J, T = "supports_vision", "supports_json_mode", "supports_tools"

# slug, name, provider, API model id, context window, max output tokens, capabilities,
# input, output, cached input (USD / 1M tokens), best for.
MODELS = [
    ("gpt-4o-mini", "GPT-4o mini", "openai", "gpt-4o-mini", 128_000, 16_384, {V, J, T},
     "0.15", "0.60", "0.075", "Cheap structured output at volume: extraction, classification, JSON."),
    ("claude-3-5-haiku", "Claude 3.5 Haiku", "anthropic", "claude-3-5-haiku-20241022", 200_000, 8_192, {V, T},
     "0.80", "4.00", "0.08", "Prose, tone and layered instructions, quickly."),
    ("gemini-2.0-flash", "Gemini 2.0 Flash", "gemini", "gemini-2.0-flash", 1_048_576, 8_192, {V, J, T},
     "0.10", "0.40", "0.025", "Very long inputs for pennies: whole documents, transcripts, logs."),
    ("mistral-small", "Mistral Small", "mistral", "mistral-small-2506", 128_000, 32_768, {V, J, T},
     "0.10", "0.30", None, "Low-cost multilingual chat and quick drafts, European-hosted."),
    ("claude-3-haiku", "Claude 3 Haiku", "anthropic", "claude-3-haiku-20240307", 200_000, 4_096, {V, T},
     "0.25", "1.25", "0.03", "The cheapest Claude: short answers, triage and summaries."),
    ("gpt-4.1-mini", "GPT-4.1 mini", "openai", "gpt-4.1-mini", 1_047_576, 32_768, {V, J, T},
     "0.40", "1.60", "0.10", "Precise instruction following over long documents at a small price."),
    ("gemini-2.5-flash", "Gemini 2.5 Flash", "gemini", "gemini-2.5-flash", 1_048_576, 65_536, {V, J, T},
     "0.30", "2.50", "0.075", "Fast step-by-step reasoning over very long context."),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "anthropic", "claude-haiku-4-5-20251001", 200_000, 64_000, {V, T},
     "1.00", "5.00", "0.10", "Near-frontier coding and agent work at Haiku speed."),
    ("gpt-4o", "GPT-4o", "openai", "gpt-4o", 128_000, 16_384, {V, J, T},
     "2.50", "10.00", "1.25", "Reliable all-rounder with strong image understanding."),
    ("gpt-4.1", "GPT-4.1", "openai", "gpt-4.1", 1_047_576, 32_768, {V, J, T},
     "2.00", "8.00", "0.50", "Coding and exact instruction following across a million tokens."),
    ("mistral-large", "Mistral Large", "mistral", "mistral-large-2411", 128_000, 32_768, {J, T},
     "2.00", "6.00", None, "Multilingual reasoning and careful European-language writing."),
    ("claude-sonnet", "Claude Sonnet 4.5", "anthropic", "claude-sonnet-4-5-20250929", 200_000, 64_000, {V, T},
     "3.00", "15.00", "0.30", "Hard reasoning, agentic coding and long, careful writing."),
]  # fmt: skip


def seed_catalog(apps, schema_editor):
    Provider = apps.get_model("chat", "Provider")
    AIModel = apps.get_model("chat", "AIModel")
    Price = apps.get_model("billing", "Price")

    providers = {}
    for slug, name, wire_format, base_url_setting, api_key_setting in PROVIDERS:
        providers[slug], _ = Provider.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "wire_format": wire_format,
                "base_url": "",
                "base_url_setting": base_url_setting,
                "api_key_setting": api_key_setting,
                "enabled": True,
            },
        )

    for position, row in enumerate(MODELS, start=1):
        slug, name, provider, api_model_id, context, max_output, capabilities, inp, out, cached, best_for = row
        model, _ = AIModel.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "provider": providers[provider],
                "api_model_id": api_model_id,
                "context_window": context,
                "max_output_tokens": max_output,
                "supports_vision": V in capabilities,
                "supports_json_mode": J in capabilities,
                "supports_tools": T in capabilities,
                "best_for": best_for,
                "enabled": True,
                "sort_order": position * 10,
            },
        )
        if not Price.objects.filter(model=model).exists():
            Price.objects.create(
                model=model,
                input_usd_per_m=Decimal(inp),
                output_usd_per_m=Decimal(out),
                cached_input_usd_per_m=Decimal(cached) if cached is not None else None,
                note="List price at launch.",
            )


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_catalog, migrations.RunPython.noop),
    ]
