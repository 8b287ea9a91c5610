"""Shared links: only the owner makes or revokes them, and the public page shows the branch shared and nothing else."""

import json

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from chat.models import Attachment, Conversation, Message, SharedLink
from tests.factories import fund, write_turn

pytestmark = pytest.mark.django_db

COMPLETE = Message.Status.COMPLETE


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(email="owner-7c1e@example.com", password="correct-horse-battery")


@pytest.fixture
def eve(django_user_model):
    return django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")


@pytest.fixture
def conversation(owner, priced_model):
    """Return a conversation of two turns that branches at the second: the owner views the branch of "Pu-erh"."""
    conversation = Conversation.objects.create(user=owner, title="Tea", system_prompt="You are a secret sommelier.")
    first = write_turn(
        conversation,
        "Is green tea bitter?",
        [(priced_model, "Only when **brewed** too hot.", COMPLETE, 2_345, 678, 12_345)],
    )
    write_turn(conversation, "And oolong?", [(priced_model, "Rarely.", COMPLETE, 10, 5, 7)], parent=first)
    viewed = write_turn(
        conversation, "And pu-erh?", [(priced_model, "Earthy, not bitter.", COMPLETE, 10, 5, 7)], parent=first
    )
    Conversation.objects.filter(pk=conversation.pk).update(current_turn=viewed)
    conversation.refresh_from_db()
    return conversation


def share(client, conversation, **options):
    return client.post(
        f"/api/conversations/{conversation.pk}/shares", json.dumps(options), content_type="application/json"
    )


def page_of(token: str, client=None):
    return (client or Client()).get(f"/s/{token}/")


def html(response) -> str:
    return response.content.decode()


def live_links() -> list:
    return list(SharedLink.objects.filter(revoked_at__isnull=True).values_list("token", flat=True))


def test_the_owner_shares_the_branch_they_view_and_anyone_reads_it_logged_out(client, owner, conversation):
    client.force_login(owner)
    response = share(client, conversation)

    assert response.status_code == 201
    body = response.json()
    assert body["url"] == f"http://testserver/s/{body['token']}/"
    assert (body["turn_id"], body["show_costs"]) == (None, False)
    assert len(body["token"]) >= 40
    page = page_of(body["token"])
    assert page.status_code == 200
    assert "Is green tea bitter?" in html(page) and "And pu-erh?" in html(page)
    assert "Only when **brewed** too hot." in html(page) and "Earthy, not bitter." in html(page)
    assert "Test Mini" in html(page)  # each reply under its model's name


def test_the_shared_branch_leaves_out_the_other_branch_and_later_turns(client, owner, conversation, priced_model):
    client.force_login(owner)
    token = share(client, conversation).json()["token"]
    later = write_turn(
        conversation,
        "Then which one?",
        [(priced_model, "Sencha.", COMPLETE, 1, 1, 1)],
        parent=conversation.current_turn,
    )
    Conversation.objects.filter(pk=conversation.pk).update(current_turn=later)

    text = html(page_of(token))
    assert "And pu-erh?" in text
    assert "And oolong?" not in text and "Rarely." not in text
    assert "Then which one?" not in text and "Sencha." not in text


def test_without_a_current_turn_the_newest_turn_ends_the_branch(client, owner, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(current_turn=None)
    client.force_login(owner)
    token = share(client, conversation).json()["token"]

    text = html(page_of(token))
    assert "Is green tea bitter?" in text and "And pu-erh?" in text and "And oolong?" not in text


def test_a_link_to_one_turn_shows_only_that_turn(client, owner, conversation):
    oolong = conversation.turns.get(content="And oolong?")
    client.force_login(owner)
    response = share(client, conversation, turn_id=oolong.pk)

    assert response.status_code == 201 and response.json()["turn_id"] == oolong.pk
    text = html(page_of(response.json()["token"]))
    assert "And oolong?" in text and "Rarely." in text
    assert "Is green tea bitter?" not in text and "And pu-erh?" not in text


def test_a_revoked_link_is_not_found_and_revoking_again_changes_nothing(client, owner, eve, conversation):
    client.force_login(owner)
    token = share(client, conversation).json()["token"]

    assert client.delete(f"/api/shares/{token}").status_code == 204
    assert page_of(token).status_code == 404
    assert page_of(token, client).status_code == 404  # the owner too
    revoked_at = SharedLink.objects.get(token=token).revoked_at
    assert client.delete(f"/api/shares/{token}").status_code == 204
    other = Client()
    other.force_login(eve)
    assert other.delete(f"/api/shares/{token}").status_code == 404
    assert SharedLink.objects.get(token=token).revoked_at == revoked_at
    assert client.get(f"/api/conversations/{conversation.pk}/shares").json()["results"] == []


def test_an_unknown_link_is_the_404_page(client, owner):
    assert page_of("no-such-link-at-all").status_code == 404
    assert page_of("x" * 200).status_code == 404
    client.force_login(owner)
    assert client.delete(f"/api/shares/{'x' * 200}").status_code == 404


def test_another_person_s_conversation_can_never_be_shared_by_id(client, owner, eve, conversation):
    client.force_login(eve)
    response = share(client, conversation)

    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert client.get(f"/api/conversations/{conversation.pk}/shares").status_code == 404
    assert SharedLink.objects.count() == 0


def test_another_person_cannot_revoke_my_link(client, owner, eve, conversation):
    client.force_login(owner)
    token = share(client, conversation).json()["token"]
    other = Client()
    other.force_login(eve)

    response = other.delete(f"/api/shares/{token}")

    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert live_links() == [token]
    assert page_of(token).status_code == 200


def test_a_turn_of_another_conversation_is_refused(client, owner, conversation, priced_model):
    elsewhere = Conversation.objects.create(user=owner, title="Coffee")
    other_turn = write_turn(elsewhere, "Espresso?", [(priced_model, "Strong.", COMPLETE, 1, 1, 1)])
    client.force_login(owner)

    response = share(client, conversation, turn_id=other_turn.pk)

    assert response.status_code == 404 and response.json()["detail"]
    assert SharedLink.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", '{"turn_id": "1"}', '{"turn_id": true}', '{"show_costs": "yes"}', '{"colour": "red"}'],
)
def test_a_bad_request_is_refused_with_a_reason_and_makes_no_link(client, owner, conversation, body):
    client.force_login(owner)
    response = client.post(f"/api/conversations/{conversation.pk}/shares", body, content_type="application/json")

    assert response.status_code == 400 and response.json()["detail"]
    assert SharedLink.objects.count() == 0


