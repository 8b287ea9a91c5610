"""Winners: marking a turn's best reply, the wins per task on the usage page, and my routing in Auto."""

import json

import pytest
from django.test import Client

from chat.models import Conversation, Message, Turn
from chat.providers.base import Usage
from chat.router.classify import Task, classify
from chat.router.preferences import MIN_SHARE, MIN_WINS, Preference, preferences_from
from chat.router.table import ROUTES, Candidate, choose, lowered
from chat.selectors import my_routing_for, wins_for
from chat.services import choose_panels
from chat.views import conversation_json
from chat.winners import set_my_routing, set_winner
from errors import InvalidRequest
from tests.factories import answer_turn, fund

CODE_PROMPT = """Can you review this function? I think there's a bug.

```python
def last_n(items, n):
    return items[len(items) - n - 1:]
```"""
QUESTION = "what's the difference between a latte and a flat white"
BOTH = ["gpt-4o-mini", "claude-3-5-haiku"]
USAGE = Usage(10, 20)


# --- The router alone: preferences in, a choice and its reason out ---------------------------------------


def candidate(slug: str, name: str, *, context_window: int = 200_000, available: bool = True) -> Candidate:
    return Candidate(slug, name, context_window, 8_192, 4_096, offered=True, available=available)


CREDITS_PER_TOKEN = {"gpt-4o-mini": 1, "claude-3-5-haiku": 5}


def per_token(slug: str, *, input_tokens: int, output_tokens: int) -> int:
    return CREDITS_PER_TOKEN[slug] * (input_tokens + output_tokens)


CATALOG = [candidate("gpt-4o-mini", "GPT-4o mini"), candidate("claude-3-5-haiku", "Claude 3.5 Haiku")]
PREFERS_MINI_FOR_CODE = {"code_review": Preference("gpt-4o-mini", wins=5, decided=6)}


def test_a_settled_preference_is_chosen_over_the_table_and_the_reason_says_so():
    table = choose(prompt=CODE_PROMPT, catalog=CATALOG, rules={}, estimate=per_token)

    mine = choose(prompt=CODE_PROMPT, catalog=CATALOG, rules={}, estimate=per_token, preferences=PREFERS_MINI_FOR_CODE)

    assert (table.model.slug, mine.model.slug) == ("claude-3-5-haiku", "gpt-4o-mini")
    assert mine.reason.startswith(
        "You picked GPT-4o mini as the best reply for code review and explanation in 5 of 6 turns. "
        "Code review and explanation: a fenced code block"
    )
    assert [alternative.model.slug for alternative in mine.alternatives] == ["claude-3-5-haiku"]
    assert mine.comparison.slug == "claude-3-5-haiku"  # still compared with the other candidate
    assert mine.task == Task.CODE_REVIEW


def test_a_preference_for_another_task_leaves_the_choice_and_its_reason_as_the_table_makes_them():
    table = choose(prompt=QUESTION, catalog=CATALOG, rules={}, estimate=per_token)

    mine = choose(prompt=QUESTION, catalog=CATALOG, rules={}, estimate=per_token, preferences=PREFERS_MINI_FOR_CODE)

    assert mine == table


@pytest.mark.parametrize(
    ("wins", "decided"),
    [
        (MIN_WINS - 1, MIN_WINS - 1),  # always picked, but too few times yet
        (MIN_WINS, 6),  # half of the turns: no clear preference
        (5, 9),  # 56%, under the share
    ],
)
def test_too_few_or_too_mixed_marks_leave_the_table_in_charge(wins, decided):
    table = choose(prompt=CODE_PROMPT, catalog=CATALOG, rules={}, estimate=per_token)
    preferences = {"code_review": Preference("gpt-4o-mini", wins=wins, decided=decided)}

    mine = choose(prompt=CODE_PROMPT, catalog=CATALOG, rules={}, estimate=per_token, preferences=preferences)

    assert not preferences["code_review"].settled
    assert mine == table


def test_three_wins_in_sixty_percent_of_the_task_s_turns_settle_a_preference():
    assert (MIN_WINS, MIN_SHARE) == (3, 0.6)  # chosen on simulated people: bench/my_routing.py, docs/routing.md
    assert Preference("gpt-4o-mini", wins=3, decided=5).settled
    assert Preference("gpt-4o-mini", wins=3, decided=3).settled
    assert not Preference("gpt-4o-mini", wins=2, decided=2).settled
    assert not Preference("gpt-4o-mini", wins=3, decided=6).settled


