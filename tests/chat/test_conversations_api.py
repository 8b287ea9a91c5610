"""The conversation endpoints: list, read, rename, delete and export, each scoped to its owner."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import ChargedUsage, HoldRequest, place_holds, settle
from chat.models import Conversation, Message, Turn
from tests.factories import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user, priced_model):
    """Return a finished one-turn conversation whose reply was charged through the wallet."""
    fund(user, 1_000_000)
    conversation = Conversation.objects.create(user=user, title="Tea", chosen_models=[priced_model.slug])
    turn = Turn.objects.create(
        conversation=conversation, user=user, request_id="r-1", content="Is green tea <b>bitter</b>?"
    )
    message = Message.objects.create(turn=turn, panel=0, model=priced_model, requested_model=priced_model.slug)
    (hold,) = place_holds(user=user, requests=[HoldRequest(f"message:{message.pk}", priced_model, 100, 100)])
    entry = settle(hold=hold, usage=ChargedUsage(input_tokens=20, output_tokens=30))
    Message.objects.filter(pk=message.pk).update(
        text="Only when brewed too hot.",
        status="complete",
        input_tokens=20,
        output_tokens=30,
        credits=-entry.amount_credits,
        finished_at=timezone.now(),
    )
    return conversation


def test_the_list_shows_only_my_conversations_newest_first(client, user, conversation, django_user_model):
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    Conversation.objects.create(user=other, title="Eve's secret")
    newer = Conversation.objects.create(user=user, title="Coffee")
    client.force_login(user)
    body = client.get("/api/conversations/").json()
    assert [c["id"] for c in body["results"]] == [newer.pk, conversation.pk]
    assert body["count"] == 2


def test_the_list_searches_titles_and_text(client, user, conversation):
    Conversation.objects.create(user=user, title="Coffee")
    client.force_login(user)
    assert [c["title"] for c in client.get("/api/conversations/", {"q": "brewed"}).json()["results"]] == ["Tea"]
    assert client.get("/api/conversations/", {"q": "nothing like this"}).json()["results"] == []


def test_a_conversation_reads_with_its_turns_replies_usage_and_credits(client, user, conversation):
    client.force_login(user)
    body = client.get(f"/api/conversations/{conversation.pk}/").json()
    (turn,) = body["turns"]
    (reply,) = turn["messages"]
    assert turn["content"] == "Is green tea <b>bitter</b>?"
    assert (reply["text"], reply["status"], reply["input_tokens"], reply["output_tokens"]) == (
        "Only when brewed too hot.",
        "complete",
        20,
        30,
    )
    assert reply["credits"] == -LedgerEntry.objects.get(kind="usage").amount_credits


def test_another_person_s_conversation_is_not_found_for_every_method(client, conversation, django_user_model):
    other = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    client.force_login(other)
    url = f"/api/conversations/{conversation.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, json.dumps({"title": "Mine now"}), content_type="application/json").status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(url + "export").status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "Tea"


def test_renaming_changes_the_title(client, user, conversation):
    client.force_login(user)
    response = client.patch(
        f"/api/conversations/{conversation.pk}/",
        json.dumps({"title": "  Green   tea "}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["title"] == "Green tea"


@pytest.mark.parametrize(
    "body", ['{"title": ""}', '{"title": 5}', '{"colour": "red"}', "not json", "[]", '{"title": "' + "x" * 201 + '"}']
)
def test_a_bad_rename_is_refused_with_a_reason_and_changes_nothing(client, user, conversation, body):
    client.force_login(user)
    response = client.patch(f"/api/conversations/{conversation.pk}/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    conversation.refresh_from_db()
    assert conversation.title == "Tea"


def test_deleting_a_conversation_keeps_the_ledger(client, user, conversation):
    client.force_login(user)
    assert client.delete(f"/api/conversations/{conversation.pk}/").status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert LedgerEntry.objects.filter(kind="usage", wallet__user=user).count() == 1


def test_a_conversation_with_a_reply_streaming_cannot_be_deleted(client, user, conversation):
    Message.objects.filter(turn__conversation=conversation).update(status="streaming", finished_at=None)
    client.force_login(user)
    response = client.delete(f"/api/conversations/{conversation.pk}/")
    assert response.status_code == 409 and "stop them first" in response.json()["detail"]
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_export_as_markdown_and_json(client, user, conversation):
    client.force_login(user)
    markdown = client.get(f"/api/conversations/{conversation.pk}/export", {"format": "md"})
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "## You\n\nIs green tea <b>bitter</b>?" in markdown.content.decode()
    assert "### test-mini (complete, 20 in / 30 out" in markdown.content.decode()
    exported = json.loads(client.get(f"/api/conversations/{conversation.pk}/export", {"format": "json"}).content)
    assert exported["turns"][0]["messages"][0]["text"] == "Only when brewed too hot."
    assert client.get(f"/api/conversations/{conversation.pk}/export", {"format": "pdf"}).status_code == 400


def test_the_api_asks_anonymous_callers_to_log_in(client, conversation):
    assert client.get("/api/conversations/").status_code == 401
    assert client.get(f"/api/conversations/{conversation.pk}/").status_code == 401


def test_changes_need_the_csrf_token(user, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(
        f"/api/conversations/{conversation.pk}/", json.dumps({"title": "x"}), content_type="application/json"
    )
    assert response.status_code == 403
