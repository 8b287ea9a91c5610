"""Branches and versions: an edited prompt forks the conversation, a regenerated reply is a version in place.

What each model is sent follows the branch and the versions shown; every version is paid for on the ledger.
"""

from decimal import Decimal

import pytest
from django.test import Client

from billing.models import Hold, LedgerEntry
from catalog.models import AIModel
from chat.exceptions import NotFound
from chat.frames import turn_started_frame
from chat.models import Conversation, Message, hold_reference
from chat.providers.base import Usage
from chat.services import (
    AUTO,
    PanelChoice,
    ReplyOutcome,
    ReplySettings,
    _within_temperature_range,
    finish_reply,
    regenerate_reply,
    show_branch,
    show_version,
    start_turn,
)
from errors import InvalidRequest
from tests.factories import balance, fund

pytestmark = pytest.mark.django_db

MINI = "gpt-4o-mini"


def answered(started, *texts: str):
    """Finish each reply of a started turn (or version) with its text; return the turn's id."""
    for reply, text in zip(started.replies, texts, strict=True):
        outcome = ReplyOutcome(text=text, usage=Usage(20, 10), stopped=False)
        finish_reply(message_id=reply.message_id, outcome=outcome, estimated_input_tokens=reply.estimated_input_tokens)
    return started.turn.pk


def sent_history(started) -> list[tuple[str, str]]:
    """Return the (role, content) pairs the turn's first reply is sent to its model."""
    return [(m.role, m.content) for m in started.replies[0].call.messages]


@pytest.fixture
def three_turns(user, openai_and_anthropic):
    """Return a conversation of three answered turns on one branch (A, B, C): its id and the turns' ids."""
    fund(user, 10_000_000)
    first = start_turn(user=user, request_id="a", conversation_id=None, model_slugs=[MINI], content="A?")
    conversation_id = first.turn.conversation_id
    a = answered(first, "a!")

    def then(request_id: str, content: str, text: str) -> int:
        return answered(
            start_turn(user=user, request_id=request_id, conversation_id=conversation_id, model_slugs=[MINI],
                       content=content), text)  # fmt: skip

    b = then("b", "B?", "b!")
    c = then("c", "C?", "c!")
    return conversation_id, a, b, c


def test_editing_an_earlier_prompt_forks_and_sends_only_the_turns_before_it(user, three_turns):
    conversation_id, a, b, c = three_turns

    edited = start_turn(user=user, request_id="b2", conversation_id=conversation_id, model_slugs=[MINI],
                        content="B, rephrased?", edit_of_turn_id=b)  # fmt: skip

    assert edited.turn.parent_id == a  # a sibling of B
    assert sent_history(edited) == [("user", "A?"), ("assistant", "a!"), ("user", "B, rephrased?")]
    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.current_turn_id == edited.turn.pk  # it opens on the new branch
    assert list(conversation.turns.filter(parent_id=b).values_list("pk", flat=True)) == [c]  # the old branch stays


def test_a_turn_follows_the_branch_the_tab_shows(user, three_turns):
    conversation_id, _, b, c = three_turns
    edited = answered(start_turn(user=user, request_id="b2", conversation_id=conversation_id, model_slugs=[MINI],
                                 content="B2?", edit_of_turn_id=b), "b2!")  # fmt: skip

    on_new = start_turn(user=user, request_id="d", conversation_id=conversation_id, model_slugs=[MINI], content="D?")
    on_old = start_turn(user=user, request_id="e", conversation_id=conversation_id, model_slugs=[MINI],
                        content="E?", after_turn_id=c)  # fmt: skip

    assert on_new.turn.parent_id == edited  # no branch named: after the conversation's current turn
    assert sent_history(on_new) == [("user", "A?"), ("assistant", "a!"), ("user", "B2?"), ("assistant", "b2!"),
                                    ("user", "D?")]  # fmt: skip
    assert sent_history(on_old) == [("user", "A?"), ("assistant", "a!"), ("user", "B?"), ("assistant", "b!"),
                                    ("user", "C?"), ("assistant", "c!"), ("user", "E?")]  # fmt: skip


