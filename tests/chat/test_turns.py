"""Turn rules without a socket: history per panel, context fitting, what a reply is charged, titles."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Hold, Wallet
from chat.budget import fit_history
from chat.exceptions import ContextTooLong, TooManyInFlight
from chat.models import Conversation, Message, Turn
from chat.providers.base import Usage
from chat.selectors import threads_for
from chat.services import ReplyOutcome, charged_usage, regenerate_reply, start_turn
from chat.titles import title_from
from chat.tokens import estimate_tokens
from standins.races import run_at_once
from tests.factories import answer_turn, fund

pytestmark = pytest.mark.django_db


def reply(turn, panel, model, text, status="complete"):
    return Message.objects.create(
        turn=turn,
        panel=panel,
        model=model,
        requested_model=model.slug,
        text=text,
        status=status,
        finished_at=None if status == "streaming" else timezone.now(),
    )


def test_each_panel_continues_its_own_model_s_thread(user, priced_model):
    from catalog.models import AIModel

    other = AIModel.objects.get(slug="claude-3-5-haiku")
    conversation = Conversation.objects.create(user=user)
    first = Turn.objects.create(conversation=conversation, user=user, request_id="1", content="Q1")
    reply(first, 0, priced_model, "mini says 1")
    reply(first, 1, other, "claude says 1")
    second = Turn.objects.create(conversation=conversation, user=user, request_id="2", content="Q2", parent=first)
    reply(second, 0, other, "claude says 2 in panel 0")
    threads = threads_for(conversation, [(priced_model, 0), (other, 1)], second.pk)
    assert [[(prompt.content, reply) for prompt, reply in thread] for thread in threads] == [
        [("Q1", "mini says 1"), ("Q2", "claude says 2 in panel 0")],
        [("Q1", "claude says 1"), ("Q2", "claude says 2 in panel 0")],
    ]


def test_a_reply_still_streaming_is_not_part_of_the_history(user, priced_model):
    conversation = Conversation.objects.create(user=user)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id="1", content="Q1")
    reply(turn, 0, priced_model, "half a rep", status="streaming")
    assert threads_for(conversation, [(priced_model, 0)], turn.pk) == [[]]


def test_history_is_trimmed_oldest_first_keeping_the_system_prompt(priced_model):
    priced_model.context_window = 5_000  # with a 4,096-token output budget, ~900 tokens of input fit
    pairs = [("old " * 600, "reply " * 100), ("recent question", "recent answer")]
    messages, dropped, estimate = fit_history(
        system_prompt="Be brief.", pairs=pairs, content="Now?", model=priced_model
    )
    assert dropped == 1
    assert [(m.role, m.content) for m in messages] == [
        ("system", "Be brief."),
        ("user", "recent question"),
        ("assistant", "recent answer"),
        ("user", "Now?"),
    ]
    assert estimate == sum(estimate_tokens(m.content) + 4 for m in messages)


def test_a_prompt_that_cannot_fit_the_context_is_refused_with_its_size(priced_model):
    priced_model.context_window = 5_000
    with pytest.raises(ContextTooLong, match="too long for Test Mini"):
        fit_history(system_prompt="", pairs=[], content="word " * 2_000, model=priced_model)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        # reported usage is charged as reported
        (ReplyOutcome("hi", Usage(10, 5, cached_input_tokens=4), stopped=False), (10, 5, 4, False)),
        # a stop without usage: input plus the delivered text, estimated
        (ReplyOutcome("x" * 30, None, stopped=True), (100, 10, 0, True)),
        # stopped before any text: the input was still processed
        (ReplyOutcome("", None, stopped=True), (100, 0, 0, True)),
        # cut mid-stream with text: input plus delivered, estimated
        (ReplyOutcome("x" * 30, None, stopped=False, error_code="connection_dropped"), (100, 10, 0, True)),
    ],
)
def test_what_a_reply_is_charged(outcome, expected):
    usage = charged_usage(outcome, estimated_input_tokens=100)
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.estimated) == expected


def test_a_call_that_failed_before_any_output_is_not_charged():
    outcome = ReplyOutcome("", None, stopped=False, error_code="overloaded")
    assert charged_usage(outcome, estimated_input_tokens=100) is None


def test_a_person_may_have_only_so_many_turns_streaming(user, priced_model, settings):
    settings.CHAT_MAX_TURNS_IN_FLIGHT = 1
    settings.OPENAI_API_KEY = "sk-test"
    fund(user, 1_000_000)
    conversation = Conversation.objects.create(user=user)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id="busy", content="Q")
    reply(turn, 0, priced_model, "", status="streaming")
    with pytest.raises(TooManyInFlight, match="wait for one to finish"):
        start_turn(user=user, request_id="next", conversation_id=None, model_slugs=["gpt-4o-mini"], content="Hi")
    assert Turn.objects.count() == 1 and not Hold.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_turns_started_at_once_cannot_pass_the_in_flight_limit_together(user, settings):
    """Eight turns at once against a limit of three, each on its own connection: exactly three start.

    The limit used to be read before the turn was written, without a lock, so every racer saw room.
    """
    settings.CHAT_MAX_TURNS_IN_FLIGHT = 3
    settings.OPENAI_API_KEY = "sk-test"
    fund(user, 100_000_000)

    def start(i):
        return start_turn(
            user=user, request_id=f"race-{i}", conversation_id=None, model_slugs=["gpt-4o-mini"], content="Hi"
        )

    results = run_at_once(8, start)

    refused = [r for r in results if isinstance(r, TooManyInFlight)]
    assert len(refused) == 5, results
    assert Turn.objects.filter(user=user).count() == 3
    assert Hold.objects.count() == 3


def test_one_model_in_four_panels_is_four_calls_each_held_and_charged(user, settings):
    """Intended: sampling one model side by side; each panel is a call of its own, and paid as one."""
    settings.OPENAI_API_KEY = "sk-test"
    fund(user, 10_000_000)

    messages = answer_turn(user, ["gpt-4o-mini"] * 4, "Name a colour.", usage=Usage(10, 20))

    assert [(m.panel, m.model.slug) for m in messages] == [(panel, "gpt-4o-mini") for panel in range(4)]
    assert Hold.objects.filter(reference__in=[f"message:{m.pk}" for m in messages]).count() == 4
    one = messages[0].credits
    assert one > 0 and [m.credits for m in messages] == [one] * 4
    assert Wallet.objects.get(user=user).balance_credits == 10_000_000 - 4 * one


def test_a_title_is_the_start_of_the_first_prompt():
    assert title_from("\n  How do I brew green tea without it turning bitter? Asking for a friend") == (
        "How do I brew green tea without it…"
    )
    assert title_from("Short one.") == "Short one"


def test_a_new_conversation_is_titled_by_its_first_turn_and_a_person_s_title_is_kept(user, priced_model):
    fund(user, 1_000_000)
    first = start_turn(user=user, request_id="1", conversation_id=None, model_slugs=[priced_model.slug],
                       content="Plan a trip to Kyoto in May")  # fmt: skip
    conversation = first.turn.conversation
    assert first.titled == Conversation.objects.get(pk=conversation.pk).title == "Plan a trip to Kyoto in May"

    Conversation.objects.filter(pk=conversation.pk).update(title="Renamed by hand")
    start_turn(user=user, request_id="2", conversation_id=conversation.pk, model_slugs=[priced_model.slug],
               content="Now plan Osaka")  # fmt: skip
    assert Conversation.objects.get(pk=conversation.pk).title == "Renamed by hand"

    empty = Conversation.objects.create(user=user)  # made without a turn: its first turn titles it
    later = start_turn(user=user, request_id="3", conversation_id=empty.pk, model_slugs=[priced_model.slug],
                       content="Tea, briefly")  # fmt: skip
    assert later.titled == Conversation.objects.get(pk=empty.pk).title == "Tea, briefly"


def test_a_regenerated_panel_leaves_the_models_the_conversation_remembers(user, openai_and_anthropic):
    fund(user, 10_000_000)
    both = ["gpt-4o-mini", "claude-3-5-haiku"]
    first = start_turn(user=user, request_id="1", conversation_id=None, model_slugs=both, content="Name a tea.")
    conversation_id = first.turn.conversation_id

    again = regenerate_reply(user=user, request_id="2", message_id=first.messages[1].pk)

    assert [(m.requested_model, m.panel, m.version) for m in again.messages] == [("claude-3-5-haiku", 1, 2)]
    assert again.turn.pk == first.turn.pk  # in place: no new turn
    assert Conversation.objects.get(pk=conversation_id).chosen_models == both
    start_turn(user=user, request_id="3", conversation_id=conversation_id, model_slugs=["gpt-4o-mini"],
               content="And a coffee?")  # fmt: skip
    assert Conversation.objects.get(pk=conversation_id).chosen_models == ["gpt-4o-mini"]  # a choice is remembered


def abandoned_reply(user, model, *, streamed_by=None, request_id="1"):
    """Return a streaming reply with its hold placed and two deltas in a reply log, as a process left it."""
    from billing.services import HoldRequest, place_holds
    from chat.reply_log.in_memory import MemoryReplyLog

    fund(user, 1_000_000)
    conversation = Conversation.objects.create(user=user)
    turn = Turn.objects.create(conversation=conversation, user=user, request_id=request_id, content="Q")
    message = reply(turn, 0, model, "", status="streaming")
    Message.objects.filter(pk=message.pk).update(streamed_by=streamed_by)
    place_holds(user=user, requests=[HoldRequest(f"message:{message.pk}", model, 1_000, 1_000)])
    log = MemoryReplyLog()
    for seq, text in ((1, "x" * 15), (2, "y" * 15)):
        async_to_sync(_append)(log, str(message.stream_key), seq, message.pk, text)
    return message, log


async def _append(log, key, seq, message_id, text):
    log.append(key, seq, {"type": "message.delta", "message_id": message_id, "seq": seq, "text": text})


@pytest.mark.django_db(transaction=True)  # the sweep reaches the database as the server does (closing connections)
def test_a_reply_whose_process_stopped_beating_is_finished_from_its_log_and_charged_what_it_delivered(
    user, priced_model
):
    from datetime import timedelta

    from billing.models import Hold, LedgerEntry, Wallet
    from chat.housekeeping import finish_abandoned_replies
    from chat.liveness import DEAD_AFTER_SECONDS, record_heartbeat
    from chat.models import ServerProcess
    from chat.selectors import streaming_messages_in
    from chat.services import turns_in_flight

    process = str(uuid.uuid4())
    record_heartbeat(process_id=process)
    message, log = abandoned_reply(user, priced_model, streamed_by=process)
    key = str(message.stream_key)

    assert async_to_sync(finish_abandoned_replies)(log) == 0  # its process beats: the stream is alive
    assert turns_in_flight(user) == 1

    stale = timezone.now() - timedelta(seconds=DEAD_AFTER_SECONDS + 1)
    ServerProcess.objects.filter(pk=process).update(seen_at=stale)
    assert turns_in_flight(user) == 0  # a dead stream no longer blocks new turns
    assert streaming_messages_in(message.turn.conversation) == []  # nor is it announced to a subscriber
    assert async_to_sync(finish_abandoned_replies)(log) == 1
    message.refresh_from_db()
    assert (message.status, message.error_code, message.text) == ("error", "interrupted", "x" * 15 + "y" * 15)
    entry = LedgerEntry.objects.get(idempotency_key=f"usage:message:{message.pk}")
    assert entry.usage_estimated and (entry.input_tokens, entry.output_tokens) == (1_000, 10)
    assert message.credits == -entry.amount_credits
    assert Wallet.objects.get(user=user).held_credits == 0
    assert Hold.objects.get(reference=f"message:{message.pk}").status == "settled"
    frames = async_to_sync(log.read)(key)
    assert frames[-1]["type"] == "message.done" and frames[-1]["error"]["code"] == "interrupted"  # followers end
    assert async_to_sync(finish_abandoned_replies)(log) == 0  # once
    assert len(async_to_sync(log.read)(key)) == 3


@pytest.mark.django_db(transaction=True)
def test_a_reply_of_this_live_process_that_no_task_streams_is_finished(user, priced_model):
    """A turn written whose replies never started (a failure between the two) does not hold credits forever."""
    from datetime import timedelta

    from chat.housekeeping import finish_abandoned_replies
    from chat.liveness import PROCESS_ID, record_heartbeat
    from chat.selectors import abandoned_replies

    record_heartbeat()  # this process is alive and beating
    message, log = abandoned_reply(user, priced_model, streamed_by=PROCESS_ID)
    assert async_to_sync(finish_abandoned_replies)(log) == 0  # just written: its task may be about to start
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(seconds=11))
    streams_it = {"running": {message.pk}, "known_before": timezone.now()}
    assert not abandoned_replies(this_process=PROCESS_ID, **streams_it).exists()  # a task streams it
    assert async_to_sync(finish_abandoned_replies)(log) == 1  # no task does
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("error", "interrupted")
    assert Hold.objects.get(reference=f"message:{message.pk}").status != "pending"


@pytest.mark.django_db(transaction=True)
def test_a_turn_whose_tasks_start_late_is_not_taken_for_an_orphan_however_long_the_wait(
    user, priced_model, monkeypatch
):
    """Under load a turn is written long before its tasks start; a sweep in between leaves its replies alone."""
    from datetime import timedelta

    from chat import selectors
    from chat.housekeeping import finish_abandoned_replies
    from chat.liveness import PROCESS_ID, record_heartbeat
    from chat.relay import admitting

    monkeypatch.setattr(selectors, "ORPHANED_AFTER", timedelta(0))  # as if the loop lagged past the grace
    record_heartbeat()
    with admitting():  # the consumer is between writing the turn and starting its tasks
        message, log = abandoned_reply(user, priced_model, streamed_by=PROCESS_ID)
        assert async_to_sync(finish_abandoned_replies)(log) == 0
        message.refresh_from_db()
        assert message.status == "streaming"
    assert async_to_sync(finish_abandoned_replies)(log) == 1  # the admission ended without starting it


@pytest.mark.django_db(transaction=True)
def test_a_reply_written_after_the_running_replies_were_read_is_not_an_orphan(user, priced_model, monkeypatch):
    """The sweep reads what runs on the loop, then queries in a thread: a turn started in between is not taken."""
    from datetime import timedelta

    from chat import selectors
    from chat.liveness import PROCESS_ID, record_heartbeat
    from chat.relay import running_replies
    from chat.selectors import abandoned_replies

    monkeypatch.setattr(selectors, "ORPHANED_AFTER", timedelta(0))
    record_heartbeat()
    earlier, _ = abandoned_reply(user, priced_model, streamed_by=PROCESS_ID)
    running = running_replies()
    later, _ = abandoned_reply(user, priced_model, streamed_by=PROCESS_ID, request_id="2")
    orphans = abandoned_replies(this_process=PROCESS_ID, running=running.ids, known_before=running.known_before)
    assert later not in orphans  # its task may be running by now: a later sweep decides
    assert list(orphans) == [earlier]


@pytest.mark.django_db(transaction=True)
def test_a_reply_no_live_process_claims_is_finished_only_when_its_hold_is_about_to_expire(user, priced_model):
    from datetime import timedelta

    from chat.housekeeping import finish_abandoned_replies
    from chat.services import turns_in_flight

    message, log = abandoned_reply(user, priced_model, streamed_by=str(uuid.uuid4()))  # never beat
    assert async_to_sync(finish_abandoned_replies)(log) == 0
    assert turns_in_flight(user) == 1
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=15))
    assert async_to_sync(finish_abandoned_replies)(log) == 1
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("error", "interrupted")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("plain ascii text", 6),  # 16 ASCII characters: ceil(16 / 3), more than its 3 pieces
        ("héllo wörld", 6),  # 4 runs of ASCII letters (more than ceil(9 / 3)) + 2 others
        ("日本語のテキスト", 8),  # one a character
        ("emoji 🎉!", 4),  # 7 ASCII (ceil: 3) + 1 other
        ("", 0),
        # Dense text: a piece per run of letters, per 3 digits, per mark and per line break.
        ("id,total\n1,12345\n", 9),  # id , total \n 1 , 123 45 \n (17 characters would say 6)
        ('{"a": [1, 2, 3]}', 13),  # every mark and digit (16 characters would say 6)
    ],
)
def test_token_estimates_count_three_ascii_characters_a_piece_or_one_other_character_a_token(text, tokens):
    assert estimate_tokens(text) == tokens


@pytest.mark.django_db(transaction=True)
def test_a_sweep_with_nothing_to_do_writes_nothing(user):
    """Every server sweeps every few seconds, also while tests reset the database between them."""
    from billing.models import BillingSettings
    from chat.housekeeping import sweep
    from chat.reply_log.in_memory import MemoryReplyLog

    BillingSettings.objects.all().delete()
    async_to_sync(sweep)(MemoryReplyLog())
    assert not BillingSettings.objects.exists()  # read with its defaults, not created


@pytest.mark.django_db
def test_a_turn_reads_the_catalog_and_the_conversation_once_however_many_panels(user, openai_and_anthropic, settings):
    settings.CHAT_MAX_TURNS_IN_FLIGHT = 10
    fund(user, 10_000_000)
    earlier = answer_turn(user, ["gpt-4o-mini", "claude-3-5-haiku"], "First question", usage=Usage(10, 10))
    conversation_id = earlier[0].turn.conversation_id

    def statements(request_id: str, models: list[str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            start_turn(user=user, request_id=request_id, conversation_id=conversation_id, model_slugs=models,
                       content="And then?")  # fmt: skip
        return len(queries)

    one = statements("one-panel", ["gpt-4o-mini"])
    four = statements("four-panels", ["gpt-4o-mini", "claude-3-5-haiku", "gpt-4o-mini", "claude-3-5-haiku"])

    # Messages and holds are written in one statement each, whatever the panels; the catalog, the thread and
    # the prices are read once. A follow-up turn sent 24 statements before its admission was trimmed.
    assert four == one <= 18
