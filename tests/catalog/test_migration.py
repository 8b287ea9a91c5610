"""The catalog models moved from chat to catalog without touching a row: same tables, same ids, same links."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from billing.models import Price
from catalog.models import AIModel, Provider, ProviderChange
from chat.models import Message, RouteRule

BEFORE = [("chat", "0009_provider_key_binding"), ("billing", "0006_signup_grant_on_verified_email")]


def migrate_to_the_end():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_through_the_catalog_after_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(email="before@example.com", password="!")
    provider = old.get_model("chat", "Provider").objects.create(
        slug="elsewhere", name="Elsewhere", base_url="https://api.elsewhere.test/v1", key_bound_origin=""
    )
    old.get_model("chat", "ProviderChange").objects.create(
        provider=provider, field="key_bound_origin", old_value="", new_value="https://api.elsewhere.test"
    )
    model = old.get_model("chat", "AIModel").objects.create(
        slug="elsewhere-large", name="Elsewhere Large", provider=provider, api_model_id="large-1",
        context_window=8000, max_output_tokens=1000,
    )  # fmt: skip
    price = old.get_model("billing", "Price").objects.create(
        model=model, input_usd_per_m=Decimal("1.50"), output_usd_per_m=Decimal("6.00")
    )
    conversation = old.get_model("chat", "Conversation").objects.create(user=user, title="Before the move")
    turn = old.get_model("chat", "Turn").objects.create(
        conversation=conversation, user=user, request_id="r-1", content="Hello"
    )
    message = old.get_model("chat", "Message").objects.create(
        turn=turn, panel=0, model=model, comparison_model=model, requested_model="elsewhere-large", price=price,
        text="Hi", status="complete", credits=12, finished_at=timezone.now(),
    )  # fmt: skip
    rule = old.get_model("chat", "RouteRule").objects.order_by("task").first()
    rule.model = model
    rule.save()

    migrate_to_the_end()

    moved = AIModel.objects.get(pk=model.pk)
    assert (moved.slug, moved.provider_id) == ("elsewhere-large", provider.pk)
    assert Provider.objects.get(pk=provider.pk).slug == "elsewhere"
    assert list(ProviderChange.objects.filter(provider_id=provider.pk).values_list("new_value", flat=True)) == [
        "https://api.elsewhere.test"
    ]
    assert Price.objects.get(pk=price.pk).model == moved
    assert moved.current_price().pk == price.pk
    reply = Message.objects.get(pk=message.pk)
    assert (reply.model, reply.comparison_model, reply.price_id, reply.text) == (moved, moved, price.pk, "Hi")
    assert RouteRule.objects.get(pk=rule.pk).model == moved
    assert ContentType.objects.get_for_model(AIModel).app_label == "catalog"