def test_a_turn_of_another_conversation_cannot_be_followed_or_edited(user, three_turns):
    _, _, b, _ = three_turns
    other = start_turn(user=user, request_id="x", conversation_id=None, model_slugs=[MINI], content="Other?")
    before = (Message.objects.count(), Hold.objects.count(), balance(user))
    for branch in ({"after_turn_id": b}, {"edit_of_turn_id": b}):
        with pytest.raises(NotFound):
            start_turn(user=user, request_id=f"y{branch}", conversation_id=other.turn.conversation_id,
                       model_slugs=[MINI], content="Hi", **branch)  # fmt: skip
    assert (Message.objects.count(), Hold.objects.count(), balance(user)) == before


def test_regenerating_adds_a_version_in_place_and_later_turns_send_the_version_shown(user, three_turns):
    conversation_id, _, b, _ = three_turns
    first_b = Message.objects.get(turn_id=b)

    again = regenerate_reply(user=user, request_id="b-again", message_id=first_b.pk)
    answered(again, "b, second take")

    versions = list(Message.objects.filter(turn_id=b).order_by("version").values_list("version", "current", "text"))
    assert versions == [(1, False, "b!"), (2, True, "b, second take")]
    frame = turn_started_frame(again.turn, messages=again.messages, held_credits=again.held_credits)
    assert (frame.request_id, frame.turn_id, [m.version for m in frame.messages]) == ("b-again", b, [2])
    assert sent_history(again) == [("user", "A?"), ("assistant", "a!"), ("user", "B?")]  # B's own history
    after = start_turn(user=user, request_id="d", conversation_id=conversation_id, model_slugs=[MINI],
                       content="D?", after_turn_id=b)  # fmt: skip
    assert ("assistant", "b, second take") in sent_history(after)

    show_version(message=first_b)
    back = start_turn(user=user, request_id="e", conversation_id=conversation_id, model_slugs=[MINI],
                      content="E?", after_turn_id=b)  # fmt: skip
    assert ("assistant", "b!") in sent_history(back) and ("assistant", "b, second take") not in sent_history(back)


def test_every_version_is_held_and_charged_on_the_ledger(user, three_turns):
    _, _, b, _ = three_turns
    first_b = Message.objects.get(turn_id=b)
    before = balance(user)

    answered(regenerate_reply(user=user, request_id="v2", message_id=first_b.pk), "two")
    answered(regenerate_reply(user=user, request_id="v3", message_id=first_b.pk), "three")

    versions = list(Message.objects.filter(turn_id=b).order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3]
    charges = {
        entry.hold.reference: -entry.amount_credits
        for entry in LedgerEntry.objects.filter(hold__reference__in=[hold_reference(v.pk) for v in versions])
    }
    assert charges == {hold_reference(v.pk): v.credits for v in versions}  # one charge per version, each kept
    assert before - balance(user) == versions[1].credits + versions[2].credits > 0


def test_a_retried_regenerate_starts_one_version(user, three_turns):
    _, _, b, _ = three_turns
    first_b = Message.objects.get(turn_id=b)
    once = regenerate_reply(user=user, request_id="same", message_id=first_b.pk)
    twice = regenerate_reply(user=user, request_id="same", message_id=first_b.pk)
    assert twice.replies == [] and [m.pk for m in twice.messages] == [m.pk for m in once.messages]
    assert Message.objects.filter(turn_id=b).count() == 2


def test_another_person_s_reply_cannot_be_regenerated_or_shown(user, three_turns, django_user_model):
    _, _, b, _ = three_turns
    stranger = django_user_model.objects.create_user(email="stranger@example.com", password="pw-long-enough-1")
    fund(stranger, 1_000_000)
    message = Message.objects.get(turn_id=b)
    with pytest.raises(NotFound):
        regenerate_reply(user=stranger, request_id="steal", message_id=message.pk)
    client = Client()
    client.force_login(stranger)
    assert client.post(f"/api/messages/{message.pk}/shown").status_code == 404
    assert client.post(f"/api/conversations/{message.turn.conversation_id}/branch", {"turn_id": b},
                       content_type="application/json").status_code == 404  # fmt: skip
    assert Message.objects.filter(turn_id=b).count() == 1 and balance(stranger) == 1_000_000


def test_showing_a_branch_opens_it_at_its_newest_turn(user, three_turns):
    conversation_id, a, b, c = three_turns
    b2 = answered(start_turn(user=user, request_id="b2", conversation_id=conversation_id, model_slugs=[MINI],
                             content="B2?", edit_of_turn_id=b), "b2!")  # fmt: skip
    conversation = Conversation.objects.get(pk=conversation_id)

    assert show_branch(conversation=conversation, turn_id=b) == c
    assert show_branch(conversation=conversation, turn_id=a) == b2  # the newest turn under A
    with pytest.raises(NotFound):
        show_branch(conversation=conversation, turn_id=10**9)


