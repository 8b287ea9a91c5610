"""Hostile HTTP input: every odd body or parameter is a 4xx with a sentence, never a 500, never a write.

PostgreSQL refuses NUL in text and nobody can store half a surrogate pair, so on either database these used
to reach a query or a save and fail there.
"""

import json

import pytest

from chat.models import Conversation


@pytest.fixture
def ada(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Before", system_prompt="Be brief.")


def patch(client, conversation, body: str):
    return client.patch(f"/api/conversations/{conversation.pk}/", body, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"title": "\\ud800"}', "unpaired surrogate"),
        ('{"title": "a\\u0000b"}', "NUL character"),
        ('{"system_prompt": "x\\u0000"}', "NUL character"),
        ("[" * 100_000 + "]" * 100_000, "Send a JSON object"),
        ('{"system_prompt": "' + "x" * 400_001 + '"}', "at most 400,000 characters"),
    ],
)
def test_a_rename_the_database_could_not_store_is_a_400_and_changes_nothing(ada, conversation, body, says):
    response = patch(ada, conversation, body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and says in response.json()["detail"]
    conversation.refresh_from_db()
    assert (conversation.title, conversation.system_prompt) == ("Before", "Be brief.")


@pytest.mark.parametrize(
    "path",
    [
        "/api/conversations/?q=%00",
        "/api/conversations/?q=a%00b&page=1",
        "/api/conversations/?%00=x",
        "/api/estimate?model=gpt-4o-mini%00",
    ],
)
def test_a_nul_in_an_api_address_is_a_json_400(ada, path):
    response = ada.get(path)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "detail": response.json()["detail"]}
    assert "NUL character" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/billing/topup/success/?session_id=%00", "/admin/chat/aimodel/?q=%00"])
def test_a_nul_in_a_page_address_is_a_400_page(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_the_session_cookie_is_a_400_not_a_database_error(client, user):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    assert client.get("/billing/").status_code == 400


def test_a_search_without_nul_still_finds(ada, conversation):
    assert [c["title"] for c in ada.get("/api/conversations/?q=efor").json()["results"]] == ["Before"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"prompt": "Summarize this", "models": ["gpt-4o-mini\x00"]}, "NUL character"),
        ({"prompt": "Summarize\x00 this"}, "NUL character"),
        ({"prompt": "Summarize this", "ceiling_credits": 2**64}, "ceiling_credits"),
    ],
)
def test_a_route_request_the_database_could_not_look_up_is_a_400(client, body, says):
    response = client.post("/api/route", json.dumps(body), content_type="application/json")

    assert response.status_code == 400 and says in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/accounts/signup/", "/pricing/", "/chat/", "/billing/", "/admin/login/"]
)
def test_every_page_is_served_under_the_content_security_policy(ada, path):
    response = ada.get(path, follow=True)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy


def test_the_admin_is_served_under_the_content_security_policy(admin_client):
    for path in ["/admin/", "/admin/chat/aimodel/", "/admin/chat/aimodel/add/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
