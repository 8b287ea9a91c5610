"""Prices are effective-dated history: a re-price adds a row, and the current price is picked by date."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Price
from billing.services import add_price
from catalog.models import AIModel, Provider
from chat.selectors import catalog_models

pytestmark = pytest.mark.django_db

JAN = datetime(2025, 1, 1, tzinfo=UTC)
JUN = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def model():
    """Return a model with no price yet."""
    return AIModel.objects.create(
        slug="test-model", name="Test Model", provider=Provider.objects.get(slug="openai"), api_model_id="test",
        context_window=100_000, max_output_tokens=4_096,
    )  # fmt: skip


def price(model, inp, out, effective_from, cached=None):
    return Price.objects.create(
        model=model,
        input_usd_per_m=Decimal(inp),
        output_usd_per_m=Decimal(out),
        cached_input_usd_per_m=None if cached is None else Decimal(cached),
        effective_from=effective_from,
    )


def test_a_model_has_no_current_price_before_its_first(model):
    assert model.current_price() is None
    price(model, "1", "2", JUN)
    assert model.current_price(at=JAN) is None


def test_the_current_price_is_the_latest_that_has_started(model):
    january, june = price(model, "1.00", "4.00", JAN), price(model, "0.50", "2.00", JUN)

    assert model.current_price(at=JAN - timedelta(seconds=1)) is None
    assert model.current_price(at=JAN) == january
    assert model.current_price(at=JUN - timedelta(microseconds=1)) == january
    assert model.current_price(at=JUN) == june
    assert model.current_price() == june


def test_a_future_dated_price_is_scheduled_not_current(model):
    today = price(model, "1.00", "4.00", JAN)
    tomorrow = timezone.now() + timedelta(days=1)
    scheduled = price(model, "2.00", "8.00", tomorrow)

    assert model.current_price() == today
    assert model.current_price(at=tomorrow) == scheduled


def test_a_reprice_of_a_seeded_model_adds_history_and_keeps_the_old_row():
    sonnet = AIModel.objects.get(slug="claude-sonnet")
    launch = sonnet.current_price()

    cut = price(sonnet, "2.00", "10.00", timezone.now(), cached="0.20")

    assert sonnet.current_price() == cut
    assert sonnet.current_price(at=launch.effective_from) == launch
    assert list(sonnet.prices.all()) == [cut, launch]
    launch.refresh_from_db()
    assert (launch.input_usd_per_m, launch.output_usd_per_m) == (Decimal("3.00"), Decimal("15.00"))


def test_prefetched_history_gives_the_same_answers_without_queries(model, django_assert_num_queries):
    price(model, "1.00", "4.00", JAN)
    june = price(model, "0.50", "2.00", JUN)
    price(model, "9.00", "9.00", timezone.now() + timedelta(days=30))
    loaded = catalog_models().get(pk=model.pk)

    with django_assert_num_queries(0):
        assert loaded.current_price() == june
        assert loaded.current_price(at=JAN).input_usd_per_m == Decimal("1.00")
        assert loaded.current_price(at=JAN - timedelta(days=1)) is None


@pytest.mark.parametrize("field", ["input_usd_per_m", "output_usd_per_m", "cached_input_usd_per_m"])
def test_the_database_refuses_a_negative_price(model, field):
    amounts = {"input_usd_per_m": Decimal("1"), "output_usd_per_m": Decimal("1"), field: Decimal("-0.000001")}
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.create(model=model, effective_from=JAN, **amounts)
    assert not model.prices.exists()


def test_free_and_uncached_prices_are_allowed(model):
    free = price(model, "0", "0", JAN)
    assert (free.input_usd_per_m, free.cached_input_usd_per_m) == (Decimal("0"), None)


def test_two_prices_for_one_model_cannot_start_at_the_same_instant(model):
    price(model, "1.00", "4.00", JAN)
    with pytest.raises(IntegrityError), transaction.atomic():
        price(model, "2.00", "8.00", JAN)
    assert model.prices.count() == 1


def test_prices_keep_six_decimal_places_exactly(model):
    price(model, "0.000001", "123456.789012", JAN)
    stored = Price.objects.get(model=model)
    assert (stored.input_usd_per_m, stored.output_usd_per_m) == (Decimal("0.000001"), Decimal("123456.789012"))


def test_the_price_admin_shows_history_read_only(admin_client):
    launch = AIModel.objects.get(slug="gpt-4o").current_price()

    listing = admin_client.get("/admin/billing/price/")
    assert listing.status_code == 200
    assert "List price at launch." in listing.content.decode()
    assert admin_client.get(f"/admin/billing/price/{launch.pk}/change/").status_code == 200
    assert admin_client.get("/admin/billing/price/add/").status_code == 403
    response = admin_client.post(f"/admin/billing/price/{launch.pk}/change/", {"input_usd_per_m": "0.01"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/billing/price/{launch.pk}/delete/", {"post": "yes"}).status_code == 403
    launch.refresh_from_db()
    assert launch.input_usd_per_m == Decimal("2.50")


def test_adding_a_price_stamps_who_set_it_and_a_price_on_record_is_never_edited(model, django_user_model):
    admin = django_user_model.objects.create_user(email="pricer@example.com", password="pw-123456789")
    added = add_price(price=Price(model=model, input_usd_per_m=Decimal("0.15"), output_usd_per_m=Decimal("0.6"),
                                  effective_from=timezone.now()), by=admin)  # fmt: skip
    assert Price.objects.get(pk=added.pk).created_by == admin
    assert model.current_price() == added

    added.input_usd_per_m = Decimal("0.01")
    with pytest.raises(ValueError, match="never edited"):
        add_price(price=added, by=admin)
    assert Price.objects.get(pk=added.pk).input_usd_per_m == Decimal("0.15")
