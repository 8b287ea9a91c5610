"""Organising conversations: pin, rename and file them in folders, without reordering them by activity."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Message, Turn

pytestmark = pytest.mark.django_db

LIST = "/api/conversations/"


def patch(client, conversation, body):
    return client.patch(
        f"{LIST}{conversation.pk}/",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )


def listed(client, **params) -> list[str]:
    return [c["title"] for c in client.get(LIST, params).json()["results"]]


def state(conversation) -> tuple:
    """Return what a refused change must leave as it was."""
    conversation.refresh_from_db()
    return conversation.title, conversation.folder, conversation.pinned_at, conversation.updated_at


@pytest.fixture
def three(user, client):
    """Return conversations Old, Middle and New, active in that order an hour apart, with the owner logged in."""
    now = timezone.now()
    conversations = []
    for hours_ago, title in ((3, "Old"), (2, "Middle"), (1, "New")):
        conversation = Conversation.objects.create(user=user, title=title)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now - timedelta(hours=hours_ago))
        conversations.append(conversation)
    client.force_login(user)
    return conversations


def test_pinned_conversations_list_first_the_latest_pin_first(client, three):
    old, middle, _ = three
    assert patch(client, old, {"pinned": True}).json()["pinned"] is True
    patch(client, middle, {"pinned": True})
    body = client.get(LIST).json()
    assert [(c["title"], c["pinned"]) for c in body["results"]] == [("Middle", True), ("Old", True), ("New", False)]


def test_pinning_a_pinned_conversation_again_keeps_its_place(client, three):
    old, middle, _ = three
    patch(client, old, {"pinned": True})
    patch(client, middle, {"pinned": True})
    pinned_at = state(old)[2]
    assert patch(client, old, {"pinned": True}).status_code == 200
    assert state(old)[2] == pinned_at
    assert listed(client) == ["Middle", "Old", "New"]


def test_an_unpinned_conversation_goes_back_to_its_place_by_activity(client, three):
    old, _, _ = three
    patch(client, old, {"pinned": True})
    assert patch(client, old, {"pinned": False}).json()["pinned"] is False
    assert Conversation.objects.get(pk=old.pk).pinned_at is None
    assert listed(client) == ["New", "Middle", "Old"]


@pytest.mark.parametrize(
    "body", [{"title": "Renamed"}, {"pinned": True}, {"folder": "Work"}, {"title": "Renamed", "folder": "Work"}]
)
def test_renaming_pinning_and_filing_are_not_activity(client, three, body):
    old, _, _ = three
    active_at = state(old)[3]
    response = patch(client, old, body)
    assert response.status_code == 200
    assert response.json()["updated_at"] == active_at.isoformat()
    assert state(old)[3] == active_at
    patch(client, old, {"pinned": False})
    assert [c["id"] for c in client.get(LIST).json()["results"]][-1] == old.pk  # still the least recently active


def test_a_new_system_prompt_still_counts_as_activity(client, three):
    old, _, _ = three
    active_at = state(old)[3]
    assert patch(client, old, {"system_prompt": "  Answer in French. "}).status_code == 200
    old.refresh_from_db()
    assert old.system_prompt == "Answer in French."
    assert old.updated_at > active_at
    assert listed(client)[0] == "Old"


def test_a_folder_name_has_its_whitespace_collapsed_and_an_empty_one_removes_it(client, three):
    old, _, _ = three
    assert patch(client, old, {"folder": "  Work \n  notes "}).json()["folder"] == "Work notes"
    assert state(old)[1] == "Work notes"
    assert patch(client, old, {"folder": " "}).json()["folder"] == ""
    assert state(old)[1] == ""


def test_a_folder_name_has_at_most_60_characters(client, three):
    old, _, _ = three
    assert patch(client, old, {"folder": "x" * 60}).status_code == 200
    assert patch(client, old, {"folder": "y" * 61}).status_code == 400
    assert state(old)[1] == "x" * 60


def test_the_folder_filter_keeps_one_folder_pinned_first(client, three):
    old, middle, new = three
    patch(client, old, {"folder": "Work"})
    patch(client, new, {"folder": "Work"})
    patch(client, middle, {"folder": "Home"})
    patch(client, old, {"pinned": True})
    body = client.get(LIST, {"folder": "Work"}).json()
    assert [(c["title"], c["folder"]) for c in body["results"]] == [("Old", "Work"), ("New", "Work")]
    assert body["count"] == 2
    assert listed(client, folder="Nowhere") == []


def test_search_finds_conversations_by_folder_name_and_with_the_filter(client, user, three, priced_model):
    old, middle, new = three
    patch(client, old, {"folder": "Garden plans"})
    patch(client, middle, {"folder": "Work"})
    turn = Turn.objects.create(conversation=new, user=user, request_id="r-1", content="Plant the garden in May")
    Turn.objects.create(conversation=new, user=user, request_id="r-2", content="More garden: roses")
    assert listed(client, q="GARDEN") == ["New", "Old"]  # once each, though two prompts of New match
    assert listed(client, q="garden", folder="Garden plans") == ["Old"]
    assert listed(client, q="work") == ["Middle"]
    Message.objects.create(turn=turn, panel=0, model=priced_model, requested_model="x", text="Work the soil")
    assert listed(client, q="work") == ["New", "Middle"]


def test_the_folders_are_mine_by_name_with_their_counts(client, user, three, django_user_model):
    old, middle, new = three
    patch(client, old, {"folder": "Work"})
    patch(client, new, {"folder": "Work"})
    patch(client, middle, {"folder": "home"})
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    Conversation.objects.create(user=other, title="Eve's", folder="Secret plans")
    body = client.get(f"{LIST}folders").json()
    assert body == {"folders": [{"name": "home", "count": 1}, {"name": "Work", "count": 2}]}
    assert listed(client, folder="Secret plans") == []
    assert listed(client, q="secret") == []


@pytest.mark.parametrize(
    "body",
    [
        {"pinned": "yes"},
        {"pinned": 1},
        {"pinned": None},
        {"folder": 5},
        {"folder": None},
        {"folder": ["Work"]},
        {"folder": "z" * 61},
        {"folder": "Wo\u0000rk"},
        {"title": "Fine", "pinned": "yes"},
        {"folder": "Work", "title": ""},
        {"pinned": True, "colour": "red"},
        {},
    ],
)
def test_a_bad_change_is_refused_with_a_reason_and_changes_nothing(client, three, body):
    old, _, _ = three
    patch(client, old, {"folder": "Home"})
    before = state(old)
    response = patch(client, old, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request" and response.json()["detail"]
    assert state(old) == before


def test_another_person_cannot_pin_or_file_my_conversation(client, three, django_user_model):
    old, _, _ = three
    before = state(old)
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    client.force_login(other)
    assert patch(client, old, {"pinned": True}).status_code == 404
    assert patch(client, old, {"folder": "Eve's now"}).status_code == 404
    assert state(old) == before
    assert client.get(f"{LIST}folders").json() == {"folders": []}


def test_the_folders_ask_anonymous_callers_to_log_in(client):
    assert client.get(f"{LIST}folders").status_code == 401