def test_the_conversation_json_has_every_branch_and_version(user, three_turns):
    conversation_id, a, b, c = three_turns
    answered(regenerate_reply(user=user, request_id="v2", message_id=Message.objects.get(turn_id=b).pk), "two")
    client = Client()
    client.force_login(user)

    data = client.get(f"/api/conversations/{conversation_id}/").json()

    assert data["current_turn_id"] == c
    assert [(t["id"], t["parent_id"]) for t in data["turns"]] == [(a, None), (b, a), (c, b)]
    b_turn = data["turns"][1]
    assert [(m["version"], m["current"], m["text"]) for m in b_turn["messages"]] == [(1, False, "b!"), (2, True, "two")]
    export = client.get(f"/api/conversations/{conversation_id}/export?format=md").content.decode()
    assert "two" in export and "b!" not in export  # the export is the branch as shown


def test_panel_settings_size_the_hold_and_reach_the_provider_call(user, openai_and_anthropic):
    fund(user, 10_000_000)
    default = start_turn(user=user, request_id="1", conversation_id=None, model_slugs=[MINI], content="Hi")
    limited = start_turn(user=user, request_id="2", conversation_id=None, model_slugs=[MINI], content="Hi",
                         panel_settings=[ReplySettings(temperature=Decimal("0.3"), max_output_tokens=50)])  # fmt: skip

    assert limited.held_credits < default.held_credits
    call = limited.replies[0].call
    assert (call.max_output_tokens, call.options.temperature) == (50, 0.3)
    message = limited.messages[0]
    assert (message.temperature, message.max_output_tokens) == (Decimal("0.3"), 50)
    conversation = Conversation.objects.get(pk=limited.turn.conversation_id)
    assert conversation.chosen_settings == [{"temperature": 0.3, "max_output_tokens": 50}]
    # A regenerated version keeps the settings it was asked with, unless new ones are given.
    answered(limited, "hello")
    again = regenerate_reply(user=user, request_id="3", message_id=message.pk)
    assert (again.replies[0].call.max_output_tokens, again.replies[0].call.options.temperature) == (50, 0.3)


def test_a_system_prompt_sent_with_the_first_turn_is_the_conversation_s(user, openai_and_anthropic):
    fund(user, 10_000_000)
    started = start_turn(user=user, request_id="1", conversation_id=None, model_slugs=[MINI], content="Hi",
                         system_prompt="  Answer in French.  ")  # fmt: skip
    assert sent_history(started)[0] == ("system", "Answer in French.")
    assert Conversation.objects.get(pk=started.turn.conversation_id).system_prompt == "Answer in French."


def test_a_temperature_above_what_the_provider_takes_is_refused_for_a_named_model(user, openai_and_anthropic):
    fund(user, 10_000_000)
    before = (Message.objects.count(), Hold.objects.count(), balance(user))
    hot = [ReplySettings(temperature=Decimal("1.5"))]
    with pytest.raises(InvalidRequest, match=r"Claude 3\.5 Haiku takes a temperature from 0 to 1\."):
        start_turn(user=user, request_id="1", conversation_id=None, model_slugs=["claude-3-5-haiku"], content="Hi",
                   panel_settings=hot)  # fmt: skip
    assert (Message.objects.count(), Hold.objects.count(), balance(user)) == before
    started = start_turn(user=user, request_id="2", conversation_id=None, model_slugs=[MINI], content="Hi",
                         panel_settings=hot)  # fmt: skip
    assert started.replies[0].call.options.temperature == 1.5  # OpenAI's range goes to 2


def test_auto_lowers_a_temperature_to_what_the_model_it_chose_takes(openai_and_anthropic):
    claude = AIModel.objects.select_related("provider").get(slug="claude-3-5-haiku")
    chosen = PanelChoice(AUTO, claude, route_task="chatbot", route_reason="a reason")
    assert _within_temperature_range(chosen, ReplySettings(temperature=Decimal("1.5"))).temperature == Decimal(1)
    named = PanelChoice("claude-3-5-haiku", claude)
    with pytest.raises(InvalidRequest):
        _within_temperature_range(named, ReplySettings(temperature=Decimal("1.01")))
