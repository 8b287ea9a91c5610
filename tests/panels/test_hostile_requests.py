"""Hostile HTTP input: every odd body or parameter is a 4xx with a sentence, never a 500, never a write.

PostgreSQL refuses NUL in text and nobody can store half a surrogate pair, so on either database these used
to reach a query or a save and fail there.
"""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("path", ["/billing/topup/success/?session_id=%00", "/admin/catalog/aimodel/?q=%00"])
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
    # A form may lead here and to Stripe Checkout only (the top-up form's redirect goes there).
    assert "form-action 'self' https://checkout.stripe.com;" in policy


def test_the_admin_is_served_under_the_content_security_policy(admin_client):
    for path in ["/admin/", "/admin/catalog/aimodel/", "/admin/catalog/aimodel/add/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]


# --- Property: any JSON body or parameter at every JSON endpoint ------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "", " ", "md", "json", "gpt-4o-mini", "auto", "1", "-1"]),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=10,
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            key: json_values
            for key in ("title", "system_prompt", "prompt", "models", "history_tokens", "ceiling_credits")
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=40),
    st.integers(min_value=1_000, max_value=50_000).map(lambda depth: "[" * depth + "]" * depth),
)
# Query strings are percent-encoded UTF-8, so an unpaired surrogate cannot be sent in one: only NUL and text.
query_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20) | st.just("\x00")
queries = st.dictionaries(
    st.sampled_from(["q", "page", "format", "model", "input_tokens", "output_tokens", "requests"]),
    query_text,
    max_size=4,
)


def assert_answered_in_words(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert len(response.json()["detail"]) > 10


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_json_body_is_answered_with_a_sentence_and_changes_nothing_unless_accepted(ada, conversation, body):
    before = Conversation.objects.values("title", "system_prompt", "updated_at").get(pk=conversation.pk)

    renamed = patch(ada, conversation, body)
    routed = ada.post("/api/route", body, content_type="application/json")

    assert_answered_in_words(renamed)
    assert_answered_in_words(routed)
    if renamed.status_code != 200:
        assert Conversation.objects.values("title", "system_prompt", "updated_at").get(pk=conversation.pk) == before
    else:  # restore, so the next example compares with a known state
        Conversation.objects.filter(pk=conversation.pk).update(**before)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
def test_any_query_string_is_answered_with_a_sentence(ada, conversation, query):
    for path in ("/api/conversations/", f"/api/conversations/{conversation.pk}/export", "/api/estimate"):
        assert_answered_in_words(ada.get(path, query))
