"""Every rule the database keeps on an admin-edited record reads as words, on the field it concerns."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import BaseConstraint

from billing.models import BillingSettings, CreditPack, Price
from catalog.models import AIModel, Provider, ProviderChange
from chat.models import RouteRule

pytestmark = pytest.mark.django_db

EDITED_IN_THE_ADMIN = [Provider, ProviderChange, AIModel, Price, BillingSettings, CreditPack, RouteRule]


def model_form_data(**changes) -> dict[str, str]:
    """Return the AI model add form as an admin fills it in, with `changes`, and no new price."""
    return {
        "slug": "llama-3-3-70b",
        "name": "Llama 3.3 70B",
        "provider": str(Provider.objects.get(slug="openai").pk),
        "api_model_id": "meta-llama/llama-3.3-70b-instruct",
        "context_window": "131072",
        "max_output_tokens": "8192",
        "sort_order": "500",
        "image_token_formula": "tiles",
        "image_base_tokens": "85",
        "image_tile_tokens": "170",
        "image_patch_multiplier": "1.00",
        "enabled": "on",
        "prices-TOTAL_FORMS": "0",
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
        **changes,
    }


@pytest.mark.parametrize("model", EDITED_IN_THE_ADMIN, ids=lambda model: model.__name__)
def test_every_constraint_has_a_worded_message_and_a_code(model):
    for constraint in model._meta.constraints:
        assert constraint.violation_error_message != BaseConstraint.default_violation_error_message, constraint.name
        assert "%(name)s" not in constraint.violation_error_message, constraint.name
        assert constraint.violation_error_code, constraint.name


@pytest.mark.parametrize("model", EDITED_IN_THE_ADMIN, ids=lambda model: model.__name__)
def test_each_field_a_violation_moves_to_is_a_field_of_a_constraint_with_that_code(model):
    codes = {constraint.violation_error_code for constraint in model._meta.constraints}
    field_names = {field.name for field in model._meta.fields}
    for code, field in model.fields_by_violation_code.items():
        assert code in codes
        assert field in field_names


def test_a_max_output_above_the_context_window_is_reported_on_the_max_output():
    model = AIModel.objects.get(slug="gpt-4o-mini")
    model.max_output_tokens = model.context_window + 1
    with pytest.raises(ValidationError) as refused:
        model.full_clean()
    assert refused.value.message_dict == {
        "max_output_tokens": [
            "The max output cannot be larger than the context window, which counts the prompt and the reply together."
        ]
    }


def test_a_violation_whose_field_is_not_validated_stays_above_the_form():
    violation = ValidationError("The max output cannot be larger ...", code="max_output_above_context_window")
    errors = AIModel.errors_on_fields({NON_FIELD_ERRORS: [violation]}, exclude={"max_output_tokens"})
    assert errors == {NON_FIELD_ERRORS: [violation]}


def test_the_admin_shows_a_context_window_below_the_max_output_on_the_max_output_field(admin_client):
    response = admin_client.post(
        "/admin/catalog/aimodel/add/", model_form_data(context_window="4096", max_output_tokens="8192")
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {
        "max_output_tokens": [
            "The max output cannot be larger than the context window, which counts the prompt and the reply together."
        ]
    }
    assert "is violated" not in response.content.decode()
    assert not AIModel.objects.filter(slug="llama-3-3-70b").exists()


def test_the_admin_shows_a_negative_new_price_on_its_field(admin_client):
    data = model_form_data(
        **{"prices-TOTAL_FORMS": "1", "prices-0-input_usd_per_m": "-0.01", "prices-0-output_usd_per_m": "0.40"}
    )

    response = admin_client.post("/admin/catalog/aimodel/add/", data)

    assert response.status_code == 200
    price_form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert price_form.errors == {"input_usd_per_m": ["A price cannot be negative; enter 0 for free input."]}
    assert not AIModel.objects.filter(slug="llama-3-3-70b").exists()


def test_the_admin_shows_a_provider_with_nowhere_to_send_requests_on_the_base_url(admin_client):
    response = admin_client.post(
        "/admin/catalog/provider/add/",
        {"name": "Nowhere", "slug": "nowhere", "wire_format": "openai", "base_url": "", "base_url_setting": ""},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"base_url": ["Enter a base URL, or the name of a setting that holds one."]}
    assert not Provider.objects.filter(slug="nowhere").exists()


def test_the_admin_shows_a_free_credit_pack_on_its_amount(admin_client):
    before = CreditPack.objects.count()

    response = admin_client.post(
        "/admin/billing/creditpack/add/", {"name": "Free", "amount_usd": "0", "active": "on", "sort_order": "1"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"amount_usd": ["A pack must cost more than $0."]}
    assert CreditPack.objects.count() == before


def test_the_admin_words_top_up_bounds_that_cross_above_the_form(admin_client):
    billing = BillingSettings.load()
    form = {
        "credits_per_usd": "2000000",
        "markup_percent": "0",
        "signup_grant_credits": "200000",
        "min_topup_usd": "50.00",
        "max_topup_usd": "10.00",
        "hold_minutes": "15",
    }

    response = admin_client.post(f"/admin/billing/billingsettings/{billing.pk}/change/", form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        NON_FIELD_ERRORS: [
            "The smallest top-up must be at least $0.50 (Stripe's minimum charge), and the largest at least the "
            "smallest."
        ]
    }
    assert BillingSettings.load().max_topup_usd == billing.max_topup_usd
