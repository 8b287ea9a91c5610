"""Seed Auto's routing table with the launch defaults, so the admin shows every task from the start.

A frozen copy of the defaults in chat/routing/table.py at this point (migrations must not follow later code).
Idempotent and non-destructive: a task that already has a rule keeps the admin's choice, and a model missing
from the catalog leaves its tasks without a rule (they then use the built-in default). Reversing it keeps
the rows, since admins may have edited them.
"""

from django.db import migrations

DEFAULT_RULES = [
    ("support_intent", "gpt-4o-mini", "cheap, reliable structured output"),
    ("bulk_summary", "gpt-4o-mini", "lowest cost for volume"),
    ("json_extraction", "gpt-4o-mini", "schema-conformant output"),
    ("rag_rerank", "gpt-4o-mini", "cheap enough for many passes"),
    ("social_caption", "gpt-4o-mini", "tone variety at low cost"),
    ("chatbot", "gpt-4o-mini", "cost scales at volume"),
    ("support_email", "claude-3-5-haiku", "tone consistency, instruction fidelity"),
    ("code_review", "claude-3-5-haiku", "nuanced reasoning about code"),
    ("long_document_qa", "claude-3-5-haiku", "holds context across dense input (200K window)"),
    ("brand_content", "claude-3-5-haiku", "more nuanced prose"),
    ("multi_step", "claude-3-5-haiku", "keeps layered constraints"),
    ("research_summary", "claude-3-5-haiku", "writing quality for readers"),
    ("general_chat", "gpt-4o-mini", "cheapest capable default"),
]


def seed_route_rules(apps, schema_editor):
    AIModel = apps.get_model("chat", "AIModel")
    RouteRule = apps.get_model("chat", "RouteRule")
    models = {model.slug: model for model in AIModel.objects.filter(slug__in={slug for _, slug, _ in DEFAULT_RULES})}
    for task, slug, reason in DEFAULT_RULES:
        if slug in models:
            RouteRule.objects.get_or_create(task=task, defaults={"model": models[slug], "reason": reason})


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_route_rules"),
    ]

    operations = [
        migrations.RunPython(seed_route_rules, migrations.RunPython.noop),
    ]
