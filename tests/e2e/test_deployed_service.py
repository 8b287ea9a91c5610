"""Panels as it is deployed: Daphne on Redis for longer than a request, many streams at once, a process killed.

Short single-user tests on the in-memory layer hide what real users meet first: sockets that sit idle, replies
that think before their first token, a crowd on one process, a server that dies mid-reply. These tests run
against a real Daphne (on Redis and PostgreSQL in CI) and wait as long as those situations take.
"""

import time

import pytest
from websockets.exceptions import ConnectionClosed

from billing.models import Hold, Wallet
from chat.models import Message, Turn
from chat.protocol import SERVER_READ_LIMIT_BYTES
from standins.providers import SimulatorThread
from standins.races import run_at_once
from standins.servers import DaphneServer, provider_environment
from tests.e2e.sockets import Socket
from tests.factories import fund

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_SECONDS = 12  # longer than redis-py 8's default socket timeout (5 s) and channels-redis's BZPOPMIN (5 s)


@pytest.fixture(scope="module")
def simulator():
    with SimulatorThread(reply_tokens=40, tokens_per_second=200) as sim:
        yield sim


@pytest.fixture(scope="module")
def server(simulator, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server = DaphneServer(**provider_environment(simulator))
    yield server
    server.stop()


@pytest.mark.services
def test_an_idle_socket_on_redis_stays_open_and_answers(server, user):
    socket = Socket(server, user)
    try:
        time.sleep(QUIET_SECONDS)
        socket.send(type="ping")
        assert socket.receive(timeout=5) == {"type": "pong"}
    finally:
        socket.close()


@pytest.mark.services
def test_a_reply_silent_before_its_first_token_reaches_its_socket_and_the_socket_lives_on(server, user):
    fund(user, 2_000_000)
    socket = Socket(server, user)
    try:
        started = socket.send_turn(["gpt-4o-mini"], f"Think first [[sim:delay={QUIET_SECONDS}]]")
        message_id = started["messages"][0]["message_id"]
        done = socket.until_done([message_id], timeout=QUIET_SECONDS + 20)[message_id]
        assert done["status"] == "complete"
        assert socket.text(message_id) == Message.objects.get(pk=message_id).text
        socket.send(type="ping")
        assert socket.until(lambda f: f["type"] == "pong", timeout=5)
    finally:
        socket.close()


@pytest.mark.services
def test_a_reply_silent_in_the_middle_reaches_every_follower(server, user):
    fund(user, 2_000_000)
    sender, watcher = Socket(server, user), Socket(server, user)
    try:
        started = sender.send_turn(["gpt-4o-mini"], f"Pause a while [[sim:pause_after=3,pause={QUIET_SECONDS}]]")
        message_id = started["messages"][0]["message_id"]
        watcher.send(type="subscribe", conversation_id=started["conversation_id"], after_seq=0, message_id=message_id)
        for socket in (sender, watcher):
            assert socket.until_done([message_id], timeout=QUIET_SECONDS + 20)[message_id]["status"] == "complete"
        stored = Message.objects.get(pk=message_id).text
        assert sender.text(message_id) == watcher.text(message_id) == stored
    finally:
        sender.close()
        watcher.close()


@pytest.mark.services
def test_many_concurrent_streams_on_one_process_all_finish(server, django_user_model):
    """Every socket streams a reply at once; every one must see its `message.done` (none may hang)."""
    count = 150
    users = [django_user_model.objects.create_user(email=f"crowd{i}@example.com", password="x") for i in range(count)]
    for person in users:
        fund(person, 2_000_000)
    sockets = [Socket(server, person) for person in users]  # logins use the database: not from the threads

    def stream(i):
        socket = sockets[i]
        try:
            started = socket.send_turn(["gpt-4o-mini"], f"Crowd member {i} [[sim:tokens=200]]")
            message_id = started["messages"][0]["message_id"]
            done = socket.until_done([message_id], timeout=90)[message_id]
            return message_id, done["status"], socket.text(message_id)
        finally:
            socket.close()

    results = run_at_once(count, stream)
    failures = [r for r in results if not isinstance(r, tuple)]
    assert not failures, f"{len(failures)} of {count} streams failed, e.g. {failures[:3]}"
    stored = dict(Message.objects.filter(pk__in=[r[0] for r in results]).values_list("pk", "text"))
    assert all(status == "complete" and text == stored[pk] for pk, status, text in results)


def test_a_reply_cut_by_a_killed_process_is_finished_within_seconds(simulator, user):
    """SIGKILL the process streaming a reply, start another: the reply ends `interrupted`, its hold resolved."""
    fund(user, 2_000_000)
    doomed = DaphneServer(**provider_environment(simulator))
    socket = Socket(doomed, user)
    started = socket.send_turn(["gpt-4o-mini"], "Start, then think for minutes [[sim:pause_after=4,pause=300]]")
    message_id = started["messages"][0]["message_id"]
    socket.until(lambda f: f["type"] == "message.delta")
    doomed.process.kill()
    doomed.stop()
    killed_at = time.monotonic()

    successor = DaphneServer(**provider_environment(simulator))
    watcher = Socket(successor, user)
    try:
        watcher.send(type="subscribe", conversation_id=started["conversation_id"], after_seq=0, message_id=message_id)
        done = watcher.until_done([message_id], timeout=60)[message_id]
        assert time.monotonic() - killed_at < 45
    finally:
        watcher.close()
        successor.stop()
    assert done["status"] == "error" and done["error"]["code"] == "interrupted"
    message = Message.objects.get(pk=message_id)
    assert (message.status, message.error_code, message.credits) == ("error", "interrupted", done["credits"])
    assert Hold.objects.get(reference=f"message:{message_id}").status != Hold.Status.PENDING
    wallet = Wallet.objects.get(user=user)
    assert (wallet.held_credits, wallet.balance_credits) == (0, 2_000_000 - done["credits"])


def test_a_turn_past_the_process_limit_is_refused_busy_with_nothing_held(simulator, user):
    fund(user, 2_000_000)
    server = DaphneServer(**provider_environment(simulator), CHAT_MAX_STREAMS_PER_PROCESS="2")
    socket = Socket(server, user)
    try:
        first = socket.send_turn(["gpt-4o-mini", "claude-3-5-haiku"], "Two long ones [[sim:tokens=600]]")
        assert first["type"] == "turn.started"
        held = Wallet.objects.get(user=user).held_credits
        refused = socket.send_turn(["gpt-4o-mini"], "One more, please")
        assert (refused["type"], refused["code"], refused["retry_after"]) == ("error", "busy", 5)
        assert "try again in 5 seconds" in refused["detail"]
        assert Turn.objects.filter(user=user).count() == 1  # nothing written
        assert Wallet.objects.get(user=user).held_credits == held  # nothing held
        socket.until_done([m["message_id"] for m in first["messages"]], timeout=30)
        again = socket.send_turn(["gpt-4o-mini"], "One more, please")  # the slots came back
        assert again["type"] == "turn.started"
        socket.until_done([again["messages"][0]["message_id"]])
    finally:
        socket.close()
        server.stop()


def test_a_frame_the_database_could_not_store_is_answered_and_the_socket_stays_open(server, user):
    """PostgreSQL refuses a NUL in text: the frame is refused at the edge, before anything is written."""
    fund(user, 2_000_000)
    socket = Socket(server, user)
    try:
        refused = socket.send_turn(["gpt-4o-mini"], "A NUL \x00 in a prompt")
        assert (refused["type"], refused["code"]) == ("error", "invalid_request")
        assert "NUL character" in refused["detail"]
        assert not Turn.objects.filter(user=user).exists()
        socket.send(type="ping")
        assert socket.until(lambda f: f["type"] == "pong", timeout=5)
    finally:
        socket.close()


@pytest.mark.services
def test_a_stop_sent_to_another_process_stops_the_reply_where_it_streams(server, simulator, user):
    fund(user, 2_000_000)
    other = DaphneServer(**provider_environment(simulator))
    sender, stopper = Socket(server, user), Socket(other, user)
    try:
        started = sender.send_turn(["gpt-4o-mini"], "Go on and on [[sim:tokens=4000]]")
        message_id = started["messages"][0]["message_id"]
        sender.until(lambda f: f["type"] == "message.delta")
        stopper.send(type="stop", message_id=message_id, turn_id=None)
        done = sender.until_done([message_id])[message_id]
    finally:
        sender.close()
        stopper.close()
        other.stop()
    assert done["status"] == "stopped" and 0 < done["output_tokens"] < 4000
    assert Message.objects.get(pk=message_id).text == sender.text(message_id)


@pytest.mark.services
def test_with_redis_away_a_turn_still_starts_and_its_reply_still_ends(simulator, user, redis_server):
    """Redis dies under a connected socket, and a turn starts all the same.

    The first turn of a conversation enqueues its title (Celery, on Redis); its reply streams into a log it
    cannot reach, and its end reaches the socket from the database.
    """
    fund(user, 2_000_000)
    server = DaphneServer(**provider_environment(simulator), REDIS_URL=redis_server.url)
    socket = Socket(server, user)
    try:
        redis_server.stop()
        started = socket.send_turn(["gpt-4o-mini"], "Are you there?")
        assert started["type"] == "turn.started", started
        message_id = started["messages"][0]["message_id"]
        done = socket.until_done([message_id], timeout=60)[message_id]
        message = Message.objects.get(pk=message_id)
        assert (done["status"], message.status, done["credits"]) == ("complete", "complete", message.credits)
        assert socket.text(message_id) == message.text  # what the log never carried came with the end
    finally:
        socket.close()
        server.stop()
        redis_server.start()


def test_a_frame_up_to_the_protocol_s_limit_arrives_and_a_larger_one_is_answered(server, user):
    """Daphne's own limit (1 MiB by default) used to drop a 1.03 MiB prompt the protocol allows, with 1006."""
    fund(user, 20_000_000)
    socket = Socket(server, user)
    try:
        cjk = "\u4e2d" * 360_000  # 1.03 MiB of UTF-8, within the 2 MiB and 400,000 characters the protocol allows
        answer = socket.send_turn(["gemini-2.0-flash"], cjk)  # a 1M-token window takes 360,000 tokens
        assert answer["type"] == "turn.started", answer
        socket.until_done([answer["messages"][0]["message_id"]], timeout=60)
        assert Turn.objects.get(pk=answer["turn_id"]).content == cjk

        too_large = "\u4e2d" * 800_000  # 2.3 MiB: more than the protocol allows, less than the server reads
        refused = socket.send_turn(["gemini-2.0-flash"], too_large, request_id="too-large")
        assert (refused["type"], refused["code"]) == ("error", "invalid_request")
        assert "Frame too large" in refused["detail"]
        socket.send(type="ping")
        assert socket.until(lambda f: f["type"] == "pong", timeout=5)  # the socket is still open
        assert Turn.objects.filter(user=user).count() == 1

        with pytest.raises(ConnectionClosed):  # more than the server reads: it drops the connection, maybe mid-send
            socket.ws.send("x" * (SERVER_READ_LIMIT_BYTES + 1))
            socket.receive(timeout=10)
    finally:
        socket.close()