PREFERS_HAIKU_FOR_CHAT = {"general_chat": Preference("claude-3-5-haiku", wins=4, decided=4)}


@pytest.mark.parametrize(
    ("catalog", "history_tokens", "ceiling"),
    [
        ([CATALOG[0], candidate("claude-3-5-haiku", "Claude 3.5 Haiku", available=False)], 0, None),
        ([CATALOG[0], candidate("claude-3-5-haiku", "Claude 3.5 Haiku", context_window=8_000)], 5_000, None),
        (CATALOG, 0, per_token("gpt-4o-mini", input_tokens=600, output_tokens=0)),  # GPT-4o mini fits, Claude not
    ],
    ids=["unavailable", "too-small", "over-ceiling"],
)
def test_a_preferred_model_that_fails_the_rules_falls_back_to_the_table_with_the_normal_reason(
    catalog, history_tokens, ceiling
):
    asked = {"prompt": QUESTION, "catalog": catalog, "rules": {}, "estimate": per_token}
    asked |= {"history_tokens": history_tokens, "ceiling_credits": ceiling}
    table = choose(**asked)

    mine = choose(**asked, preferences=PREFERS_HAIKU_FOR_CHAT)

    assert (table.model.slug, mine.model.slug) == ("gpt-4o-mini", "gpt-4o-mini")
    assert mine.reason == table.reason
    assert "You picked" not in mine.reason


def test_a_long_reason_is_clipped_at_the_classifier_s_signals_not_at_the_person_s_preference():
    prompt = CODE_PROMPT + "\n\nAlso explain the refactor, the lint errors, the unit tests and the docker build."

    mine = choose(prompt=prompt, catalog=CATALOG, rules={}, estimate=per_token, preferences=PREFERS_MINI_FOR_CODE)

    assert len(mine.reason) <= 300
    assert mine.reason.startswith("You picked GPT-4o mini as the best reply for code review and explanation in 5 of 6")


def test_a_task_s_preference_is_its_most_marked_model_out_of_all_its_marked_turns():
    rows = [("code_review", "gpt-4o-mini", 4), ("code_review", "claude-3-5-haiku", 2), ("general_chat", "b", 1)]
    rows += [("general_chat", "a", 1)]

    preferences = preferences_from(rows)

    assert preferences["code_review"] == Preference("gpt-4o-mini", wins=4, decided=6)
    assert preferences["general_chat"] == Preference("a", wins=1, decided=2)  # a tie: alphabetical, never settled


def test_a_label_is_lowered_mid_sentence_unless_it_starts_with_an_acronym():
    assert lowered(ROUTES[Task.CODE_REVIEW].label) == "code review and explanation"
    assert lowered(ROUTES[Task.RAG_RERANK].label).startswith("RAG")


# --- Marking a winner ------------------------------------------------------------------------------------


@pytest.fixture
def funded(user, openai_and_anthropic):
    fund(user, 100_000_000)
    return user


def turn_of(messages: list[Message]) -> Turn:
    return Turn.objects.get(pk=messages[0].turn_id)


@pytest.mark.django_db
def test_marking_a_reply_records_it_and_the_task_of_the_prompt(funded):
    mini, haiku = answer_turn(funded, BOTH, CODE_PROMPT, usage=USAGE)

    set_winner(turn=turn_of([mini]), message=haiku)

    turn = turn_of([mini])
    assert (turn.winner_id, turn.winner_task) == (haiku.pk, "code_review")


@pytest.mark.django_db
def test_an_auto_reply_counts_for_the_task_auto_recognised(funded):
    auto, mini = answer_turn(funded, ["auto", "gpt-4o-mini"], QUESTION, usage=USAGE)

    set_winner(turn=turn_of([auto]), message=auto)
    after_auto = turn_of([auto]).winner_task
    set_winner(turn=turn_of([auto]), message=mini)

    assert auto.route_task == "general_chat"
    assert after_auto == auto.route_task
    assert turn_of([auto]).winner_task == classify(QUESTION).task.value


@pytest.mark.django_db
def test_one_winner_per_turn_marking_another_moves_it_and_none_clears_it(funded):
    mini, haiku = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    turn = turn_of([mini])

    set_winner(turn=turn, message=mini)
    set_winner(turn=turn, message=haiku)
    moved = turn_of([mini]).winner_id
    set_winner(turn=turn, message=None)

    assert moved == haiku.pk
    assert (turn_of([mini]).winner_id, turn_of([mini]).winner_task) == (None, "")


