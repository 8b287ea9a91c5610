"""Presets: saved, changed and deleted through their endpoints, checked as a turn would be, scoped to their owner."""

import json

import pytest
from django.test import Client

from catalog.models import AIModel, Provider
from chat.models import Preset
from chat.presets import BUILTIN_PRESETS, builtin_presets

pytestmark = pytest.mark.django_db

CODE_REVIEW = {
    "name": "  Strict   review ",
    "system_prompt": "  Review the code line by line.\n",
    "models": ["gpt-4o-mini", "auto"],
    "panel_settings": [{"temperature": 0.2, "max_output_tokens": 500}, None],
}


def post(client, body, url="/api/presets/"):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, preset, body):
    return client.patch(f"/api/presets/{preset.pk}/", json.dumps(body), content_type="application/json")


def saved(preset: Preset) -> tuple:
    preset.refresh_from_db()
    return preset.name, preset.system_prompt, preset.model_slugs, preset.panel_settings


@pytest.fixture
def mine(client, user):
    client.force_login(user)
    response = post(client, CODE_REVIEW)
    assert response.status_code == 201, response.content
    return Preset.objects.get(pk=response.json()["id"])


def test_a_saved_preset_keeps_its_trimmed_name_prompt_models_and_each_panel_s_settings(client, user, mine):
    assert mine.user == user
    assert saved(mine) == (
        "Strict review",
        "Review the code line by line.",
        ["gpt-4o-mini", "auto"],
        [{"temperature": 0.2, "max_output_tokens": 500}, {"temperature": None, "max_output_tokens": None}],
    )
    listed = client.get("/api/presets/").json()["results"]
    own = [preset for preset in listed if not preset["builtin"]]
    assert own == [
        {
            "id": mine.pk,
            "builtin": False,
            "name": "Strict review",
            "system_prompt": "Review the code line by line.",
            "models": ["gpt-4o-mini", "auto"],
            "panel_settings": mine.panel_settings,
        }
    ]


def test_the_list_offers_the_built_in_presets_first_and_the_chat_page_carries_the_same(client, user, mine):
    listed = client.get("/api/presets/").json()["results"]
    assert [p["id"] for p in listed] == [p.key for p in BUILTIN_PRESETS] + [mine.pk]
    reviewer = next(p for p in listed if p["id"] == "code-reviewer")
    assert reviewer["builtin"] is True
    assert reviewer["models"] == ["gpt-4o-mini"]
    assert reviewer["panel_settings"] == [{"temperature": 0.2, "max_output_tokens": 2000}]
    assert "code reviewer" in reviewer["system_prompt"]
    assert client.get("/chat/").context["boot"]["presets"] == listed


def test_a_built_in_preset_is_offered_only_while_each_of_its_models_is_enabled(client, user):
    AIModel.objects.filter(slug="claude-3-5-haiku").update(enabled=False)
    offered = [preset.key for preset in builtin_presets()]
    assert offered == ["code-reviewer", "concise-answers"]  # the two that need Claude 3.5 Haiku are left out
    Provider.objects.filter(slug="gemini").update(enabled=False)
    assert [preset.key for preset in builtin_presets()] == ["code-reviewer"]  # a provider turned off counts too
    client.force_login(user)
    assert [p["id"] for p in client.get("/api/presets/").json()["results"]] == ["code-reviewer"]


def test_every_built_in_preset_passes_the_checks_a_person_s_preset_must_pass(client, user):
    client.force_login(user)
    for index, preset in enumerate(BUILTIN_PRESETS):
        body = {
            "name": f"Copy {index}",
            "system_prompt": preset.system_prompt,
            "models": list(preset.model_slugs),
            "panel_settings": preset.settings_per_panel(),
        }
        assert post(client, body).status_code == 201, preset.key


def test_a_preset_is_renamed_and_changed_and_new_models_start_from_their_defaults(client, mine):
    response = patch(client, mine, {"name": "Gentle review", "panel_settings": [{"temperature": 1.25}, None]})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Gentle review"
    assert saved(mine)[3] == [
        {"temperature": 1.25, "max_output_tokens": None},
        {"temperature": None, "max_output_tokens": None},
    ]
    assert patch(client, mine, {"models": ["claude-3-5-haiku"], "system_prompt": ""}).status_code == 200
    assert saved(mine) == (
        "Gentle review",
        "",
        ["claude-3-5-haiku"],
        [{"temperature": None, "max_output_tokens": None}],
    )
    assert patch(client, mine, {"panel_settings": None}).status_code == 200


def test_a_preset_is_deleted(client, mine):
    assert client.delete(f"/api/presets/{mine.pk}/").status_code == 204
    assert not Preset.objects.exists()


