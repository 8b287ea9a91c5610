"""The model catalog: the seeded models and prices, the selectors, the database rules and the admin."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.forms import CheckboxInput

from billing.models import Price
from catalog.models import AIModel, Provider
from chat.exceptions import UnknownModel
from chat.selectors import catalog_models, catalog_models_named

pytestmark = pytest.mark.django_db

# The table, written out here because it is the specification:
# slug, provider, API model id, input, output, cached input (USD / 1M tokens), context window.
REQUIRED = [
    ("gpt-4o-mini", "openai", "gpt-4o-mini", "0.15", "0.60", "0.075", 128_000),
    ("gpt-4o", "openai", "gpt-4o", "2.50", "10.00", "1.25", 128_000),
    ("claude-3-haiku", "anthropic", "claude-3-haiku-20240307", "0.25", "1.25", "0.03", 200_000),
    ("claude-3-5-haiku", "anthropic", "claude-3-5-haiku-20241022", "0.80", "4.00", "0.08", 200_000),
    ("claude-sonnet", "anthropic", "claude-sonnet-4-5-20250929", "3.00", "15.00", "0.30", 200_000),
]


@pytest.fixture
def gpt_4o_mini():
    return AIModel.objects.get(slug="gpt-4o-mini")


@pytest.mark.parametrize(("slug", "provider", "api_model_id", "inp", "out", "cached", "context"), REQUIRED)
def test_the_required_models_are_seeded_at_their_list_prices(slug, provider, api_model_id, inp, out, cached, context):
    model = catalog_models_named([slug])[slug]
    price = model.current_price()
    assert (model.provider.slug, model.api_model_id, model.context_window) == (provider, api_model_id, context)
    assert price.input_usd_per_m == Decimal(inp)
    assert price.output_usd_per_m == Decimal(out)
    assert price.cached_input_usd_per_m == Decimal(cached)
    assert 0 < model.max_output_tokens <= model.context_window
    assert model.best_for


def test_every_seeded_model_is_enabled_priced_and_described_and_all_four_providers_have_one():
    models = list(catalog_models())
    assert len(models) >= len(REQUIRED) + 2
    for model in models:
        price = model.current_price()
        assert price is not None, model.slug
        assert price.input_usd_per_m > 0 and price.output_usd_per_m > 0, model.slug
        assert model.best_for and model.name, model.slug
    assert {model.provider.slug for model in models} == {"openai", "anthropic", "gemini", "mistral"}


def test_the_built_in_providers_name_settings_and_store_no_keys():
    providers = {p.slug: p for p in Provider.objects.all()}
    assert {slug: (p.wire_format, p.base_url_setting, p.api_key_setting) for slug, p in providers.items()} == {
        "openai": ("openai", "OPENAI_BASE_URL", "OPENAI_API_KEY"),
        "anthropic": ("anthropic", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"),
        "gemini": ("openai", "GEMINI_BASE_URL", "GEMINI_API_KEY"),
        "mistral": ("openai", "MISTRAL_BASE_URL", "MISTRAL_API_KEY"),
    }


def test_catalog_models_come_in_sort_order_without_disabled_models_or_providers(gpt_4o_mini):
    AIModel.objects.filter(slug="gpt-4o").update(enabled=False)
    Provider.objects.filter(slug="mistral").update(enabled=False)
    AIModel.objects.filter(slug="claude-sonnet").update(sort_order=1)

    slugs = [model.slug for model in catalog_models()]

    assert slugs[0] == "claude-sonnet"
    assert "gpt-4o" not in slugs
    assert not [slug for slug in slugs if slug.startswith("mistral")]
    assert "gpt-4o-mini" in slugs
    everything = [model.slug for model in catalog_models(include_disabled=True)]
    assert {"gpt-4o", "mistral-small", "mistral-large"} <= set(everything)
    orders = [model.sort_order for model in catalog_models(include_disabled=True)]
    assert orders == sorted(orders)


def test_catalog_models_load_providers_and_prices_in_two_queries(django_assert_num_queries):
    with django_assert_num_queries(2):
        summary = [(m.provider.name, m.current_price().input_usd_per_m) for m in catalog_models()]
    assert len(summary) >= 7


@pytest.mark.parametrize("slug", ["no-such-model", "GPT-4O-MINI", ""])
def test_an_unknown_slug_raises_unknown_model(slug):
    with pytest.raises(UnknownModel) as raised:
        catalog_models_named([slug])[slug]
    assert raised.value.code == "unknown_model"


def test_a_disabled_model_or_provider_is_unknown_to_people(gpt_4o_mini):
    gpt_4o_mini.enabled = False
    gpt_4o_mini.save()
    with pytest.raises(UnknownModel):
        catalog_models_named(["gpt-4o-mini"])["gpt-4o-mini"]
    Provider.objects.filter(slug="anthropic").update(enabled=False)
    with pytest.raises(UnknownModel):
        catalog_models_named(["claude-sonnet"])["claude-sonnet"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("context_window", 0), ("max_output_tokens", 0), ("max_output_tokens", 128_001), ("api_model_id", "")],
)
def test_the_database_refuses_a_model_with_impossible_limits(gpt_4o_mini, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        AIModel.objects.filter(pk=gpt_4o_mini.pk).update(**{field: value})
    gpt_4o_mini.refresh_from_db()
    assert (gpt_4o_mini.context_window, gpt_4o_mini.max_output_tokens) == (128_000, 16_384)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_key_setting", "sk-live-abc123"),  # a key pasted where its setting's name belongs
        ("api_key_setting", "STRIPE_SECRET_KEY"),  # a setting that is not a provider key
        ("base_url_setting", "DATABASE_URL"),
        ("base_url", "ftp://example.com"),
        ("wire_format", "grpc"),
    ],
)
def test_the_database_refuses_a_provider_that_could_leak_or_cannot_work(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(
            **({"slug": "bad", "name": "Bad", "base_url": "https://example.com/v1"} | {field: value})
        )
    assert not Provider.objects.filter(slug="bad").exists()


def test_the_database_refuses_a_provider_with_nowhere_to_send_requests():
    with pytest.raises(IntegrityError), transaction.atomic():
        Provider.objects.create(slug="nowhere", name="Nowhere", base_url="", base_url_setting="")


def test_a_model_with_prices_cannot_be_deleted(gpt_4o_mini):
    with pytest.raises(ProtectedError):
        gpt_4o_mini.delete()
    assert AIModel.objects.filter(slug="gpt-4o-mini").exists()


# --- Admin ------------------------------------------------------------------------------------------


def resubmission(response) -> dict[str, str]:
    """Return what a browser posts when it saves the admin change page in `response` without edits."""
    data = {}
    form = response.context["adminform"].form
    for bound in form:
        value = bound.value()
        if isinstance(bound.field.widget, CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = str(value)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = str(bound.value())
        for existing in formset.initial_forms:  # view-only rows post only their keys
            data[existing["id"].html_name] = str(existing.instance.pk)
            data[existing[formset.fk.name].html_name] = str(formset.instance.pk)
    return data


def test_the_admin_lists_the_catalog_with_prices_and_availability(admin_client, settings):
    settings.OPENAI_API_KEY = ""
    response = admin_client.get("/admin/catalog/aimodel/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "claude-3-5-haiku" in page
    assert "$0.15 / $0.60 / $0.075" in page
    assert "Set OPENAI_API_KEY to use OpenAI models." in page


def test_the_admin_change_and_add_pages_open(admin_client, gpt_4o_mini):
    assert admin_client.get(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/").status_code == 200
    assert admin_client.get("/admin/catalog/aimodel/add/").status_code == 200
    assert admin_client.get("/admin/catalog/provider/").status_code == 200
    assert admin_client.get("/admin/catalog/provider/add/").status_code == 200


def test_disabling_a_model_in_the_admin_list_hides_it_from_the_catalog(admin_client):
    listing = admin_client.get("/admin/catalog/aimodel/")
    formset = listing.context["cl"].formset
    data = {bound.html_name: str(bound.value()) for bound in formset.management_form}
    for form in formset.forms:
        model = form.instance
        data[form["id"].html_name] = str(model.pk)
        data[form["sort_order"].html_name] = str(model.sort_order)
        if model.enabled and model.slug != "claude-3-haiku":
            data[form["enabled"].html_name] = "on"
    data["_save"] = "Save"

    response = admin_client.post("/admin/catalog/aimodel/", data)

    assert response.status_code == 302
    slugs = [model.slug for model in catalog_models()]
    assert "claude-3-haiku" not in slugs
    assert "claude-3-5-haiku" in slugs


def test_adding_an_openai_compatible_provider_and_model_in_the_admin(admin_client, admin_user):
    response = admin_client.post(
        "/admin/catalog/provider/add/",
        {
            "name": "OpenRouter",
            "slug": "openrouter",
            "wire_format": "openai",
            "base_url": "https://openrouter.ai/api/v1",
            "base_url_setting": "",
            "api_key_setting": "OPENROUTER_API_KEY",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    openrouter = Provider.objects.get(slug="openrouter")
    add_page = admin_client.get("/admin/catalog/aimodel/add/")
    data = resubmission(add_page) | {
        "slug": "llama-3-3-70b",
        "name": "Llama 3.3 70B",
        "provider": str(openrouter.pk),
        "api_model_id": "meta-llama/llama-3.3-70b-instruct",
        "context_window": "131072",
        "max_output_tokens": "8192",
        "sort_order": "500",
        "enabled": "on",
        "prices-TOTAL_FORMS": "1",
        "prices-0-input_usd_per_m": "0.13",
        "prices-0-output_usd_per_m": "0.40",
    }

    response = admin_client.post("/admin/catalog/aimodel/add/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    model = catalog_models_named(["llama-3-3-70b"])["llama-3-3-70b"]
    price = model.current_price()
    assert (price.input_usd_per_m, price.output_usd_per_m, price.created_by) == (
        Decimal("0.13"),
        Decimal("0.40"),
        admin_user,
    )


def test_the_provider_form_refuses_a_key_pasted_as_the_setting_name(admin_client):
    response = admin_client.post(
        "/admin/catalog/provider/add/",
        {"name": "Leaky", "slug": "leaky", "wire_format": "openai", "base_url": "https://example.com/v1",
         "api_key_setting": "sk-or-v1-0123456789abcdef", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Use a name like OPENROUTER_API_KEY." in response.content.decode()
    assert not Provider.objects.filter(slug="leaky").exists()


def test_repricing_in_the_admin_adds_a_row_stamped_with_the_admin(admin_client, admin_user, gpt_4o_mini):
    first = gpt_4o_mini.current_price()
    page = admin_client.get(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")
    data = resubmission(page) | {
        "prices-TOTAL_FORMS": "2",
        "prices-1-input_usd_per_m": "0.12",
        "prices-1-output_usd_per_m": "0.48",
        "prices-1-cached_input_usd_per_m": "0.06",
        "prices-1-note": "Provider price cut",
    }

    response = admin_client.post(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    now = gpt_4o_mini.current_price()
    assert (now.input_usd_per_m, now.output_usd_per_m, now.cached_input_usd_per_m) == (
        Decimal("0.12"),
        Decimal("0.48"),
        Decimal("0.06"),
    )
    assert now.created_by == admin_user
    assert now.note == "Provider price cut"
    assert gpt_4o_mini.prices.count() == 2
    first_again = Price.objects.get(pk=first.pk)
    assert (first_again.input_usd_per_m, first_again.created_by) == (Decimal("0.15"), None)
    history = admin_client.get(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/").content.decode()
    assert history.count("superseded") == 1


def test_existing_prices_cannot_be_edited_through_the_inline(admin_client, gpt_4o_mini):
    first = gpt_4o_mini.current_price()
    page = admin_client.get(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")
    data = resubmission(page) | {"prices-0-input_usd_per_m": "0.01", "prices-0-DELETE": "on"}

    response = admin_client.post(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/", data)

    assert response.status_code == 302
    assert list(gpt_4o_mini.prices.all()) == [first]
    assert Price.objects.get(pk=first.pk).input_usd_per_m == Decimal("0.15")


def test_a_back_dated_price_is_refused_in_the_admin(admin_client, gpt_4o_mini):
    page = admin_client.get(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/")
    data = resubmission(page) | {
        "prices-TOTAL_FORMS": "2",
        "prices-1-input_usd_per_m": "0.01",
        "prices-1-output_usd_per_m": "0.01",
        "prices-1-effective_from_0": "2024-01-01",
        "prices-1-effective_from_1": "00:00:00",
    }

    response = admin_client.post(f"/admin/catalog/aimodel/{gpt_4o_mini.pk}/change/", data)

    assert response.status_code == 200
    assert "cannot start in the past" in response.content.decode()
    assert gpt_4o_mini.prices.count() == 1
