"""The theme a person chooses (system, light or dark): saved through POST /accounts/theme, shown on every page."""

import json

import pytest
from django.test import Client

from accounts.services import choose_theme
from errors import InvalidRequest

pytestmark = pytest.mark.django_db

URL = "/accounts/theme"


def post_theme(client, theme) -> object:
    return client.post(URL, json.dumps({"theme": theme}), content_type="application/json")


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")


def test_choosing_dark_saves_it_and_answers_with_it(client, user):
    client.force_login(user)
    response = post_theme(client, "dark")
    assert response.status_code == 200
    assert response.json() == {"theme": "dark"}
    user.refresh_from_db()
    assert user.theme == "dark"


@pytest.mark.parametrize("theme", ["light", "system"])
def test_each_choice_can_be_saved(client, user, theme):
    user.theme = "dark"
    user.save()
    client.force_login(user)
    assert post_theme(client, theme).status_code == 200
    user.refresh_from_db()
    assert user.theme == theme


@pytest.mark.parametrize("theme", ["sepia", "DARK", "", None, 1, ["dark"]])
def test_an_unknown_theme_is_refused_with_a_reason_and_nothing_changes(client, user, theme):
    user.theme = "light"
    user.save()
    client.force_login(user)
    response = post_theme(client, theme)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "choose one of system, light, dark" in response.json()["detail"]
    user.refresh_from_db()
    assert user.theme == "light"


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"theme": "dark", "is_staff": true}', b"{}", b'"dark"'], ids=repr
)
def test_a_malformed_body_is_refused_and_nothing_changes(client, user, body):
    client.force_login(user)
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    user.refresh_from_db()
    assert (user.theme, user.is_staff) == ("system", False)


def test_a_visitor_who_is_not_logged_in_is_refused(client, user):
    response = post_theme(client, "dark")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    user.refresh_from_db()
    assert user.theme == "system"


def test_reading_the_endpoint_is_not_allowed(client, user):
    client.force_login(user)
    assert client.get(URL).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post_theme(client, "dark")
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.theme == "system"


def test_one_person_s_choice_leaves_another_s_alone(client, user, other):
    other.theme = "light"
    other.save()
    client.force_login(user)
    assert post_theme(client, "dark").status_code == 200
    other.refresh_from_db()
    user.refresh_from_db()
    assert (user.theme, other.theme) == ("dark", "light")


def test_the_service_refuses_an_unknown_theme_without_saving(user):
    with pytest.raises(InvalidRequest):
        choose_theme(user=user, theme="solarized")
    user.refresh_from_db()
    assert user.theme == "system"


@pytest.mark.parametrize("path", ["/pricing/", "/billing/", "/chat/"])
def test_every_page_opens_in_the_chosen_theme(client, user, path):
    user.theme = "dark"
    user.save()
    client.force_login(user)
    page = client.get(path).content.decode()
    assert '<html lang="en" data-theme="dark">' in page
    assert '<meta name="color-scheme" content="dark">' in page
    assert 'content="#111214" data-scheme="dark" media="all"' in page
    assert 'content="#f7f7f8" data-scheme="light" media="not all"' in page
    assert 'aria-label="Theme: Dark"' in page


def test_a_visitor_s_page_follows_the_system(client):
    page = client.get("/pricing/").content.decode()
    assert '<html lang="en" data-theme="system">' in page
    assert '<meta name="color-scheme" content="light dark">' in page
    assert 'media="(prefers-color-scheme: dark)"' in page
    assert "data-theme-toggle" not in page
