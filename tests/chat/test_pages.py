"""The pages people use (chat, pricing, landing) and the model catalog the picker reads, through Django's client."""

import json
import re
from decimal import Decimal

import pytest
from django.test import Client

from billing.models import BillingSettings
from catalog.models import AIModel
from chat.models import Conversation, Turn
from tests.factories import fund

pytestmark = pytest.mark.django_db

KEY_SETTINGS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY")


@pytest.fixture
def providers(settings):
    """Configure every seeded provider but Mistral (its key stays empty)."""
    for name in KEY_SETTINGS:
        setattr(settings, name, "" if name == "MISTRAL_API_KEY" else "sk-test")
    return settings


@pytest.fixture
def ada(client, user):
    client.force_login(user)
    return client


def boot_data(response) -> dict:
    """Return the JSON the chat page hands its scripts (the #panels-boot script element)."""
    match = re.search(r'<script id="panels-boot" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(match[1])


def catalog_entry(catalog: dict, slug: str) -> dict:
    return next(entry for entry in catalog["models"] if entry["slug"] == slug)


def test_the_catalog_lists_auto_then_every_enabled_model_at_its_seeded_price(client, providers):
    response = client.get("/api/models")  # public: the pricing page and the picker use the same data

    assert response.status_code == 200
    catalog = response.json()
    slugs = [entry["slug"] for entry in catalog["models"]]
    assert slugs[0] == "auto"
    assert slugs[1:] == list(
        AIModel.objects.filter(enabled=True).order_by("sort_order", "name").values_list("slug", flat=True)
    )
    mini = catalog_entry(catalog, "gpt-4o-mini")
    assert mini == {
        "slug": "gpt-4o-mini",
        "name": "GPT-4o mini",
        "provider": "OpenAI",
        "input_usd_per_m": "0.15",
        "output_usd_per_m": "0.60",
        "input_credits_per_m": 300_000,
        "output_credits_per_m": 1_200_000,
        "context_window": 128_000,
        "max_output_tokens": 16_384,
        "reply_budget_tokens": 4_096,
        "max_temperature": 2.0,
        "best_for": "Cheap structured output at volume: extraction, classification, JSON.",
        "capabilities": ["vision", "json_mode", "tools"],
        "available": True,
        "reason": "",
    }
    haiku = catalog_entry(catalog, "claude-3-5-haiku")
    assert (haiku["input_usd_per_m"], haiku["output_usd_per_m"]) == ("0.80", "4.00")
    assert (haiku["input_credits_per_m"], haiku["output_credits_per_m"]) == (1_600_000, 8_000_000)
    assert (haiku["max_temperature"], catalog_entry(catalog, "auto")["max_temperature"]) == (1.0, 1.0)
    assert catalog["credits_per_usd"] == 2_000_000
    assert (catalog["max_models_per_turn"], catalog["max_output_tokens"]) == (4, 4_096)


def test_a_model_whose_provider_has_no_key_is_listed_as_unavailable_with_the_reason(client, providers):
    catalog = client.get("/api/models").json()

    mistral = catalog_entry(catalog, "mistral-small")
    assert mistral["available"] is False
    assert mistral["reason"] == "Set MISTRAL_API_KEY to use Mistral models."
    assert mistral["input_usd_per_m"] == "0.10"  # still priced, for the pricing page
    assert catalog_entry(catalog, "auto") | {"reason": ""} == catalog_entry(catalog, "auto")
    assert catalog_entry(catalog, "auto")["available"] is True


def test_auto_is_unavailable_when_no_model_is(client, settings):
    for name in KEY_SETTINGS:
        setattr(settings, name, "")

    auto = catalog_entry(client.get("/api/models").json(), "auto")

    assert auto["available"] is False and auto["reason"]


def test_catalog_prices_include_the_markup_and_leave_out_disabled_models(client, providers):
    billing = BillingSettings.load()
    billing.markup_percent = Decimal("10")
    billing.save()
    AIModel.objects.filter(slug="gpt-4o").update(enabled=False)

    catalog = client.get("/api/models").json()

    mini = catalog_entry(catalog, "gpt-4o-mini")
    assert (mini["input_usd_per_m"], mini["input_credits_per_m"]) == ("0.165", 330_000)
    assert (mini["output_usd_per_m"], mini["output_credits_per_m"]) == ("0.66", 1_320_000)
    assert "gpt-4o" not in {entry["slug"] for entry in catalog["models"]}


def test_the_chat_page_needs_a_login(client):
    response = client.get("/chat/")

    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_chat_page_renders_the_picker_the_balance_and_what_its_scripts_need(ada, user, providers):
    fund(user, 1_234_567)

    response = ada.get("/chat/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="header-balance">1,234,567<' in page
    assert 'value="gpt-4o-mini"' in page and 'value="auto"' in page
    assert re.search(r'value="mistral-small"\s+disabled data-unavailable', page)
    assert "Unavailable: Set MISTRAL_API_KEY to use Mistral models." in page
    boot = boot_data(response)
    assert boot["wallet"] == {"balance_credits": 1_234_567, "held_credits": 0}
    assert boot["conversation"] is None
    assert catalog_entry(boot["catalog"], "gpt-4o-mini")["input_credits_per_m"] == 300_000


def test_the_chat_page_sends_a_content_security_policy_whose_nonce_is_on_the_import_map(ada):
    response = ada.get("/chat/")

    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)[1]
    assert "script-src 'self' 'nonce-" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert f'<script type="importmap" nonce="{nonce}">' in response.content.decode()
    assert ada.get("/chat/")["Content-Security-Policy"] != policy  # a fresh nonce per response


def test_the_import_map_names_every_module_and_library_the_page_loads(ada):
    page = ada.get("/chat/").content.decode()

    imports = json.loads(re.search(r'<script type="importmap"[^>]*>(.*?)</script>', page, re.S)[1])["imports"]
    assert imports["marked"] == "/static/vendor/marked/marked.esm.js"
    assert imports["dompurify"] == "/static/vendor/dompurify/purify.es.mjs"
    assert imports["highlight.js"] == "/static/vendor/highlight/highlight.min.js"
    for url in imports.values():
        assert ada.get(url).status_code == 200, url  # each file is really served (npm ci ran)


def test_a_conversation_page_shows_my_conversation(ada, user):
    conversation = Conversation.objects.create(user=user, title="Tea", chosen_models=["gpt-4o-mini"])
    Turn.objects.create(conversation=conversation, user=user, request_id="r-1", content="Green or black?")

    response = ada.get(f"/chat/{conversation.pk}/")

    assert response.status_code == 200
    shown = boot_data(response)["conversation"]
    assert (shown["id"], shown["title"], shown["models"]) == (conversation.pk, "Tea", ["gpt-4o-mini"])
    assert [turn["content"] for turn in shown["turns"]] == ["Green or black?"]


def test_another_person_s_conversation_page_is_not_found(ada, django_user_model):
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    hers = Conversation.objects.create(user=eve, title="Private")

    assert ada.get(f"/chat/{hers.pk}/").status_code == 404
    assert ada.get("/chat/999999/").status_code == 404


def test_the_pricing_page_is_public_and_lists_each_model_in_usd_and_credits(client, providers):
    response = client.get("/pricing/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "GPT-4o mini" in page and "$0.15" in page and "300,000 credits" in page
    assert "$4.00" in page and "8,000,000 credits" in page  # Claude 3.5 Haiku's output
    assert 'data-estimate-url="/api/estimate"' in page  # the calculator asks the server
    assert "Content-Security-Policy" in response


def test_the_landing_page_says_what_panels_does_and_leads_people_in(client, user):
    anonymous = client.get("/").content.decode()
    assert "side by side" in anonymous and 'href="/accounts/signup/"' in anonymous

    client.force_login(user)
    signed_in = client.get("/").content.decode()
    assert 'href="/chat/">Open the chat</a>' in signed_in


def test_signing_up_lands_in_the_chat(client):
    response = Client().get("/accounts/signup/")
    assert response.status_code == 200 and "Create your account" in response.content.decode()

    response = client.post(
        "/accounts/signup/",
        {"email": "grace@example.com", "password1": "correct-horse-battery", "password2": "correct-horse-battery"},
    )

    assert response.status_code == 302 and response.url == "/chat/"