@pytest.mark.django_db
def test_a_reply_of_another_turn_is_refused_and_the_turn_keeps_its_winner(funded):
    mini, _ = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    other, _ = answer_turn(funded, BOTH, CODE_PROMPT, usage=USAGE)
    set_winner(turn=turn_of([mini]), message=mini)

    with pytest.raises(InvalidRequest, match="not one of this turn's"):
        set_winner(turn=turn_of([mini]), message=other)

    assert (turn_of([mini]).winner_id, turn_of([mini]).winner_task) == (mini.pk, "general_chat")


@pytest.mark.django_db
def test_a_single_reply_is_not_a_comparison_and_cannot_be_marked(funded):
    (only,) = answer_turn(funded, ["gpt-4o-mini"], QUESTION, usage=USAGE)

    with pytest.raises(InvalidRequest, match="two replies or more"):
        set_winner(turn=turn_of([only]), message=only)

    assert turn_of([only]).winner_id is None


# --- PUT /api/turns/<id>/winner --------------------------------------------------------------------------


def put_winner(client: Client, turn_id: int, body) -> tuple[int, dict]:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.put(f"/api/turns/{turn_id}/winner", raw, content_type="application/json")
    return response.status_code, response.json() if response.content else {}


@pytest.mark.django_db
def test_the_endpoint_marks_and_clears_and_the_conversation_json_shows_it(client, funded):
    mini, haiku = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    client.force_login(funded)

    marked = put_winner(client, mini.turn_id, {"message_id": haiku.pk})
    shown = conversation_json(turn_of([mini]).conversation)["turns"][0]["winner_id"]
    cleared = put_winner(client, mini.turn_id, {"message_id": None})

    assert marked == (200, {"turn_id": mini.turn_id, "winner_id": haiku.pk, "winner_task": "general_chat"})
    assert shown == haiku.pk
    assert cleared == (200, {"turn_id": mini.turn_id, "winner_id": None, "winner_task": ""})


@pytest.mark.django_db
def test_another_person_s_turn_is_a_404_and_stays_unmarked(client, funded, django_user_model):
    mini, _ = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    client.force_login(eve)

    status, body = put_winner(client, mini.turn_id, {"message_id": mini.pk})

    assert (status, body["error"]) == (404, "not_found")
    assert turn_of([mini]).winner_id is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    ["not json", [], {}, {"message_id": "1"}, {"message_id": True}, {"message_id": 1, "extra": 1}],
    ids=["not-json", "list", "empty", "string-id", "bool-id", "extra-field"],
)
def test_a_malformed_body_is_a_400_and_changes_nothing(client, funded, body):
    mini, _ = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    set_winner(turn=turn_of([mini]), message=mini)
    client.force_login(funded)

    status, answer = put_winner(client, mini.turn_id, body)

    assert (status, answer["error"]) == (400, "invalid_request")
    assert turn_of([mini]).winner_id == mini.pk


@pytest.mark.django_db
def test_a_reply_of_another_turn_or_person_is_a_400(client, funded, django_user_model):
    mini, _ = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    other, _ = answer_turn(funded, BOTH, CODE_PROMPT, usage=USAGE)
    client.force_login(funded)

    mine = put_winner(client, mini.turn_id, {"message_id": other.pk})
    missing = put_winner(client, mini.turn_id, {"message_id": 10**12})

    assert mine == missing == (400, {"error": "invalid_request", "detail": "That reply is not one of this turn's."})
    assert turn_of([mini]).winner_id is None


@pytest.mark.django_db
def test_the_endpoint_needs_a_login_the_csrf_token_and_a_put(client, funded):
    mini, _ = answer_turn(funded, BOTH, QUESTION, usage=USAGE)
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(funded)
    url = f"/api/turns/{mini.turn_id}/winner"
    body = json.dumps({"message_id": mini.pk})

    anonymous = client.put(url, body, content_type="application/json").status_code
    no_token = guarded.put(url, body, content_type="application/json").status_code
    client.force_login(funded)
    posted = client.post(url, body, content_type="application/json").status_code

    assert (anonymous, no_token, posted) == (401, 403, 405)
    assert turn_of([mini]).winner_id is None


# --- Wins per task ---------------------------------------------------------------------------------------