BAD_PRESETS = [
    ({"name": "   "}, "1 to 80 characters"),
    ({"name": "x" * 81}, "1 to 80 characters"),
    ({"name": 7}, "must be text"),
    ({"name": "Nul\x00"}, "NUL"),
    ({"system_prompt": "\ud800"}, "unpaired surrogate"),
    ({"system_prompt": ["a list"]}, "must be text"),
    ({"models": []}, "1 to 4 models"),
    ({"models": ["gpt-4o-mini"] * 2, "panel_settings": None}, "each model once"),
    ({"models": ["gpt-4o", "gpt-4.1", "gpt-4o-mini", "auto", "claude-sonnet"]}, "1 to 4 models"),
    ({"models": ["gpt-5-ultra", "auto"]}, "no model called 'gpt-5-ultra'"),
    ({"models": "gpt-4o-mini"}, "list of model slugs"),
    ({"panel_settings": [None]}, "one entry per model"),
    ({"panel_settings": [{"temperature": 2.01}, None]}, "from 0 to 2"),
    ({"panel_settings": [{"temperature": -0.5}, None]}, "from 0 to 2"),
    ({"panel_settings": [{"temperature": 0.125}, None]}, "two decimals"),
    ({"panel_settings": [{"temperature": "0.5"}, None]}, "from 0 to 2"),
    ({"panel_settings": [{"temperature": True}, None]}, "from 0 to 2"),
    ({"panel_settings": [{"max_output_tokens": 0}, None]}, "from 1 to 4,096"),
    ({"panel_settings": [{"max_output_tokens": 4097}, None]}, "from 1 to 4,096"),
    ({"panel_settings": [None, {"max_output_tokens": 4097}]}, "auto is a whole number from 1 to 4,096"),
    ({"panel_settings": [{"max_output_tokens": 12.5}, None]}, "whole number"),
    ({"panel_settings": [{"top_p": 0.5}, None]}, "'temperature' and 'max_output_tokens'"),
    ({"panel_settings": ["hot", None]}, "'temperature' and 'max_output_tokens'"),
    ({"colour": "blue"}, "some of: models, name, panel_settings, system_prompt"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_PRESETS)
def test_a_change_out_of_bounds_is_refused_saying_why_and_changes_nothing(client, mine, change, reason):
    before = saved(mine)
    response = patch(client, mine, change)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert reason.lower() in response.json()["detail"].lower()
    assert saved(mine) == before


@pytest.mark.parametrize(("change", "reason"), BAD_PRESETS)
def test_a_new_preset_out_of_bounds_is_refused_saying_why_and_nothing_is_saved(client, user, change, reason):
    client.force_login(user)
    response = post(client, {**CODE_REVIEW, **change})
    assert response.status_code == 400
    assert reason.lower() in response.json()["detail"].lower()
    assert not Preset.objects.exists()


def test_a_second_preset_of_the_same_name_is_refused_and_the_first_is_kept(client, user, mine):
    response = post(client, {**CODE_REVIEW, "name": " Strict review", "models": ["gpt-4o"], "panel_settings": None})
    assert (response.status_code, response.json()["detail"]) == (
        400,
        "You already have a preset called 'Strict review'; choose another name.",
    )
    other = post(client, {"name": "Other", "models": ["gpt-4o"]}).json()
    renamed = patch(client, Preset.objects.get(pk=other["id"]), {"name": "Strict review"})
    assert renamed.status_code == 400
    assert "already have a preset called 'Strict review'" in renamed.json()["detail"]
    assert sorted(Preset.objects.values_list("name", flat=True)) == ["Other", "Strict review"]
    assert saved(mine)[2] == ["gpt-4o-mini", "auto"]


def test_malformed_bodies_are_refused_with_a_400(client, user, mine):
    for raw in (b"not json", b"[1, 2]", b"{}", b"[" * 100_000):
        assert client.post("/api/presets/", raw, content_type="application/json").status_code == 400
        url = f"/api/presets/{mine.pk}/"
        assert client.patch(url, raw, content_type="application/json").status_code == 400
    assert post(client, {"name": "No models"}).json()["detail"] == "A preset needs a 'name' and its 'models'."
    assert patch(client, mine, {"name": None}).status_code == 400
    assert Preset.objects.count() == 1


def test_another_person_s_preset_and_a_built_in_one_are_not_found_for_every_method(client, mine, django_user_model):
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    client.force_login(other)
    before = saved(mine)
    for url in (f"/api/presets/{mine.pk}/", "/api/presets/code-reviewer/", f"/api/presets/{2**70}/"):
        renamed = client.patch(url, json.dumps({"name": "Mine now"}), content_type="application/json")
        assert renamed.status_code == 404
        assert client.delete(url).status_code == 404
    assert saved(mine) == before
    assert [p["builtin"] for p in client.get("/api/presets/").json()["results"]] == [True] * len(BUILTIN_PRESETS)


def test_the_endpoints_need_a_login_and_the_csrf_token(client, user):
    assert client.get("/api/presets/").status_code == 401
    assert post(client, CODE_REVIEW).status_code == 401
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(user)
    assert post(guarded, CODE_REVIEW).status_code == 403
    assert not Preset.objects.exists()