@pytest.mark.parametrize("turn_id", [0, -1, 10**30])
def test_a_turn_id_that_names_no_turn_is_not_found(client, owner, conversation, turn_id):
    client.force_login(owner)

    response = share(client, conversation, turn_id=turn_id)

    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert SharedLink.objects.count() == 0


def test_a_conversation_with_no_turn_has_nothing_to_share(client, owner):
    empty = Conversation.objects.create(user=owner, title="Nothing yet")
    client.force_login(owner)

    response = share(client, empty)

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert SharedLink.objects.count() == 0


def test_sharing_needs_a_login_and_the_csrf_token(owner, conversation):
    assert share(Client(), conversation).status_code == 401
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(owner)
    assert share(checked, conversation).status_code == 403
    assert SharedLink.objects.count() == 0


def test_the_list_has_the_live_links_of_this_conversation_only(client, owner, conversation, priced_model):
    client.force_login(owner)
    kept = share(client, conversation, show_costs=True).json()
    gone = share(client, conversation).json()["token"]
    client.delete(f"/api/shares/{gone}")
    elsewhere = Conversation.objects.create(user=owner, title="Coffee")
    write_turn(elsewhere, "Espresso?", [(priced_model, "Strong.", COMPLETE, 1, 1, 1)])
    share(client, elsewhere)

    body = client.get(f"/api/conversations/{conversation.pk}/shares").json()

    assert body["results"] == [kept]


def test_the_page_asks_search_engines_not_to_index_it_and_is_never_cached(client, owner, conversation):
    client.force_login(owner)
    response = page_of(share(client, conversation).json()["token"])

    assert '<meta name="robots" content="noindex, nofollow">' in html(response)
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


@pytest.mark.parametrize("viewer", ["anyone", "owner", "eve"])
def test_the_page_shows_no_email_balance_system_prompt_or_costs_unless_chosen(client, owner, eve, conversation, viewer):
    fund(owner, 9_874_512)
    fund(eve, 5_551_212)
    client.force_login(owner)
    token = share(client, conversation).json()["token"]
    reader = Client()
    if viewer != "anyone":
        reader.force_login(owner if viewer == "owner" else eve)

    text = html(page_of(token, reader))

    assert "owner-7c1e" not in text and "eve@" not in text
    assert "9,874,512" not in text and "5,551,212" not in text and "Wallet" not in text and "Log out" not in text
    assert "credits" not in text.lower() and "12,345" not in text and "2,345" not in text
    assert "secret sommelier" not in text


def test_with_costs_chosen_the_page_shows_each_reply_s_tokens_and_credits(client, owner, conversation):
    fund(owner, 9_874_512)
    client.force_login(owner)
    token = share(client, conversation, show_costs=True).json()["token"]

    text = html(page_of(token))

    assert "2,345 in · 678 out" in text and "12,345 credits" in text
    assert "owner-7c1e" not in text and "9,874,512" not in text


def test_a_reply_still_streaming_is_shown_as_being_written(client, owner, conversation):
    Message.objects.filter(turn=conversation.current_turn).update(status="streaming", text="Earthy", finished_at=None)
    client.force_login(owner)

    text = html(page_of(share(client, conversation).json()["token"]))

    assert "Still being written" in text


def test_a_deleted_conversation_takes_its_links_with_it(client, owner, conversation):
    client.force_login(owner)
    token = share(client, conversation).json()["token"]

    assert client.delete(f"/api/conversations/{conversation.pk}/").status_code == 204

    assert page_of(token).status_code == 404
    assert SharedLink.objects.count() == 0


def test_the_page_names_a_turn_s_files_but_never_links_to_them(client, owner, conversation):
    turn = conversation.turns.get(content="Is green tea bitter?")
    file = Attachment.objects.create(
        user=owner,
        turn=turn,
        name="tea-chart.png",
        kind=Attachment.Kind.IMAGE,
        content_type="image/png",
        size_bytes=4,
        file=ContentFile(b"png!", name="x.png"),
        width=1,
        height=1,
    )
    client.force_login(owner)
    page = html(page_of(share(client, conversation).json()["token"]))
    assert "Attached: tea-chart.png" in page
    assert str(file.public_id) not in page and "/api/attachments/" not in page
    assert Client().get(f"/api/attachments/{file.public_id}/content").status_code == 401  # a viewer has no way in