def mark(user, models: list[str], prompt: str, winner: str) -> None:
    """Answer a side-by-side turn and mark the reply of the model `winner` best."""
    messages = answer_turn(user, models, prompt, usage=USAGE)
    set_winner(turn=turn_of(messages), message=next(m for m in messages if m.model.slug == winner))


@pytest.mark.django_db
def test_wins_count_per_task_and_model_out_of_the_task_s_marked_turns(funded, django_user_model):
    for winner in ("claude-3-5-haiku", "claude-3-5-haiku", "gpt-4o-mini"):
        mark(funded, BOTH, QUESTION, winner)
    mark(funded, BOTH, CODE_PROMPT, "gpt-4o-mini")
    answer_turn(funded, BOTH, QUESTION, usage=USAGE)  # not marked: not counted
    eve = django_user_model.objects.create_user(email="eve@example.com", password="x-long-passphrase")
    fund(eve, 100_000_000)
    mark(eve, BOTH, QUESTION, "gpt-4o-mini")

    wins = wins_for(funded)

    assert [(task.task, task.decided) for task in wins] == [("general_chat", 3), ("code_review", 1)]
    assert [(model.slug, model.wins, round(model.share, 3)) for model in wins[0].models] == [
        ("claude-3-5-haiku", 2, 0.667),
        ("gpt-4o-mini", 1, 0.333),
    ]
    assert wins[0].label == "General chat"


@pytest.mark.django_db
def test_the_usage_page_shows_the_winners_table(client, funded):
    for _ in range(2):
        mark(funded, BOTH, QUESTION, "claude-3-5-haiku")
    client.force_login(funded)

    page = client.get("/billing/usage/").content.decode()

    assert 'data-testid="winners"' in page
    assert '<tbody data-task="general_chat">' in page
    assert "2 of 2" in page and "100%" in page


# --- My routing through the services ---------------------------------------------------------------------


@pytest.mark.django_db
def test_opted_in_auto_prefers_the_model_the_person_picks_for_the_task(funded):
    for winner in ("claude-3-5-haiku",) * MIN_WINS + ("gpt-4o-mini",):
        mark(funded, BOTH, QUESTION, winner)
    conversation = Conversation(user=funded)
    off = choose_panels(["auto"], content=QUESTION, conversation=conversation)

    set_my_routing(user=funded, enabled=True)
    (on,) = choose_panels(["auto"], content=QUESTION, conversation=conversation)

    assert [choice.model.slug for choice in off] == ["gpt-4o-mini"]  # the table, with the opt-in off
    assert off[0].route_reason.startswith("General chat:")
    assert on.model.slug == "claude-3-5-haiku"
    assert on.route_reason.startswith(
        f"You picked Claude 3.5 Haiku as the best reply for general chat in {MIN_WINS} of {MIN_WINS + 1} turns."
    )
    assert on.route_task == "general_chat"


@pytest.mark.django_db
def test_a_named_model_is_never_redirected_by_my_routing(funded):
    for _ in range(MIN_WINS):
        mark(funded, BOTH, QUESTION, "claude-3-5-haiku")
    set_my_routing(user=funded, enabled=True)

    (named,) = choose_panels(["gpt-4o-mini"], content=QUESTION, conversation=Conversation(user=funded))

    assert (named.model.slug, named.route_reason) == ("gpt-4o-mini", "")


@pytest.mark.django_db
def test_my_routing_reads_nothing_until_the_person_opts_in(funded, django_assert_num_queries):
    mark(funded, BOTH, QUESTION, "claude-3-5-haiku")

    with django_assert_num_queries(0):
        assert my_routing_for(funded) is None
    set_my_routing(user=funded, enabled=True)

    assert my_routing_for(funded) == {"general_chat": Preference("claude-3-5-haiku", wins=1, decided=1)}


@pytest.mark.django_db
def test_the_settings_page_turns_my_routing_on_and_off(client, funded):
    client.force_login(funded)

    shown = client.get("/billing/settings/").content.decode()
    on = client.post("/billing/settings/my-routing", {"routes_by_my_winners": "on"})
    after_on = type(funded).objects.get(pk=funded.pk).routes_by_my_winners
    off = client.post("/billing/settings/my-routing", {})

    assert "Let Auto learn from the replies I mark best" in shown
    assert (on.status_code, on["Location"]) == (302, "/billing/settings/")
    assert after_on is True
    assert off.status_code == 302
    assert type(funded).objects.get(pk=funded.pk).routes_by_my_winners is False
