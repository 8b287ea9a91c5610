"""Soak Panels as it is deployed, with faults, and fail loudly if anything is lost.

Starts the production topology on loopback (bench/stack.py: a PostgreSQL database of its own, its own Redis,
the provider simulator, two Daphne processes, a Celery worker and beat), then plays simulated users: each one
a websocket on one of the Daphnes, sending turns of 1 to 4 panels with think time between them, continuing
conversations sometimes, holding sockets idle for minutes, dropping its socket mid-reply and resuming with
`after_seq`. Now and then a send follows the last turn its tab saw (`after_turn_id`) or edits an earlier
prompt (`edit_of_turn_id`), carries per-panel settings (a temperature, a small `max_output_tokens`) or, for a
new conversation, a system prompt, and an action is a `regenerate` of an earlier reply; one user in three has
a second tab on the same account, on the other Daphne, that sends nothing and follows every turn its other tab
starts (the `turn.started` it is told, then a `subscribe` per reply from seq 0). One simulated user in six is
a program instead: a funded user with an API key of its own (one key in three with a daily spend limit it
reaches), calling POST /v1/chat/completions on a Daphne chosen at random, with the same models (and `auto`)
and prompt faults: streamed with `include_usage` mostly, whole sometimes, hanging up mid-reply sometimes, and
without pausing while Redis is down. Injected faults: provider 429/500/529 (some recovered by the SDK's
retry), streams cut mid-way, stalls of 10-45 s before the first token and between tokens, client stops, a
Daphne process SIGKILLed mid-run and restarted (its clients reconnect, resubscribe and resend unanswered turns
with the same request_id), Redis restarted (losing everything), the Celery worker SIGKILLed and restarted.
About one send in seven attaches files first (bench/soak_attachments.py): a PNG, sometimes a .csv file,
sometimes a PDF long enough to be read by the Celery worker, uploaded over HTTP to a live Daphne, the PDF polled
until it is read, then named in `attachment_ids` (those sends name only models with vision).

When the load stops and the replies in flight have ended, it checks the database and what the clients saw:
every send answered, no reply left streaming, every followed reply's `message.done` received, the text
assembled from deltas equal to the saved text, exactly one usage ledger entry per charged reply matching the
`message.done` credits, no pending hold, `manage.py verify_ledger` clean, no negative balance; every version
of a reply settled or released like the first, one current version per panel, each turn's parent in its
conversation and the one its send implies, no reply above its `max_output_tokens` (reported usage), and each
second tab told every turn its other tab started while it was connected (a miss allowed only across the killed
Daphne or the Redis restart, counted apart) and its followed replies ending as saved. For the API: every call
answered (a status, or a dropped connection only while its Daphne was killed), no call left streaming, the
credits of each usage chunk or completion equal to its call's ledger entry (which names the key), the program
and the database agreeing on how each call ended, completed calls' text non-empty, every key holding nothing
and having spent exactly its usage entries (never more in a day than its daily limit), 402 only for a key at
its limit, errors only from injected provider faults (never a 500). For attachments: each attached send's files
on its turn, as its `turn.started` named them; each completed reply of it saw the image (the simulator's `Seen:`
line), counted `attachment_tokens` and was held for at least the input reported; every PDF read in the end (none
left `reading`); every upload answered 201 and every poll 200. It prints the figures (and `--markdown
FILE` writes them as a section) and exits 1 if any check fails. Everything it started (processes, Redis, the
database) is removed at the end, also on failure or Ctrl-C.

    .venv/bin/python bench/soak.py            # full: 300 users (50 on the API), 5 minutes of load (~10 in all)
    .venv/bin/python bench/soak.py --quick    # 36 users (6 on the API), about a minute of load (2-3 in all)

The database is created on the PostgreSQL server of DATABASE_URL (default
postgres://panels:panels@127.0.0.1:5432/panels; the role needs CREATEDB); that database itself is not used.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx2
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak_attachments import (
    ATTACH_PROBABILITY,
    HTTP_TIMEOUT,
    PDF_READ_WAIT,
    AttachmentTally,
    Composer,
    Uploaded,
    plan_files,
)
from bench.stack import PYTHON, ROOT, Daphne, Stack, StackOptions, funded_users, use_database_here

CORE_MODELS = ("gpt-4o-mini", "claude-3-5-haiku")
EXTRA_PROVIDERS = ("gemini", "mistral")
FUNDING_CREDITS = 1_000_000_000
PANEL_WEIGHTS = {1: 0.4, 2: 0.3, 3: 0.2, 4: 0.1}
TOPICS = ("tea", "rivers", "compilers", "bread", "tides", "chess openings", "ledgers", "owls", "glaciers")
PROMPT_FAULTS = ("429", "500", "529", "429-retried", "cut", "delay", "pause")
CLIENT_FAULTS = ("disconnect", "stop")
INTERRUPTED_WITHIN_SECONDS = 45  # a killed process's replies end `interrupted` this soon (the product says ~30)
API_SHARE = 6  # one simulated user in six is a program calling /v1/chat/completions with a key of its own
API_LIMITED_SHARE = 3  # one API key in three has a daily spend limit
API_HANGUP = "hangup"  # a program's own fault: it closes the connection mid-reply
API_FORMS = {"stream": 0.7, "stream without usage": 0.1, "whole": 0.2}
API_AUTO_PROBABILITY = 0.15
API_NO_MAX_TOKENS_PROBABILITY = 0.1  # the hold then covers the site's reply budget: a limited key may refuse it
API_TYPICAL_CALL = (60, 75)  # input and output tokens of an average call, to size the daily limits
PROVIDER_ERROR_FAULTS = ("429", "500", "529", "cut")  # the faults an API call may answer with an error
PROVIDER_ERROR_STATUSES = (429, 502, 503, 504)
API_TIMEOUT = httpx2.Timeout(120, connect=10)  # longer than any injected stall
# Branches, versions and settings: how often a user plays each (the rest of the mix is as before).
REGENERATE_PROBABILITY = 0.1  # an action is a `regenerate` of a reply of an earlier turn
REGENERATE_SETTINGS_PROBABILITY = 0.5  # a regenerate carries panel_settings
AFTER_TURN_PROBABILITY = 0.3  # a continued conversation's send names `after_turn_id`
EDIT_PROBABILITY = 0.12  # ... or is an edit (`edit_of_turn_id`) of an earlier turn
SETTINGS_PROBABILITY = 0.15  # a send carries panel_settings
SYSTEM_PROMPT_PROBABILITY = 0.3  # a new conversation's send carries a system prompt
LIMITED_OUTPUT_TOKENS = (8, 60)  # a panel's max_output_tokens, when it has one: below most replies' length
TEMPERATURES = (None, 0, 0.35, 1, 1.7)
ANTHROPIC_MODELS = ("claude-3-5-haiku",)  # their temperature ends at 1 (a named model above it is refused)
SECOND_TAB_SHARE = 3  # one browser user in three has a second tab on the same account, following the first
TAB_JOIN_SECONDS = 2.0  # a socket joins its user's group just after its handshake: turns sooner are not expected
TAB_TOLD_WAIT_SECONDS = 20  # at the end, how long a second tab still waits to be told of its other tab's last turns
REDIS_RESTART_GRACE = 5  # the channel layer resubscribes this soon after Redis is back (it retries every second)


@dataclass(frozen=True)
class Mode:
    """How big and how long a run is, and how often each fault happens."""

    name: str
    users: int
    load_seconds: float
    arrival_seconds: float  # users open their sockets and send their first turn spread over this long
    think_seconds: tuple[float, float]
    api_think_seconds: tuple[float, float]  # a program's pause between calls
    idle_probability: float  # per behaviour step: hold the socket idle instead of thinking
    idle_seconds: tuple[float, float]
    stall_seconds: tuple[int, int]
    tokens: tuple[int, int]
    fault_probability: dict[str, float]
    daphne_kill_at: float  # fractions of the load time
    worker_kill_at: float
    redis_restart_at: float
    drain_seconds: float
    api_daily_limit_calls: int  # a limited key's daily limit: this many average calls


FULL = Mode(
    name="full",
    users=300,
    load_seconds=300,
    arrival_seconds=45,
    # A reply costs a Daphne about 0.15 CPU-s: 300 users thinking 20-70 s send ~5 turns (~10 replies) a second,
    # about what two cores carry beside Redis, PostgreSQL, Celery, the simulator and these clients.
    think_seconds=(20, 70),
    api_think_seconds=(5, 30),
    idle_probability=0.06,
    idle_seconds=(60, 180),
    stall_seconds=(10, 45),
    tokens=(20, 120),
    fault_probability={
        "429": 0.02,
        "500": 0.02,
        "529": 0.02,
        "429-retried": 0.02,
        "cut": 0.04,
        "delay": 0.025,
        "pause": 0.025,
        "disconnect": 0.05,
        "stop": 0.02,
    },
    daphne_kill_at=0.2,
    worker_kill_at=0.4,
    redis_restart_at=0.65,
    drain_seconds=150,
    api_daily_limit_calls=4,
)
QUICK = Mode(
    name="quick",
    users=36,
    load_seconds=65,
    arrival_seconds=8,
    think_seconds=(2, 6),
    api_think_seconds=(1, 4),
    idle_probability=0.05,
    idle_seconds=(20, 40),
    stall_seconds=(11, 18),
    tokens=(30, 120),
    fault_probability={
        "429": 0.03,
        "500": 0.02,
        "529": 0.03,
        "429-retried": 0.02,
        "cut": 0.05,
        "delay": 0.03,
        "pause": 0.03,
        "disconnect": 0.07,
        "stop": 0.03,
    },
    daphne_kill_at=10 / 65,
    worker_kill_at=22 / 65,
    redis_restart_at=48 / 65,
    drain_seconds=90,
    api_daily_limit_calls=8,
)


def temperature_for(model: str, rng: random.Random) -> float | None:
    """Return a temperature the model's provider takes, or None for its default."""
    return rng.choice([t for t in TEMPERATURES if model not in ANTHROPIC_MODELS or t is None or t <= 1])


def fault_directives(fault: str | None, rng: random.Random, mode: Mode) -> list[str]:
    """Return the simulator directives of a prompt: its length, and the provider fault to inject, if any."""
    tokens = rng.randint(*mode.tokens)
    directives = [f"tokens={tokens}"]
    stall = rng.randint(*mode.stall_seconds)
    if fault == "429-retried":
        directives.append("status=429,times=1")
    elif fault in ("429", "500", "529"):
        directives.append(f"status={fault}")
    elif fault == "cut":
        directives.append(f"cut_after={rng.randint(2, 10)}")
    elif fault == "delay":
        directives.append(f"delay={stall}")
    elif fault == "pause":
        directives.append(f"pause_after={rng.randint(1, 6)},pause={stall}")
    elif fault in (*CLIENT_FAULTS, API_HANGUP):
        directives[0] = f"tokens={max(tokens, 80)}"  # long enough to act on mid-reply
    return directives


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Server:
    """A Daphne process as the clients see it: `life` grows each time it is killed."""

    daphne: Daphne
    index: int
    life: int = 0
    up: bool = True
    killed_at: float | None = None


@dataclass
class Reply:
    """One reply as the client that owns it saw it."""

    message_id: int
    turn: "Turn"
    panel: int
    model: str
    followed_on: int  # the socket generation following it
    following: bool = True
    parts: list[str] = field(default_factory=list)
    last_seq: int = 0
    whole: bool = True  # every delta from seq 1 on was seen (followed from 0, or resumed with no gap)
    first_delta_at: float | None = None
    first_delta_on: int | None = None
    done: dict | None = None
    done_at: float | None = None
    resume_pending: bool = False  # a subscribe is out and neither message.started nor message.done came yet
    finished_while_away: bool = False
    resubscribes: int = 0
    acted: bool = False  # the client fault (disconnect or stop) was carried out
    turn_id: int = 0
    version: int = 1
    settings: dict = field(default_factory=dict)  # temperature and max_output_tokens, as turn.started told them


@dataclass
class Turn:
    """One `send` (or `regenerate`) and what came of it."""

    request_id: str
    frame: str
    models: list[str]
    fault: str | None
    conversation_id: int | None = None  # as sent
    after_turn_id: int | None = None
    edit_of_turn_id: int | None = None
    follows_turn_id: int | None = None  # a plain continue: the conversation's current turn when it was sent
    system_prompt: str | None = None
    settings: list[dict] | None = None  # panel_settings as sent (a regenerate's: one entry, or None)
    regenerating: "Reply | None" = None  # for a `regenerate`: the reply named
    started_at: float | None = None  # when turn.started came (another tab is told about then)
    told_back: bool = False  # a second turn.started came, from the socket it was first sent on (see on_turn_started)
    started_by: str = ""  # the server whose socket answered it (for evidence)
    started_on: int = 0  # the socket generation the answer came on
    sent_at: float | None = None
    sent_on: int = -1
    answer: str | None = None  # "turn.started" or "error:<code>"
    started: dict | None = None
    resends: int = 0
    replies: list[Reply] = field(default_factory=list)
    cut_at_seq: int = 0  # for the client faults
    retry_after: int | None = None  # from a `busy` refusal
    files: list = field(default_factory=list)  # the FilePlans compose_send chose to attach
    attached: list[Uploaded] = field(default_factory=list)  # the files uploaded and named in `attachment_ids`


class Tally:
    """Everything counted during a run."""

    def __init__(self):
        self.turns_sent = 0
        self.resends = 0
        self.reconnects = 0
        self.resubscribes = 0
        self.closes: Counter[str] = Counter()
        self.frames: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.stray_errors: list[dict] = []
        self.anomalies: list[str] = []
        self.faults: Counter[str] = Counter()
        self.idle = Counter()
        self.idle_longest = 0.0
        self.connect_failures: Counter[str] = Counter()
        self.reconnect_seconds: list[float] = []  # from an unplanned close to the next socket open
        self.regenerates_sent = 0
        self.plays: Counter[str] = Counter()  # after_turn_id, edit, panel_settings, system_prompt, ...
        self.second_tab_reconnects = 0
        self.second_tab_subscribes = 0

    def anomaly(self, text: str) -> None:
        self.anomalies.append(text)


class Tab:
    """A browser tab of one account: how it opens its socket, and how it waits for what it expects."""

    def __init__(self, soak: "Soak", index: int, account, home: int, rng: random.Random):
        self.soak, self.index, self.account, self.home, self.rng = soak, index, account, home, rng
        self.ws: ClientConnection | None = None
        self.gen = 0  # socket generation: grows with every socket this tab opens
        self.changed = asyncio.Event()
        self.stopping = False

    async def hang_up(self, supervisor: asyncio.Task) -> None:
        """Close the socket for good and wait (at most 15 s) for the task that kept it connected to end."""
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()
        try:
            await asyncio.wait_for(supervisor, 15)
        except TimeoutError:
            supervisor.cancel()

    async def open_socket(self) -> tuple[ClientConnection, Server, int] | None:
        """Connect to the home server if it is up, else to another; retry until the run ends.

        Return the socket, its server and that server's life when the handshake began: a server killed while
        the handshake was under way kills this socket too.
        """
        servers = self.soak.servers
        attempt = 0
        while not self.stopping and time.monotonic() < self.soak.give_up_at:
            candidates = [s for s in servers if s.up] or servers
            home = servers[self.home]
            server = home if home.up and attempt % 2 == 0 else self.rng.choice(candidates)
            life = server.life
            try:
                ws = await connect(  # offers permessage-deflate (the default), as a browser's socket does
                    server.daphne.ws_url,
                    origin=server.daphne.url,
                    additional_headers={"Cookie": self.account.cookie},
                    proxy=None,
                    ping_interval=None,  # only answer Daphne's pings, as an idle browser tab does
                    open_timeout=15,
                    max_size=4 * 1024 * 1024,
                )
                return ws, server, life
            except (OSError, InvalidHandshake, TimeoutError) as error:
                self.soak.tally.connect_failures[type(error).__name__] += 1
                if isinstance(error, InvalidStatus) and error.response.status_code == 403:
                    self.soak.tally.anomaly(f"user {self.index}: handshake refused with 403")
                attempt += 1
                await asyncio.sleep(min(0.2 * attempt, 2.0))
        return None

    async def until(self, condition, timeout: float) -> bool:
        """Wait until `condition()` holds (re-checked after every frame and socket change), or time out."""
        deadline = time.monotonic() + timeout
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return True

    @staticmethod
    async def send_paced(ws: ClientConnection, frames: list[str]) -> None:
        for index, frame in enumerate(frames):
            if index and index % 8 == 0:
                await asyncio.sleep(1)  # the server takes 10 frames a second, bursts of 20
            await ws.send(frame)


class SimUser(Tab):
    """One person with one browser tab: a websocket kept open (reopened when it drops) and a behaviour.

    One user in SECOND_TAB_SHARE also has a second tab (`SecondTab`) that only follows what this one starts.
    """

    def __init__(self, soak: "Soak", index: int, account, home: int):
        rng = random.Random(soak.seed * 1_000_003 + index)  # noqa: S311 (load shape, not secrets)
        super().__init__(soak, index, account, home, rng)
        self.server: Server | None = None
        self.life = 0
        self.online = asyncio.Event()
        self.finished = asyncio.Event()  # its behaviour is over and everything it started has ended
        self.turns: dict[str, Turn] = {}
        self.replies: dict[int, Reply] = {}
        self.conversation_id: int | None = None
        self.seen_turns: dict[int, list[int]] = {}  # conversation -> its turns this tab started, in order
        self.planned_close: str | None = None
        self.second: SecondTab | None = SecondTab(self) if index % SECOND_TAB_SHARE == 1 else None
        uploads_rng = random.Random(soak.seed * 1_000_003 + 900_000 + index)  # noqa: S311 (load shape)
        self.composer = Composer(soak.servers, account.cookie, soak.attachment_tally, uploads_rng)

    # --- the socket ---------------------------------------------------------------------------------

    async def keep_connected(self) -> None:
        """Hold a socket open; when it drops, reopen one (on a live server), resubscribe and resend."""
        tally = self.soak.tally
        closed_at = None  # when the last socket dropped unplanned (a kill): how long until the next one opened
        while not self.stopping:
            opened = await self.open_socket()
            if opened is None:
                return
            ws, server, life = opened
            self.gen += 1
            if self.gen > 1:
                tally.reconnects += 1
                if closed_at is not None:
                    tally.reconnect_seconds.append(time.monotonic() - closed_at)
            self.ws, self.server, self.life, self.planned_close = ws, server, life, None
            self.online.set()
            try:
                await self.resume(ws)
                async for raw in ws:
                    self.on_frame(json.loads(raw))
            except ConnectionClosed:
                pass
            self.online.clear()
            self.ws = None
            tally.closes[self.close_cause(ws, server)] += 1
            for reply in self.replies.values():
                reply.following = False
            self.changed.set()
            if self.stopping:
                return
            closed_at = None if self.planned_close else time.monotonic()
            pause = (0.5, 3.0) if self.planned_close else (0.2, 1.5)
            await asyncio.sleep(self.rng.uniform(*pause))

    def close_cause(self, ws: ClientConnection, server: Server) -> str:
        code = ws.close_code if ws.close_code is not None else 1006
        if self.planned_close:
            cause = f"client {self.planned_close}"
        elif self.stopping:
            cause = "end of run"
        elif server.life != self.life:
            cause = "server killed"
        else:
            cause = "dropped by a live server"
            self.soak.details.append(
                f"user {self.index}'s socket {self.gen} on {server.daphne.name} dropped ({code} "
                f"{ws.close_reason!r}) {self.soak.clock()}"
            )
        return f"{code} {cause}"

    async def resume(self, ws: ClientConnection) -> None:
        """After a reconnect: follow again every reply not yet done, and resend every unanswered send."""
        frames = []
        for reply in self.replies.values():
            if reply.done is None and reply.followed_on < self.gen:
                reply.followed_on, reply.resume_pending = self.gen, True
                reply.resubscribes += 1
                self.soak.tally.resubscribes += 1
                frame = {
                    "type": "subscribe",
                    "conversation_id": reply.turn.started["conversation_id"],
                    "after_seq": reply.last_seq,
                    "message_id": reply.message_id,
                }
                frames.append(json.dumps(frame))
        for turn in self.turns.values():
            if turn.sent_at is not None and turn.answer is None and turn.sent_on < self.gen:
                turn.sent_on = self.gen
                turn.resends += 1
                self.soak.tally.resends += 1
                frames.append(turn.frame)
        await self.send_paced(ws, frames)

    # --- frames from the server -------------------------------------------------------------------

    def on_frame(self, frame: dict) -> None:
        tally, kind = self.soak.tally, frame.get("type")
        tally.frames[kind] += 1
        handler = {
            "turn.started": self.on_turn_started,
            "message.started": self.on_message_started,
            "message.delta": self.on_delta,
            "message.done": self.on_done,
            "error": self.on_error,
        }.get(kind)
        if handler is not None:
            handler(frame)
        elif kind not in ("wallet", "conversation.updated", "pong"):
            tally.anomaly(f"user {self.index}: unknown frame {frame}")
        self.changed.set()

    def on_turn_started(self, frame: dict) -> None:
        """Take the answer to one of this tab's sends or regenerates (this tab is the only one that sends).

        The person's other sockets are told too, never the one that sent it; the server cannot tell a tab's later
        socket from another tab's. So a second `turn.started` with the same replies is that telling, once, from
        the socket the request was sent on: on a later socket than its answer came on (the telling trailed the
        answer and this tab reconnected meanwhile), or beside the answer to a resend (the first socket's answer
        was lost with it). Anything else twice is an anomaly.
        """
        tally = self.soak.tally
        turn = self.turns.get(frame["request_id"])
        if turn is None:
            tally.anomaly(f"user {self.index}: turn.started for a request never sent: {frame}")
            return
        if turn.started is not None:
            ids = [m["message_id"] for m in frame["messages"]]
            if ids != [m["message_id"] for m in turn.started["messages"]]:
                tally.anomaly(f"request {turn.request_id} started two different turns: {ids}")
            elif (turn.resends or self.gen > turn.started_on) and not turn.told_back:
                turn.told_back = True
                tally.plays["turn.started told back from an earlier socket"] += 1
            else:
                tally.anomaly(
                    f"request {turn.request_id}: turn.started twice on one follow (sent on socket {turn.sent_on}, "
                    f"{turn.resends} resends; socket {self.gen} now, {time.monotonic() - turn.sent_at:.1f} s after "
                    f"the send; {self.soak.clock()})"
                )
            return
        if turn.answer is not None:
            tally.anomaly(f"request {turn.request_id}: turn.started after {turn.answer}")
        turn.answer, turn.started, turn.started_at = "turn.started", frame, time.monotonic()
        turn.started_by, turn.started_on = (self.server.daphne.name if self.server else ""), self.gen
        for problem in self.started_problems(turn, frame):
            tally.anomaly(f"user {self.index}, request {turn.request_id}: {problem}")
        if turn.regenerating is None:
            self.conversation_id = frame["conversation_id"]
            seen = self.seen_turns.setdefault(frame["conversation_id"], [])
            if frame["turn_id"] not in seen:
                seen.append(frame["turn_id"])
        for message in frame["messages"]:
            reply = Reply(message["message_id"], turn, message["panel"], message["model"], followed_on=self.gen)
            reply.turn_id, reply.version = frame["turn_id"], message["version"]
            reply.settings = {key: message[key] for key in ("temperature", "max_output_tokens")}
            self.replies[reply.message_id] = reply
            self.soak.replies[reply.message_id] = reply
            turn.replies.append(reply)

    @staticmethod
    def started_problems(turn: Turn, frame: dict) -> list[str]:
        """Return how a `turn.started` disagrees with what was sent: its turn, versions, parent and settings."""
        problems, messages = [], frame["messages"]
        original = turn.regenerating
        if original is not None:
            asked = turn.settings[0] if turn.settings else original.settings
            wanted = [asked]
            if len(messages) != 1:
                return [f"a regenerate answered with {len(messages)} messages"]
            message = messages[0]
            if frame["turn_id"] != original.turn_id or message["panel"] != original.panel:
                problems.append(
                    f"regenerated reply {original.message_id} (turn {original.turn_id}, panel {original.panel}) "
                    f"but turn.started is turn {frame['turn_id']}, panel {message['panel']}"
                )
            if message["version"] <= 1 or message["message_id"] == original.message_id:
                problems.append(f"a regenerate started version {message['version']} as {message['message_id']}")
        else:
            wanted = turn.settings or [{"temperature": None, "max_output_tokens": None}] * len(turn.models)
            if [m["panel"] for m in messages] != list(range(len(turn.models))):
                problems.append(f"{len(turn.models)} models sent, panels {[m['panel'] for m in messages]} started")
            if any(m["version"] != 1 for m in messages):
                problems.append(f"a send started versions {[m['version'] for m in messages]}")
            if turn.conversation_id is not None and frame["conversation_id"] != turn.conversation_id:
                problems.append(f"sent to conversation {turn.conversation_id}, started in {frame['conversation_id']}")
            if turn.after_turn_id is not None and frame["parent_turn_id"] != turn.after_turn_id:
                problems.append(f"sent after turn {turn.after_turn_id}, started after {frame['parent_turn_id']}")
        for message, asked in zip(messages, wanted, strict=False):
            told = (message["temperature"], message["max_output_tokens"])
            if told != (asked["temperature"], asked["max_output_tokens"]):
                problems.append(f"message {message['message_id']} asked {asked}, started with {told}")
        return problems

    def on_message_started(self, frame: dict) -> None:
        reply = self.replies.get(frame["message_id"])
        if reply is None or not reply.resume_pending:
            self.soak.tally.anomaly(f"user {self.index}: message.started nobody asked for: {frame}")
            return
        reply.resume_pending, reply.following = False, True

    def on_delta(self, frame: dict) -> None:
        reply = self.replies.get(frame["message_id"])
        if reply is None:
            self.soak.tally.anomaly(f"user {self.index}: delta of an unknown reply: {frame['message_id']}")
            return
        seq = frame["seq"]
        if reply.resume_pending:
            self.soak.tally.anomaly(f"reply {reply.message_id}: delta before message.started after a subscribe")
        if seq == reply.last_seq + 1:
            reply.parts.append(frame["text"])
        elif seq <= reply.last_seq:
            self.soak.tally.anomaly(f"reply {reply.message_id}: duplicate seq {seq} after {reply.last_seq}")
            return
        else:
            self.soak.tally.anomaly(f"reply {reply.message_id}: gap, seq {seq} after {reply.last_seq}")
            reply.whole = False
        reply.last_seq = seq
        if reply.first_delta_at is None:
            reply.first_delta_at, reply.first_delta_on = time.monotonic(), self.gen
        turn = reply.turn
        if turn.fault in CLIENT_FAULTS and reply.panel == 0 and not reply.acted and seq >= turn.cut_at_seq:
            reply.acted = True
            self.act_on(reply)

    def act_on(self, reply: Reply) -> None:
        """Carry out a client fault: drop the socket mid-reply (politely or not), or stop the reply."""
        ws = self.ws
        if ws is None:
            return
        if reply.turn.fault == "stop":
            stop = json.dumps({"type": "stop", "message_id": reply.message_id, "turn_id": None})
            asyncio.create_task(self._send_quietly(ws, stop))  # noqa: RUF006 (fire and forget)
        elif self.rng.random() < 0.5:
            self.planned_close = "close"
            asyncio.create_task(ws.close())  # noqa: RUF006
        else:
            self.planned_close = "abort"
            ws.transport.abort()

    @staticmethod
    async def _send_quietly(ws: ClientConnection, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(frame)

    def on_done(self, frame: dict) -> None:
        reply = self.replies.get(frame["message_id"])
        if reply is None:
            self.soak.tally.anomaly(f"user {self.index}: message.done of an unknown reply: {frame['message_id']}")
            return
        if reply.done is not None:
            self.soak.tally.anomaly(f"reply {reply.message_id}: a second message.done")
            return
        if reply.resume_pending:
            reply.finished_while_away, reply.resume_pending = True, False
        reply.done, reply.done_at, reply.following = frame, time.monotonic(), False

    def on_error(self, frame: dict) -> None:
        tally = self.soak.tally
        turn = self.turns.get(frame.get("request_id") or "")
        if turn is None:
            tally.stray_errors.append({"user": self.index, **frame})
            return
        tally.errors[frame["code"]] += 1
        if turn.answer is None:
            turn.answer = f"error:{frame['code']}"
            turn.retry_after = frame.get("retry_after")

    # --- behaviour ----------------------------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.soak.mode.arrival_seconds))
        supervisor = asyncio.create_task(self.keep_connected())
        second = asyncio.create_task(self.second.run()) if self.second else None
        try:
            await self.until(self.online.is_set, 60)
            await self.behave()
            await self.until(self.settled, max(0.0, self.soak.drain_until - time.monotonic()))
            self.finished.set()
            if second is not None:
                await second
        finally:
            self.finished.set()
            # Before the socket closes: a reply still followed on it now was followed to the end without its done.
            self.soak.undone_while_followed += [
                r.message_id for r in self.replies.values() if r.done is None and r.following
            ]
            await self.hang_up(supervisor)

    def settled(self) -> bool:
        return all(turn.answer is not None for turn in self.turns.values()) and all(
            reply.done is not None for reply in self.replies.values()
        )

    async def behave(self) -> None:
        mode, number = self.soak.mode, 0
        while time.monotonic() < self.soak.load_ends:
            if self.rng.random() < mode.idle_probability:  # idle no later than the load's end: the drain is bounded
                idle = min(self.rng.uniform(*mode.idle_seconds), self.soak.load_ends - time.monotonic())
                await self.hold_idle(max(idle, 1.0))
            await self.take_turn(number)
            number += 1
            await asyncio.sleep(self.rng.uniform(*mode.think_seconds))

    async def hold_idle(self, seconds: float) -> None:
        """Leave the socket idle (it only answers Daphne's pings), then check that it is the same socket."""
        tally = self.soak.tally
        gen, server, life = self.gen, self.server, self.life
        await asyncio.sleep(seconds)
        tally.idle["held"] += 1
        tally.idle_longest = max(tally.idle_longest, seconds)
        if self.gen == gen and self.online.is_set():
            tally.idle["survived"] += 1
        elif server is not None and server.life != life:
            tally.idle["lost with a killed server"] += 1
        else:
            tally.idle["lost otherwise"] += 1

    def compose(self, number: int) -> Turn:
        """Choose the next action: a regenerate sometimes, else a send (see `compose_send`)."""
        finished = [r for r in self.replies.values() if r.done is not None]
        if finished and self.rng.random() < REGENERATE_PROBABILITY:
            return self.compose_regenerate(self.rng.choice(finished))
        return self.compose_send(number)

    def compose_regenerate(self, reply: Reply) -> Turn:
        """Ask one panel of an earlier turn again (any version of it), sometimes with settings of its own."""
        rng, tally = self.rng, self.soak.tally
        chosen = None
        if rng.random() < REGENERATE_SETTINGS_PROBABILITY:
            chosen = {
                "temperature": temperature_for(reply.model, rng),
                "max_output_tokens": rng.choice((None, rng.randint(*LIMITED_OUTPUT_TOKENS))),
            }
        request_id = str(uuid.uuid4())
        frame = {
            "type": "regenerate",
            "request_id": request_id,
            "message_id": reply.message_id,
            "panel_settings": chosen,
        }
        fault = reply.turn.fault if reply.turn.fault in PROMPT_FAULTS else None  # the prompt's directives hold again
        turn = Turn(
            request_id,
            json.dumps(frame),
            [reply.model],
            fault,
            conversation_id=reply.turn.started["conversation_id"],
            settings=None if chosen is None else [chosen],
            regenerating=reply,
        )
        turn.cut_at_seq = rng.randint(2, 5)
        tally.plays["regenerate"] += 1
        if chosen is not None:
            tally.plays["regenerate with panel_settings"] += 1
        return turn

    def compose_send(self, number: int) -> Turn:
        """Choose the models, the conversation (and where in it), the settings, the length and the fault of a send."""
        soak, rng, mode = self.soak, self.rng, self.soak.mode
        count = rng.choices(list(PANEL_WEIGHTS), weights=list(PANEL_WEIGHTS.values()))[0]
        models = rng.sample(soak.models, min(count, len(soak.models)))
        files = plan_files(rng, f"soak-{self.index}-{number}") if rng.random() < ATTACH_PROBABILITY else []
        if files:  # a named model without vision is refused an image
            models = rng.sample(soak.vision_models, min(count, len(soak.vision_models)))
        fault = soak.forced_fault(self.index, number) or soak.random_fault(rng)
        directives = fault_directives(fault, rng, mode)
        if fault:
            soak.tally.faults[fault] += 1
        continuing = self.conversation_id is not None and rng.random() < 0.5
        content = (
            f"Soak user {self.index}, turn {number}: tell me about {rng.choice(TOPICS)}. [[sim:{','.join(directives)}]]"
        )
        request_id = str(uuid.uuid4())
        frame = {
            "type": "send",
            "request_id": request_id,
            "conversation_id": self.conversation_id if continuing else None,
            "models": models,
            "content": content,
        }
        turn = Turn(request_id, "", models, fault, conversation_id=frame["conversation_id"], files=files)
        seen = self.seen_turns.get(self.conversation_id, []) if continuing else []
        roll = rng.random()
        if seen and roll < AFTER_TURN_PROBABILITY:
            frame["after_turn_id"] = turn.after_turn_id = seen[-1]  # the last turn this tab saw
            soak.tally.plays["send after_turn_id"] += 1
        elif seen and roll < AFTER_TURN_PROBABILITY + EDIT_PROBABILITY:
            frame["edit_of_turn_id"] = turn.edit_of_turn_id = rng.choice(seen)
            frame["content"] = content.replace(
                f"turn {number}:", f"turn {number}, editing turn {turn.edit_of_turn_id}:"
            )
            soak.tally.plays["send edit_of_turn_id"] += 1
        elif seen and all(t.answer is not None for t in self.turns.values()):
            turn.follows_turn_id = seen[-1]  # nothing of this tab's is unanswered: the conversation is open there
        if not continuing and rng.random() < SYSTEM_PROMPT_PROBABILITY:
            frame["system_prompt"] = turn.system_prompt = f" Soak user {self.index}'s assistant: be brief. "
            soak.tally.plays["send system_prompt"] += 1
        if rng.random() < SETTINGS_PROBABILITY:
            frame["panel_settings"] = turn.settings = [
                {
                    "temperature": temperature_for(model, rng),
                    "max_output_tokens": rng.choice((None, rng.randint(*LIMITED_OUTPUT_TOKENS))),
                }
                for model in models
            ]
            soak.tally.plays["send panel_settings"] += 1
        turn.frame = json.dumps(frame)
        turn.cut_at_seq = rng.randint(2, 5)
        return turn

    async def take_turn(self, number: int) -> None:
        turn = self.compose(number)
        if turn.files and not await self.attach(turn):
            self.soak.attachment_tally.dropped_plays += 1
            if turn.fault:
                self.soak.tally.faults[turn.fault] -= 1  # never sent
            return
        if not await self.until(self.online.is_set, 60):
            self.soak.tally.anomaly(f"user {self.index}: no socket for a minute; turn not sent")
            return
        self.turns[turn.request_id] = turn
        self.soak.turns.append(turn)
        turn.sent_at, turn.sent_on = time.monotonic(), self.gen
        if turn.regenerating is None:
            self.soak.tally.turns_sent += 1
        else:
            self.soak.tally.regenerates_sent += 1
        with contextlib.suppress(ConnectionClosed):  # then it is resent on the next socket
            await self.ws.send(turn.frame)
        await self.until(lambda: turn.answer is not None, 90)
        if turn.answer == "turn.started":
            await self.until(lambda: all(r.done is not None for r in turn.replies), 150)
        elif turn.answer == "error:busy":
            await asyncio.sleep(turn.retry_after or 5)

    async def attach(self, turn: Turn) -> bool:
        """Upload the send's files, wait for a long PDF to be read, and name them in its frame.

        Return False (the play is dropped) when a file could not be uploaded. A PDF not read within the wait, which
        ends early enough for the replies to end within the drain, goes unsent; the others go.
        """
        soak = self.soak
        deadline = min(time.monotonic() + PDF_READ_WAIT, soak.drain_until - soak.mode.drain_seconds / 3)
        async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT, trust_env=False) as client:
            uploads = []
            for plan in turn.files:
                uploaded = await self.composer.upload(client, plan, prefer=self.server)
                if uploaded is None:
                    return False
                uploads.append(uploaded)
            for uploaded in uploads:
                if uploaded.status == "reading":
                    await self.composer.wait_until_read(client, uploaded, deadline)
        turn.attached = [u for u in uploads if u.status == "ready"]
        frame = json.loads(turn.frame)
        frame["attachment_ids"] = [u.id for u in turn.attached]
        turn.frame = json.dumps(frame)
        soak.tally.plays["send attachment_ids"] += 1
        return True


def fault_lost_telling(soak: "Soak", turn: Turn) -> str | None:
    """Return which injected fault may have lost the telling of a turn to the other tabs, or None.

    The killed Daphne (a turn answered only on a resend, or started about when it was killed), or Redis (a
    turn started while it was down or resubscribing): the telling is best effort, through Redis.
    """
    moment, outage = turn.started_at, soak.redis_outage
    if turn.resends or (soak.kill_time is not None and abs(moment - soak.kill_time) < 10):
        return "missed: lost with a killed server"
    if outage is not None and outage[0] - 1 <= moment <= outage[1] + REDIS_RESTART_GRACE:
        return "missed: lost with the Redis restart"
    return None


@dataclass
class Window:
    """One socket of a second tab: when it was open, and on which life of which server."""

    opened_at: float
    server: Server
    life: int
    closed_at: float | None = None

    def covers(self, moment: float) -> bool:
        """Whether this socket was in its user's group at `moment`, with time to join it and to be told."""
        joined = self.opened_at + TAB_JOIN_SECONDS <= moment
        return joined and (self.closed_at is None or self.closed_at >= moment + TAB_JOIN_SECONDS)


@dataclass
class Followed:
    """A reply a second tab follows, with `subscribe`, after being told of its turn."""

    message_id: int
    conversation_id: int
    request_id: str
    subscribed_on: int = 0  # the socket generation the last subscribe went out on
    pending: bool = True  # a subscribe is out and neither message.started nor message.done came yet
    streamed: bool = False  # message.started came: the text comes as deltas
    parts: list[str] = field(default_factory=list)
    last_seq: int = 0
    whole: bool = True
    finished_while_away: bool = False  # a subscribe was answered by message.done alone
    done: dict | None = None


class SecondTab(Tab):
    """The same person's second tab, on the other Daphne when it is up: it sends nothing, and follows.

    Every turn its other tab starts is told to it as a `turn.started`; it follows each reply with a `subscribe`
    from seq 0 (from the last delta seen after a reconnect).
    """

    def __init__(self, user: SimUser):
        rng = random.Random(user.soak.seed * 1_000_003 + 700_000 + user.index)  # noqa: S311 (load shape)
        home = (user.home + 1) % len(user.soak.servers)
        super().__init__(user.soak, user.index, user.account, home, rng)
        self.user = user
        self.windows: list[Window] = []
        self.told: dict[str, dict] = {}  # request_id -> the turn.started it was told
        self.told_at: dict[str, float] = {}
        self.followed: dict[int, Followed] = {}

    async def run(self) -> None:
        supervisor = asyncio.create_task(self.keep_connected())
        try:
            await self.user.finished.wait()
            await self.until(self.settled, max(0.0, self.soak.drain_until - time.monotonic()))
            await self.until(self.told_everything, TAB_TOLD_WAIT_SECONDS)  # a telling may trail its answer
            await self.until(self.settled, max(0.0, self.soak.drain_until - time.monotonic()))
        finally:
            await self.hang_up(supervisor)

    def settled(self) -> bool:
        return all(f.done is not None for f in self.followed.values())

    def told_everything(self) -> bool:
        """Whether this tab was told every turn its other tab started while its socket was open.

        Not those a fault may have lost: waiting for them would only lengthen the run.
        """
        return all(
            turn.request_id in self.told
            for turn in self.user.turns.values()
            if turn.started_at is not None
            and any(w.covers(turn.started_at) for w in self.windows)
            and fault_lost_telling(self.soak, turn) is None
        )

    async def keep_connected(self) -> None:
        tally = self.soak.tally
        while not self.stopping:
            opened = await self.open_socket()
            if opened is None:
                return
            ws, server, life = opened
            self.gen += 1
            if self.gen > 1:
                tally.second_tab_reconnects += 1
            window = Window(time.monotonic(), server, life)
            self.windows.append(window)
            self.ws = ws
            try:
                await self.resume(ws)
                async for raw in ws:
                    self.on_frame(json.loads(raw))
            except ConnectionClosed:
                pass
            window.closed_at = time.monotonic()
            self.ws = None
            code = ws.close_code if ws.close_code is not None else 1006
            if self.stopping:
                cause = "end of run"
            elif server.life != window.life:
                cause = "server killed"
            else:
                cause = "dropped by a live server"
                self.soak.details.append(
                    f"second tab of user {self.index}: socket {self.gen} on {server.daphne.name} dropped ({code} "
                    f"{ws.close_reason!r}) {self.soak.clock()}"
                )
            tally.closes[f"{code} second tab: {cause}"] += 1
            self.changed.set()
            if self.stopping:
                return
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))

    async def resume(self, ws: ClientConnection) -> None:
        """After a reconnect: follow again every reply not yet done, from the last delta seen."""
        frames = [self.subscribe(f) for f in self.followed.values() if f.done is None and f.subscribed_on < self.gen]
        self.soak.tally.second_tab_subscribes += len(frames)
        await self.send_paced(ws, frames)

    def subscribe(self, followed: Followed) -> str:
        followed.subscribed_on, followed.pending = self.gen, True
        frame = {
            "type": "subscribe",
            "conversation_id": followed.conversation_id,
            "after_seq": followed.last_seq,
            "message_id": followed.message_id,
        }
        return json.dumps(frame)

    def anomaly(self, text: str) -> None:
        self.soak.tally.anomaly(f"second tab of user {self.index}: {text}")

    def on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        self.soak.tally.frames[f"{kind} (second tabs)"] += 1
        handler = {
            "turn.started": self.on_turn_started,
            "message.started": self.on_message_started,
            "message.delta": self.on_delta,
            "message.done": self.on_done,
        }.get(kind)
        if handler is not None:
            handler(frame)
        elif kind not in ("wallet", "conversation.updated", "pong"):
            self.anomaly(f"unexpected frame {frame}")  # an error too: this tab only subscribes, to its own replies
        self.changed.set()

    def on_turn_started(self, frame: dict) -> None:
        """Be told of a turn (or a new version) the other tab started, and follow each of its replies from seq 0."""
        request_id = frame["request_id"]
        if request_id not in self.user.turns:
            self.anomaly(f"told of a request its other tab never sent: {frame}")
            return
        if request_id in self.told:
            self.anomaly(f"told of request {request_id} twice")
            return
        self.told[request_id], self.told_at[request_id] = frame, time.monotonic()
        frames = []
        for message in frame["messages"]:
            if message["message_id"] in self.followed:
                self.anomaly(f"told of reply {message['message_id']} twice")
                continue
            followed = Followed(message["message_id"], frame["conversation_id"], request_id)
            self.followed[followed.message_id] = followed
            frames.append(self.subscribe(followed))
        self.soak.tally.second_tab_subscribes += len(frames)
        if self.ws is not None:
            asyncio.create_task(self._send_all(self.ws, frames))  # noqa: RUF006 (a lost one is resubscribed)

    async def _send_all(self, ws: ClientConnection, frames: list[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.send_paced(ws, frames)

    def on_message_started(self, frame: dict) -> None:
        followed = self.followed.get(frame["message_id"])
        if followed is None or not followed.pending:
            self.anomaly(f"message.started nobody asked for: {frame}")
            return
        followed.pending, followed.streamed = False, True

    def on_delta(self, frame: dict) -> None:
        followed = self.followed.get(frame["message_id"])
        if followed is None:
            self.anomaly(f"delta of an unknown reply: {frame['message_id']}")
            return
        if followed.pending:
            self.anomaly(f"reply {followed.message_id}: delta before message.started after a subscribe")
        seq = frame["seq"]
        if seq == followed.last_seq + 1:
            followed.parts.append(frame["text"])
        elif seq <= followed.last_seq:
            self.anomaly(f"reply {followed.message_id}: duplicate seq {seq} after {followed.last_seq}")
            return
        else:
            self.anomaly(f"reply {followed.message_id}: gap, seq {seq} after {followed.last_seq}")
            followed.whole = False
        followed.last_seq = seq

    def on_done(self, frame: dict) -> None:
        followed = self.followed.get(frame["message_id"])
        if followed is None:
            self.anomaly(f"message.done of an unknown reply: {frame['message_id']}")
            return
        if followed.done is not None:
            self.anomaly(f"reply {followed.message_id}: a second message.done")
            return
        if followed.pending:
            followed.finished_while_away, followed.pending = True, False
        followed.done = frame


@dataclass(frozen=True)
class ApiAccount:
    """A program's user and its API key (with its daily limit, if it has one)."""

    user_id: int
    key_id: int
    secret: str
    daily_limit: int | None


@dataclass
class ApiCallSeen:
    """One POST /v1/chat/completions as the program that made it saw it."""

    user: int
    key_id: int
    limited: bool
    model: str
    fault: str | None
    form: str  # a key of API_FORMS
    max_tokens: int | None
    server: int
    life: int  # the server's life when the call was sent
    sent_at: float
    cut_at_chunk: int = 0  # for a hang-up: after this many text chunks (a whole call: after `hangup_after` s)
    hangup_after: float = 0.0
    status: int | None = None
    error_code: str | None = None  # from the error body, or the stream's error event
    error_in_stream: bool = False
    completion_id: str | None = None
    parts: list[str] = field(default_factory=list)
    text_chunks: int = 0
    first_chunk_at: float | None = None
    finish_reason: str | None = None
    usage_chunks: int = 0
    credits: int | None = None  # `panels.credits` of the usage chunk, the completion or an error with partial content
    done: bool = False  # `[DONE]` read, or a whole completion
    hung_up: bool = False  # the program closed the connection itself, as planned
    dropped: str | None = None  # the transport error that ended the call, if one did
    dropped_while_killed: bool = False
    ended_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def public_id(self) -> str | None:
        return self.completion_id.removeprefix("chatcmpl-") if self.completion_id else None

    @property
    def completed(self) -> bool:
        """Whether the call answered to its end without an error (a whole completion, or a stream to `[DONE]`)."""
        return self.done and self.status == 200 and self.error_code is None


class ApiUser:
    """A program with an API key: chat completions one after another, each on a Daphne chosen at random."""

    def __init__(self, soak: "Soak", index: int, account: ApiAccount):
        self.soak, self.index, self.account = soak, index, account
        self.rng = random.Random(soak.seed * 1_000_003 + 500_000 + index)  # noqa: S311 (load shape, not secrets)

    async def run(self) -> None:
        mode = self.soak.mode
        await asyncio.sleep(self.rng.uniform(0, mode.arrival_seconds))
        async with httpx2.AsyncClient(timeout=API_TIMEOUT, trust_env=False) as client:
            number = 0
            while time.monotonic() < self.soak.load_ends:
                await self.call(client, number)
                number += 1
                # While Redis is down the programs call again at once, so admission is tried without it.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.soak.redis_down.wait(), self.rng.uniform(*mode.api_think_seconds))
                await asyncio.sleep(0.2)

    def compose(self, number: int, server: Server) -> tuple[ApiCallSeen, dict]:
        """Choose the model, the form, the length and the fault of the next call; return it and its body."""
        soak, rng = self.soak, self.rng
        model = "auto" if rng.random() < API_AUTO_PROBABILITY else rng.choice(soak.models)
        fault = soak.forced_api_fault(self.index, number) or soak.random_fault(rng)
        if fault in CLIENT_FAULTS:
            fault = API_HANGUP  # the only fault a program makes: it goes away
        form = rng.choices(list(API_FORMS), weights=list(API_FORMS.values()))[0]
        directives = fault_directives(fault, rng, soak.mode)
        max_tokens = None if rng.random() < API_NO_MAX_TOKENS_PROBABILITY else soak.mode.tokens[1] + 30
        if fault:
            soak.api_tally.faults[fault] += 1
        call = ApiCallSeen(
            user=self.index,
            key_id=self.account.key_id,
            limited=self.account.daily_limit is not None,
            model=model,
            fault=fault,
            form=form,
            max_tokens=max_tokens,
            server=server.index,
            life=server.life,
            sent_at=0.0,
            cut_at_chunk=rng.randint(2, 5),
            hangup_after=rng.uniform(0.5, 1.5),
        )
        content = (
            f"Program {self.index}, call {number}: tell me about {rng.choice(TOPICS)}. [[sim:{','.join(directives)}]]"
        )
        body = {"model": model, "messages": [{"role": "user", "content": content}]}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if form != "whole":
            body["stream"] = True
            if form == "stream":
                body["stream_options"] = {"include_usage": True}
        return call, body

    async def call(self, client: httpx2.AsyncClient, number: int) -> None:
        """Make one call on a live Daphne and record what came back; a dropped connection is recorded, not retried."""
        servers = self.soak.servers
        server = self.rng.choice([s for s in servers if s.up] or servers)
        call, body = self.compose(number, server)
        self.soak.api_calls.append(call)
        call.sent_at = time.monotonic()
        url = f"{server.daphne.url}/v1/chat/completions"
        headers = {"Authorization": f"Bearer {self.account.secret}"}
        try:
            if call.form == "whole":
                await self.whole(client, url, headers, body, call)
            else:
                await self.stream(client, url, headers, body, call)
        except httpx2.TransportError as error:
            call.dropped = type(error).__name__
            call.dropped_while_killed = server.life != call.life
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            self.soak.api_tally.anomaly(f"program {self.index}: unreadable reply ({error!r}), status {call.status}")
        call.ended_at = time.monotonic()

    async def whole(self, client: httpx2.AsyncClient, url: str, headers: dict, body: dict, call: ApiCallSeen) -> None:
        if call.fault == API_HANGUP:
            try:
                async with asyncio.timeout(call.hangup_after):
                    response = await client.post(url, json=body, headers=headers)
            except TimeoutError:
                call.hung_up = True
                return
        else:
            response = await client.post(url, json=body, headers=headers)
        call.status = response.status_code
        payload = response.json()
        if response.status_code != 200:
            self.read_error(payload, call)
            return
        call.completion_id = payload["id"]
        call.parts.append(payload["choices"][0]["message"]["content"])
        call.finish_reason = payload["choices"][0]["finish_reason"]
        call.credits = payload["panels"]["credits"]
        call.first_chunk_at = time.monotonic()
        call.done = True

    async def stream(self, client: httpx2.AsyncClient, url: str, headers: dict, body: dict, call: ApiCallSeen) -> None:
        tally = self.soak.api_tally
        async with client.stream("POST", url, json=body, headers=headers) as response:
            call.status = response.status_code
            if response.status_code != 200:
                self.read_error(json.loads(await response.aread()), call)
                return
            async for line in response.aiter_lines():
                if not line:
                    continue
                data = line.removeprefix("data: ")
                if data == line or call.done or call.error_in_stream:
                    tally.anomaly(f"call {call.completion_id}: unexpected line {line[:120]!r}")
                    continue
                if data == "[DONE]":
                    call.done = True
                    continue
                event = json.loads(data)
                if "error" in event:
                    call.error_code, call.error_in_stream = event["error"]["code"], True
                    continue
                if call.completion_id is None:
                    call.completion_id = event["id"]
                elif event["id"] != call.completion_id:
                    tally.anomaly(f"call {call.completion_id}: a chunk of {event['id']}")
                if event["choices"]:
                    choice = event["choices"][0]
                    call.finish_reason = choice["finish_reason"] or call.finish_reason
                    text = choice["delta"].get("content")
                    if text:
                        call.parts.append(text)
                        call.text_chunks += 1
                        call.first_chunk_at = call.first_chunk_at or time.monotonic()
                    if call.fault == API_HANGUP and call.text_chunks >= call.cut_at_chunk:
                        call.hung_up = True
                        return  # leaving the block closes the connection mid-stream
                else:
                    call.usage_chunks += 1
                    call.credits = event["panels"]["credits"]
        if not call.done and not call.error_in_stream:
            tally.anomaly(f"call {call.completion_id}: the stream ended without [DONE] or an error event")
        if call.done and call.finish_reason is None:
            tally.anomaly(f"call {call.completion_id}: [DONE] without a finish reason")
        wanted = 1 if call.form == "stream" else 0
        if call.usage_chunks != wanted:
            tally.anomaly(f"call {call.completion_id} ({call.form}): {call.usage_chunks} usage chunks")

    @staticmethod
    def read_error(payload: dict, call: ApiCallSeen) -> None:
        """Record an error answer: its code, and what a whole call's partial output was charged."""
        call.error_code = payload["error"]["code"]
        if "panels" in payload:
            call.credits = payload["panels"]["credits"]
            call.parts.append(payload["error"].get("partial_content", ""))


class ApiTally:
    """What the programs counted during a run."""

    def __init__(self):
        self.faults: Counter[str] = Counter()
        self.anomalies: list[str] = []

    def anomaly(self, text: str) -> None:
        self.anomalies.append(text)


class Soak:
    """One run: the users, the fault schedule, and what everyone saw."""

    def __init__(
        self,
        stack: Stack,
        mode: Mode,
        models: list[str],
        accounts: list,
        api_accounts: list[ApiAccount],
        seed: int,
        *,
        vision_models: list[str],
    ):
        self.stack, self.mode, self.models, self.seed = stack, mode, models, seed
        self.vision_models = vision_models  # those an attached send (with its image) names
        self.servers = [Server(daphne, index) for index, daphne in enumerate(stack.daphnes)]
        self.tally = Tally()
        self.attachment_tally = AttachmentTally()
        self.turns: list[Turn] = []
        self.replies: dict[int, Reply] = {}
        self.users = [SimUser(self, i, account, i % len(self.servers)) for i, account in enumerate(accounts)]
        self.api_users = [ApiUser(self, i, account) for i, account in enumerate(api_accounts)]
        self.api_calls: list[ApiCallSeen] = []
        self.api_tally = ApiTally()
        self.rng = random.Random(seed)  # noqa: S311 (load shape, not secrets)
        self.infra: list[tuple[float, str]] = []  # (seconds since start, what happened)
        self.kill_time: float | None = None
        self.kill_wall: float | None = None  # the same moment as a Unix time, to compare with the database's
        self.redis_down = asyncio.Event()
        self.redis_outage: tuple[float, float] | None = None  # from the kill until it serves again (monotonic)
        self.details: list[str] = []  # evidence printed when a check fails
        self.undone_while_followed: list[int] = []
        self.cpu: Counter[str] = Counter()  # CPU seconds by process, including lives ended by a kill
        self.started = self.load_ends = self.drain_until = self.give_up_at = 0.0

    def forced_fault(self, user: int, number: int) -> str | None:
        """Give each fault kind to at least one turn: the first turn of the first users."""
        kinds = (*PROMPT_FAULTS, *CLIENT_FAULTS)
        return kinds[user] if number == 0 and user < len(kinds) else None

    def forced_api_fault(self, program: int, number: int) -> str | None:
        """Give each fault kind to at least one API call: the first calls of the programs, in turn."""
        kinds = (*PROMPT_FAULTS, API_HANGUP)
        slot = program + number * len(self.api_users)
        return kinds[slot] if slot < len(kinds) else None

    def random_fault(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for kind, probability in self.mode.fault_probability.items():
            if roll < probability:
                return kind
            roll -= probability
        return None

    def clock(self) -> str:
        """Return the time into the run, for evidence."""
        return f"{time.monotonic() - self.started:.1f} s into the run"

    def note(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        self.infra.append((elapsed, text))
        print(f"[{elapsed:6.1f} s] {text}", flush=True)

    async def run(self) -> None:
        self.started = time.monotonic()
        self.load_ends = self.started + self.mode.load_seconds
        self.drain_until = self.load_ends + self.mode.drain_seconds
        self.give_up_at = self.drain_until + 30
        tasks = [asyncio.create_task(user.run()) for user in [*self.users, *self.api_users]]
        faults = asyncio.create_task(self.inject_faults())
        progress = asyncio.create_task(self.report_progress())
        await asyncio.gather(*tasks)
        for process in self.stack.processes:
            self.cpu[process.name] += process.cpu_seconds()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu["harness (clients)"] += usage.ru_utime + usage.ru_stime
        faults.cancel()
        progress.cancel()
        await asyncio.gather(faults, progress, return_exceptions=True)

    async def at(self, fraction: float) -> None:
        await asyncio.sleep(max(0.0, self.started + fraction * self.mode.load_seconds - time.monotonic()))

    async def inject_faults(self) -> None:
        """SIGKILL a Daphne and restart it, SIGKILL and restart the Celery worker, restart Redis."""
        schedule = sorted(
            [
                (self.mode.daphne_kill_at, self.kill_daphne),
                (self.mode.worker_kill_at, self.kill_worker),
                (self.mode.redis_restart_at, self.restart_redis),
            ],
            key=lambda item: item[0],
        )
        for fraction, action in schedule:
            await self.at(fraction)
            await action()

    async def kill_daphne(self) -> None:
        server = self.servers[-1]
        streaming = sum(1 for r in self.replies.values() if r.done is None)
        calls = sum(1 for c in self.api_calls if c.ended_at is None)
        self.cpu[server.daphne.name] += server.daphne.cpu_seconds()
        server.life += 1  # first: its sockets close at once, and must be seen as killed
        server.up = False
        server.daphne.kill()
        self.kill_time, self.kill_wall = time.monotonic(), time.time()
        self.tally.faults["daphne SIGKILL"] += 1
        self.note(
            f"SIGKILL {server.daphne.name} (pid {server.daphne.pid}); {streaming} replies and {calls} API calls "
            "in flight overall"
        )
        await asyncio.sleep(3)
        server.daphne.spawn()
        await asyncio.to_thread(server.daphne.wait_ready)
        server.up = True
        self.note(f"{server.daphne.name} restarted (pid {server.daphne.pid})")

    async def kill_worker(self) -> None:
        worker = self.stack.worker
        self.cpu[worker.name] += worker.cpu_seconds()
        worker.kill()
        self.tally.faults["celery worker SIGKILL"] += 1
        self.note("SIGKILL the Celery worker")
        await asyncio.sleep(5)
        worker.spawn()
        await asyncio.to_thread(worker.wait_ready)
        self.note("Celery worker restarted")

    async def restart_redis(self) -> None:
        redis = self.stack.redis
        self.cpu[redis.name] += redis.cpu_seconds()
        redis.kill()
        down_at = time.monotonic()
        self.redis_down.set()
        self.tally.faults["redis restart"] += 1
        self.note("Redis killed (everything in it is lost)")
        await asyncio.sleep(2)
        redis.spawn()
        await asyncio.to_thread(redis.wait_ready)
        self.redis_down.clear()
        self.redis_outage = (down_at, time.monotonic())
        self.note("Redis restarted, empty")

    async def report_progress(self) -> None:
        every = 30 if self.mode.name == "full" else 15
        while True:
            await asyncio.sleep(every)
            online = sum(1 for user in self.users if user.online.is_set())
            online += sum(1 for user in self.users if user.second and user.second.ws is not None)
            open_replies = sum(1 for r in self.replies.values() if r.done is None)
            open_calls = sum(1 for c in self.api_calls if c.ended_at is None)
            self.note(
                f"{online} sockets open, {self.tally.turns_sent} turns sent, {len(self.replies)} replies "
                f"({open_replies} in flight), {self.tally.reconnects} reconnects; {len(self.api_calls)} API calls "
                f"({open_calls} in flight)"
            )


# --- checks -----------------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def wait_for_no_streaming(timeout: float) -> int:
    """Wait until no reply or API call in the database is `streaming` (bounded); return how many still are."""
    from chat.models import ApiCall, Message

    deadline = time.monotonic() + timeout
    while True:
        left = (
            Message.objects.filter(status=Message.Status.STREAMING).count()
            + ApiCall.objects.filter(status=ApiCall.Status.STREAMING).count()
        )
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(1)


def sample(items, count: int = 5) -> str:
    """Return the first few items as text, and how many more there are."""
    items = list(items)
    return ", ".join(str(item) for item in items[:count]) + (
        f" (+{len(items) - count} more)" if len(items) > count else ""
    )


def run_checks(soak: Soak) -> tuple[list[Check], dict]:
    """Compare what the clients saw with the database and the ledger."""
    from billing.models import Hold, LedgerEntry, Wallet
    from chat.models import ApiCall, Message, Turn

    tally, checks = soak.tally, []
    still_streaming = wait_for_no_streaming(45)
    messages = {m["pk"]: m for m in Message.objects.values("pk", "status", "text", "credits", "error_code")}
    api_call_ids = set(ApiCall.objects.values_list("pk", flat=True))
    usage = Counter()
    usage_amount = {}
    orphans = []
    for key, amount in LedgerEntry.objects.filter(kind=LedgerEntry.Kind.USAGE).values_list(
        "idempotency_key", "amount_credits"
    ):
        usage[key] += 1
        usage_amount[key] = amount
        cause, _, pk = key.rpartition(":")
        if not pk.isdigit() or int(pk) not in {"usage:message": messages, "usage:api": api_call_ids}.get(cause, ()):
            orphans.append(key)

    unanswered = [t.request_id for t in soak.turns if t.answer is None]
    checks.append(Check("every send answered (turn.started or error)", not unanswered, sample(unanswered)))
    refused = {t.request_id: t.answer for t in soak.turns if t.answer and t.answer.startswith("error:")}
    written = list(Turn.objects.filter(request_id__in=list(refused)).values_list("request_id", "pk"))
    written += Message.objects.filter(request_id__in=list(refused)).values_list("request_id", "turn_id")
    checks.append(
        Check(
            "a refused send or regenerate wrote nothing (no turn or version behind an error answer)",
            not written,
            sample(f"request {rid} answered {refused[rid]} but turn {pk} was written" for rid, pk in written),
        )
    )

    streaming = [pk for pk, m in messages.items() if m["status"] not in ("complete", "stopped", "error")]
    answers = {t.request_id: t.answer for t in soak.turns}
    for message in Message.objects.filter(pk__in=streaming).select_related("turn", "model"):
        soak.details.append(
            f"reply {message.pk} ({message.model.slug}) still streaming: turn {message.turn_id}, request "
            f"{message.turn.request_id} (the client's answer: {answers.get(message.turn.request_id)}), "
            f"created {message.created_at:%H:%M:%S.%f}, streamed_by {message.streamed_by}"
        )
    checks.append(
        Check(
            "no reply left streaming in the database",
            not streaming,
            f"{still_streaming} still streaming after 45 s: {sample(streaming)}" if streaming else "",
        )
    )

    dropped = soak.undone_while_followed
    checks.append(Check("every reply followed on a live socket got its message.done", not dropped, sample(dropped)))
    never_done = [r.message_id for r in soak.replies.values() if r.done is None]
    checks.append(Check("every reply a client knew of got its message.done", not never_done, sample(never_done)))

    compared, differing = 0, []
    for reply in soak.replies.values():
        if reply.done is None or not reply.whole or reply.finished_while_away or reply.message_id not in messages:
            continue
        compared += 1
        text = "".join(reply.parts)
        if text != messages[reply.message_id]["text"]:
            saved = messages[reply.message_id]["text"]
            differing.append(f"{reply.message_id} (client {len(text)} chars, saved {len(saved)})")
    checks.append(
        Check(f"text from deltas equals the saved text ({compared} replies compared)", not differing, sample(differing))
    )

    protocol = tally.anomalies + [f"stray error frame {e}" for e in tally.stray_errors]
    checks.append(Check("protocol kept: no gap, duplicate, stray frame or error", not protocol, sample(protocol, 8)))

    ledger_wrong = list(orphans)
    for pk, message in messages.items():
        key = f"usage:message:{pk}"
        if message["credits"] > 0 and (usage[key] != 1 or -usage_amount[key] != message["credits"]):
            ledger_wrong.append(f"{pk}: credits {message['credits']}, {usage[key]} entries")
        elif message["credits"] == 0 and usage[key]:
            ledger_wrong.append(f"{pk}: credits 0 but a usage entry of {usage_amount[key]}")
    for reply in soak.replies.values():
        message = messages.get(reply.message_id)
        if reply.done is None or message is None:
            continue
        if reply.done["credits"] != message["credits"] or reply.done["status"] != message["status"]:
            ledger_wrong.append(
                f"{reply.message_id}: message.done {reply.done['status']}/{reply.done['credits']} "
                f"but saved {message['status']}/{message['credits']}"
            )
    checks.append(
        Check("one usage entry per charged reply, equal to message.done and Message.credits", not ledger_wrong,
              sample(ledger_wrong))
    )  # fmt: skip

    pending = list(Hold.objects.filter(status=Hold.Status.PENDING).values_list("reference", flat=True))
    checks.append(Check("no hold left pending", not pending, sample(pending)))

    verify = subprocess.run(  # noqa: S603 (our own command line)
        [PYTHON, "manage.py", "verify_ledger"],
        cwd=ROOT,
        env=soak.stack.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    checks.append(
        Check("manage.py verify_ledger exits 0", verify.returncode == 0, (verify.stdout + verify.stderr).strip()[-500:])
    )

    negative = list(Wallet.objects.filter(balance_credits__lt=0).values_list("pk", flat=True))
    checks.append(Check("no wallet balance below zero", not negative, sample(negative)))

    known = {r.turn.request_id for r in soak.replies.values()}
    phantom = list(Turn.objects.exclude(request_id__in=[t.request_id for t in soak.turns]).values_list("pk", flat=True))
    unseen = [t.request_id for t in soak.turns if t.answer == "turn.started" and t.request_id not in known]
    checks.append(Check("every turn in the database was sent by a client", not phantom and not unseen, sample(phantom)))

    dropped_live = sum(n for cause, n in tally.closes.items() if cause.endswith("dropped by a live server"))
    checks.append(Check("no socket dropped by a live server", not dropped_live, f"{dropped_live} dropped"))

    late = []
    if soak.kill_time is not None:
        for reply in soak.replies.values():
            if reply.done and (reply.done.get("error") or {}).get("code") == "interrupted":
                waited = reply.done_at - soak.kill_time
                if waited > INTERRUPTED_WITHIN_SECONDS:
                    late.append(f"{reply.message_id} after {waited:.0f} s")
    checks.append(
        Check(f"a killed process's replies ended within {INTERRUPTED_WITHIN_SECONDS} s", not late, sample(late))
    )

    statuses = Counter(m["status"] for m in messages.values())
    error_codes = Counter(m["error_code"] for m in messages.values() if m["status"] == "error")
    interrupted_waits = [
        r.done_at - soak.kill_time
        for r in soak.replies.values()
        if soak.kill_time and r.done and (r.done.get("error") or {}).get("code") == "interrupted"
    ]
    figures = {
        "replies": len(messages),
        "statuses": statuses,
        "error_codes": error_codes,
        "compared": compared,
        "charged": sum(1 for m in messages.values() if m["credits"] > 0),
        "interrupted_waits": interrupted_waits,
    }
    branch_checks, figures["branches"] = run_branch_checks(soak)
    tab_checks, figures["second_tabs"] = run_second_tab_checks(soak, messages)
    api_checks, figures["api"] = run_api_checks(soak)
    attachment_checks, figures["attachments"] = run_attachment_checks(soak)
    return checks + branch_checks + tab_checks + api_checks + attachment_checks, figures


def run_branch_checks(soak: Soak) -> tuple[list[Check], dict]:
    """Check branches, versions and settings: the database against what the clients sent and were told."""
    from billing.models import Hold, LedgerEntry
    from chat.models import Conversation, Message, Turn, hold_reference

    checks = []
    messages = list(
        Message.objects.values(
            "pk", "turn_id", "panel", "version", "current", "status", "credits", "usage_estimated", "output_tokens",
            "max_output_tokens", "request_id",
        )
    )  # fmt: skip
    holds = {
        reference: (status, charged, held_output)
        for reference, status, charged, held_output in Hold.objects.filter(
            reference__startswith="message:"
        ).values_list("reference", "status", "charged_credits", "max_output_tokens")
    }
    entries: dict[int, list[int]] = {}
    for key, amount in LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.USAGE, idempotency_key__startswith="usage:message:"
    ).values_list("idempotency_key", "amount_credits"):
        entries.setdefault(int(key.rsplit(":", 1)[1]), []).append(-amount)

    later = [m for m in messages if m["version"] > 1]
    unsettled = []
    for message in messages:
        status, charged, _ = holds.get(hold_reference(message["pk"]), (None, None, None))
        credits, charges = message["credits"], entries.get(message["pk"], [])
        if message["status"] not in ("complete", "stopped", "error"):
            unsettled.append(f"{message['pk']} (version {message['version']}) still {message['status']}")
        elif credits > 0 and (status != Hold.Status.SETTLED or charged != credits or charges != [credits]):
            unsettled.append(f"{message['pk']} (version {message['version']}): credits {credits}, hold {status} "
                             f"charged {charged}, usage entries {charges}")  # fmt: skip
        elif credits == 0 and (status != Hold.Status.RELEASED or charges):
            unsettled.append(f"{message['pk']} (version {message['version']}): no credits, hold {status}, "
                             f"usage entries {charges}")  # fmt: skip
    checks.append(
        Check(f"every version of every panel ({len(later)} above version 1) settled or released like version 1: "
              "its usage entry equals its credits, no hold left, none streaming", not unsettled, sample(unsettled))
    )  # fmt: skip

    panels: dict[tuple[int, int], list[dict]] = {}
    for message in messages:
        panels.setdefault((message["turn_id"], message["panel"]), []).append(message)
    not_one = []
    for (turn_id, panel), versions in panels.items():
        numbers = sorted(m["version"] for m in versions)
        current = [m["version"] for m in versions if m["current"]]
        if len(current) != 1 or numbers != list(range(1, len(numbers) + 1)) or current[0] != numbers[-1]:
            not_one.append(f"turn {turn_id} panel {panel}: versions {numbers}, current {current}")
    checks.append(
        Check("each (turn, panel) has versions 1..n and exactly one current: the newest (the soak never shows an "
              "older one)", not not_one, sample(not_one))
    )  # fmt: skip

    regenerates = [t for t in soak.turns if t.regenerating is not None]
    by_request = {m["request_id"]: m for m in messages if m["request_id"]}
    wrong_versions = []
    for turn in regenerates:
        saved = by_request.get(turn.request_id)
        if turn.answer == "turn.started":
            told = turn.started["messages"][0]["message_id"]
            if saved is None or saved["pk"] != told or saved["turn_id"] != turn.regenerating.turn_id:
                wrong_versions.append(f"regenerate {turn.request_id} told {told}, saved {saved}")
        elif saved is not None:
            wrong_versions.append(f"regenerate {turn.request_id} answered {turn.answer} but wrote {saved['pk']}")
    checks.append(
        Check(f"each regenerate ({len(regenerates)}) wrote its version in the regenerated reply's turn, or nothing "
              "when refused", not wrong_versions, sample(wrong_versions))
    )  # fmt: skip

    rows = {
        row["pk"]: row
        for row in Turn.objects.values("pk", "request_id", "conversation_id", "parent_id", "parent__conversation_id")
    }
    across = [
        f"turn {pk} in conversation {row['conversation_id']} follows {row['parent_id']} "
        f"of conversation {row['parent__conversation_id']}"
        for pk, row in rows.items()
        if row["parent_id"] is not None and row["parent__conversation_id"] != row["conversation_id"]
    ]
    checks.append(Check("every turn's parent is in its own conversation", not across, sample(across)))

    by_turn_request = {row["request_id"]: row for row in rows.values()}
    parents: Counter[str] = Counter()
    wrong_parent = []
    for turn in soak.turns:
        row = by_turn_request.get(turn.request_id)
        if turn.regenerating is not None or turn.answer != "turn.started" or row is None:
            continue
        if turn.after_turn_id is not None:
            kind, expected = "after_turn_id", turn.after_turn_id
        elif turn.edit_of_turn_id is not None:
            kind, expected = "edit_of_turn_id", rows[turn.edit_of_turn_id]["parent_id"]
        elif turn.follows_turn_id is not None:
            kind, expected = "the conversation's current turn", turn.follows_turn_id
        elif turn.conversation_id is None:
            kind, expected = "a new conversation", None
        else:
            kind, expected = "undetermined (a send of this tab was unanswered)", row["parent_id"]
        parents[kind] += 1
        wrong = []
        if row["parent_id"] != expected:
            wrong.append(f"follows {row['parent_id']}, not {expected}")
        if turn.conversation_id is not None and row["conversation_id"] != turn.conversation_id:
            wrong.append(f"in conversation {row['conversation_id']}, sent to {turn.conversation_id}")
        if turn.started["parent_turn_id"] != row["parent_id"] or turn.started["turn_id"] != row["pk"]:
            wrong.append(f"turn.started said turn {turn.started['turn_id']} after {turn.started['parent_turn_id']}")
        if wrong:
            wrong_parent.append(f"turn {row['pk']} ({kind}): {'; '.join(wrong)}")
    checks.append(
        Check("each turn follows the parent its send implies (after_turn_id, an edit's sibling, the current turn, "
              "none for a new conversation), as turn.started said", not wrong_parent, sample(wrong_parent))
    )  # fmt: skip

    limited = [m for m in messages if m["max_output_tokens"] is not None]
    over = [
        f"{m['pk']}: {m['output_tokens']} output tokens, limit {m['max_output_tokens']}"
        for m in limited
        if not m["usage_estimated"] and m["output_tokens"] > m["max_output_tokens"]
    ]
    over += [
        f"{m['pk']}: holds for {holds[hold_reference(m['pk'])][2]} output tokens, limit {m['max_output_tokens']}"
        for m in limited
        if hold_reference(m["pk"]) in holds and holds[hold_reference(m["pk"])][2] > m["max_output_tokens"]
    ]
    reported = [m for m in limited if not m["usage_estimated"]]
    checks.append(
        Check(f"no reply with max_output_tokens output more (reported usage of {len(reported)} of {len(limited)}) "
              "or held for more", not over, sample(over))
    )  # fmt: skip

    prompts = {t.started["conversation_id"]: t.system_prompt for t in soak.turns if t.system_prompt and t.started}
    saved_prompts = dict(Conversation.objects.filter(pk__in=list(prompts)).values_list("pk", "system_prompt"))
    lost = [f"conversation {pk}" for pk, sent in prompts.items() if saved_prompts.get(pk) != sent.strip()]
    checks.append(Check(f"each system prompt sent ({len(prompts)}) is its conversation's", not lost, sample(lost)))

    figures = {
        "versions": len(later),
        "regenerates": Counter(t.answer or "unanswered" for t in regenerates),
        "parents": parents,
        "limited": len(limited),
        "limited_reported": len(reported),
        "at_limit": sum(1 for m in reported if m["output_tokens"] == m["max_output_tokens"]),
        "system_prompts": len(prompts),
    }
    return checks, figures


def run_second_tab_checks(soak: Soak, messages: dict[int, dict]) -> tuple[list[Check], dict]:
    """Check what the second tabs saw against their other tab and the database.

    Each was told every turn its other tab started while it was connected, and followed each reply to a
    `message.done` equal to the saved one (and the text, when it streamed from seq 1, equal to the saved text).
    """
    checks = []
    outcomes: Counter[str] = Counter()
    moments: dict[str, list[float]] = {}  # outcome -> when the other tab's turns started (s into the run)
    lags = []  # s from the other tab's turn.started to this tab's
    missed, disagree = [], []
    for user in soak.users:
        second = user.second
        if second is None:
            continue
        for turn in user.turns.values():
            if turn.answer != "turn.started":
                continue
            told = second.told.get(turn.request_id)
            if told is not None:
                outcomes["told"] += 1
                lags.append(second.told_at[turn.request_id] - turn.started_at)
                if [m["message_id"] for m in told["messages"]] != [m["message_id"] for m in turn.started["messages"]]:
                    disagree.append(f"user {user.index} request {turn.request_id}: told {told['messages']}")
                continue
            moment = turn.started_at
            window = next((w for w in second.windows if w.covers(moment)), None)
            if window is None:
                outcome = "not expected (the second tab was not connected)"
            else:
                outcome = fault_lost_telling(soak, turn) or "missed"
            outcomes[outcome] += 1
            moments.setdefault(outcome, []).append(moment - soak.started)
            if outcome == "missed":
                before = [at - soak.started for at in second.told_at.values() if at < moment]
                after = [at - soak.started for at in second.told_at.values() if at > moment]
                missed.append(
                    f"user {user.index} request {turn.request_id} (turn {turn.started['turn_id']}"
                    f"{', a regenerate' if turn.regenerating else ''}) started {moment - soak.started:.1f} s into the "
                    f"run on {turn.started_by}; the second tab's socket opened at "
                    f"{window.opened_at - soak.started:.1f} s on {window.server.daphne.name}; it was told "
                    f"{len(before)} turns before (the last at {max(before, default=0):.1f} s) and {len(after)} after "
                    f"(the first at {min(after, default=0):.1f} s)"
                )
    checks.append(
        Check(f"second tabs were told every turn.started of their other tab while connected ({outcomes['told']} "
              "told; misses allowed only across a killed server or the Redis restart)", not missed, sample(missed))
    )  # fmt: skip

    followed = [f for user in soak.users if user.second for f in user.second.followed.values()]
    compared, wrong = 0, list(disagree)
    for item in followed:
        saved = messages.get(item.message_id)
        if item.done is None or saved is None:
            wrong.append(f"reply {item.message_id}: {'no message.done' if item.done is None else 'not saved'}")
            continue
        if item.done["status"] != saved["status"] or item.done["credits"] != saved["credits"]:
            wrong.append(f"reply {item.message_id}: message.done {item.done['status']}/{item.done['credits']}, "
                         f"saved {saved['status']}/{saved['credits']}")  # fmt: skip
        if item.streamed and item.whole and not item.finished_while_away:
            compared += 1
            text = "".join(item.parts)
            if text != saved["text"]:
                wrong.append(f"reply {item.message_id}: followed {len(text)} chars, saved {len(saved['text'])}")
    checks.append(
        Check(f"every reply a second tab followed got its message.done equal to the saved one, and its text "
              f"({compared} compared) the saved text", not wrong, sample(wrong))
    )  # fmt: skip
    figures = {
        "tabs": sum(1 for user in soak.users if user.second),
        "outcomes": outcomes,
        "moments": moments,
        "lags": lags,
        "followed": len(followed),
        "compared": compared,
        "done_only": sum(1 for f in followed if f.finished_while_away),
    }
    return checks, figures


def wait_for_pdfs_read() -> int:
    """Wait until no PDF is being read (bounded); return how many still are.

    A reading lost with the killed worker or the emptied Redis is queued again by beat once it is `READING_STUCK`
    old: the wait ends that long after the newest upload still being read, plus beat's interval and a margin.
    """
    from django.conf import settings
    from django.db.models import Max
    from django.utils import timezone

    from chat.attachments.services import READING_STUCK
    from chat.models import Attachment

    interval = settings.CELERY_BEAT_SCHEDULE["resume-stuck-attachments"]["schedule"]
    reading = Attachment.objects.filter(status=Attachment.Status.READING)
    while True:
        newest = reading.aggregate(newest=Max("created_at"))["newest"]
        if newest is None:
            return 0
        if timezone.now() > newest + READING_STUCK + timedelta(seconds=interval + 30):
            return reading.count()
        time.sleep(2)


def describe_upload(uploaded: Uploaded) -> str:
    """Return a file as the evidence names it: its id, kind and size."""
    plan = uploaded.plan
    size = {"image": f"{uploaded.width}x{uploaded.height}", "text": f"{plan.rows} rows", "pdf": f"{plan.pages} pages"}
    return f"{uploaded.name} ({uploaded.id}, {size[plan.kind]})"


def held_below_reported() -> Counter[str]:
    """Count the replies with reported usage whose hold's input estimate was below it, with files or without."""
    from billing.models import Hold
    from chat.models import Message, hold_reference

    held = dict(
        Hold.objects.filter(reference__startswith="message:").values_list("reference", "estimated_input_tokens")
    )
    counted: Counter[str] = Counter()
    for pk, reported, files in Message.objects.filter(
        status=Message.Status.COMPLETE, usage_estimated=False
    ).values_list("pk", "input_tokens", "attachment_tokens"):
        kind = "with files" if files else "without files"
        counted[f"{kind}: replies"] += 1
        if held.get(hold_reference(pk), 0) < reported:
            counted[f"{kind}: held below the reported input"] += 1
    return counted


def run_attachment_checks(soak: Soak) -> tuple[list[Check], dict]:
    """Check the attached sends against the database: their files on their turns, seen and priced by each reply.

    And every PDF read in the end (none left `reading`), and every upload and poll answered as it should be.
    """
    from django.conf import settings

    from billing.models import Hold
    from chat.models import Attachment, Message, hold_reference

    tally, checks = soak.attachment_tally, []
    started_waiting = time.monotonic()
    wait_for_pdfs_read()
    pdf_wait = time.monotonic() - started_waiting
    files = {
        str(row["public_id"]): row
        for row in Attachment.objects.values("public_id", "turn_id", "kind", "status", "error", "pages")
    }
    attached = [t for t in soak.turns if t.attached]
    on_turns: dict[int, list[str]] = {}
    for public_id, row in files.items():
        if row["turn_id"] is not None:
            on_turns.setdefault(row["turn_id"], []).append(public_id)

    misplaced = []
    for turn in attached:
        ids = [u.id for u in turn.attached]
        if turn.answer == "turn.started":
            told = [a["id"] for a in turn.started["attachments"]]
            kept = on_turns.get(turn.started["turn_id"], [])
            if told != ids or sorted(kept) != sorted(ids):
                misplaced.append(f"turn {turn.started['turn_id']}: sent {ids}, told {told}, on the turn {kept}")
        else:
            gone = [i for i in ids if files.get(i, {}).get("turn_id") is not None]
            if gone:
                misplaced.append(f"request {turn.request_id} answered {turn.answer} but its files {gone} have a turn")
    checks.append(
        Check(f"each attached send ({len(attached)}) that started has exactly its files on its turn, named by "
              "turn.started.attachments (a refused one none)", not misplaced, sample(misplaced))
    )  # fmt: skip

    replies = [r for t in attached if t.answer == "turn.started" for r in t.replies]
    rows = {
        m["pk"]: m
        for m in Message.objects.filter(pk__in=[r.message_id for r in replies]).values(
            "pk", "status", "usage_estimated", "text", "attachment_tokens", "input_tokens", "output_tokens",
            "max_output_tokens",
        )
    }  # fmt: skip
    held_input = dict(
        Hold.objects.filter(reference__in=[hold_reference(pk) for pk in rows]).values_list(
            "reference", "estimated_input_tokens"
        )
    )
    completed, saw, at_limit, unseen, underheld = 0, 0, 0, [], []
    for reply in replies:
        row = rows.get(reply.message_id)
        if row is None or row["status"] != Message.Status.COMPLETE or row["usage_estimated"]:
            continue
        completed += 1
        held = held_input.get(hold_reference(row["pk"]))
        if held is None or held < row["input_tokens"]:
            underheld.append(f"{row['pk']}: {row['input_tokens']} input tokens reported, held for {held}")
            soak.details.append(
                f"reply {row['pk']} ({reply.model}) of turn {reply.turn_id} held for {held} input tokens, "
                f"{row['input_tokens']} reported (attachment_tokens {row['attachment_tokens']}); files "
                + ", ".join(describe_upload(u) for u in reply.turn.attached)
                + f"; sent to conversation {reply.turn.conversation_id}"
                f"; prompt {json.loads(reply.turn.frame)['content']!r}"
            )
        if row["attachment_tokens"] <= 0:
            unseen.append(f"{row['pk']}: attachment_tokens {row['attachment_tokens']}")
        lines = [u.seen_line for u in reply.turn.attached if u.plan.kind == "image"]
        missing = [line for line in lines if line not in row["text"]]
        if not missing:
            saw += 1
        elif row["max_output_tokens"] is not None and row["output_tokens"] >= row["max_output_tokens"]:
            at_limit += 1  # its output limit ended it before the simulator's "Seen:" line
        else:
            unseen.append(f"{row['pk']} ({reply.model}): no {missing} in {row['text'][:120]!r}")
    checks.append(
        Check(f"each completed reply of an attached turn ({completed}) saw its image (the simulator's \"Seen:\" "
              "line) and counted attachment_tokens", not unseen, sample(unseen))
    )  # fmt: skip
    checks.append(
        Check("each completed reply of an attached turn was held for at least the input tokens reported",
              not underheld, sample(underheld))
    )  # fmt: skip

    pdfs = [row for row in files.values() if row["kind"] == Attachment.Kind.PDF]
    unread = [
        f"{public_id}: {row['status']} {row['error']!r}"
        for public_id, row in files.items()
        if row["kind"] == Attachment.Kind.PDF
        and (
            row["status"] == Attachment.Status.READING or (row["status"] == "failed" and "too long" not in row["error"])
        )
    ]
    checks.append(
        Check(f"every PDF uploaded ({len(pdfs)}) was read in the end: ready (failed only as taking too long), none "
              "left reading", not unread, sample(unread))
    )  # fmt: skip
    checks.append(
        Check("every upload answered 201 and every poll 200 (no 500, no 4xx, no connection lost on a live server)",
              not tally.unexpected, sample(tally.unexpected))
    )  # fmt: skip

    waits = [u.read_after for t in soak.turns for u in t.attached if u.read_after is not None]
    figures = {
        "uploads": tally.uploads,
        "retries": tally.retries,
        "dropped": tally.dropped_plays,
        "pdf_waits": tally.pdfs,
        "read_after": waits,
        "pdfs": Counter(row["status"] for row in pdfs),
        "background": sum(1 for row in pdfs if (row["pages"] or 0) > settings.ATTACHMENT_BACKGROUND_PAGES),
        "pdf_wait_at_end": pdf_wait,
        "sends": len(attached),
        "answers": Counter(t.answer or "unanswered" for t in attached),
        "completed": completed,
        "saw": saw,
        "at_limit": at_limit,
        "held_below": held_below_reported(),
    }
    return checks, figures


def api_outcome(call: ApiCallSeen) -> str:
    """Return how a call ended for its program, in a few words (for the figures and the evidence)."""
    if call.hung_up:
        return "hung up"
    if call.dropped:
        return f"dropped ({'server killed' if call.dropped_while_killed else 'live server'})"
    if call.status is None:
        return "no answer"
    if call.completed:
        return f"{call.status} complete"
    if call.error_in_stream:
        return f"{call.status} then {call.error_code}"
    if call.status == 200:
        return "200 unfinished"
    return f"{call.status} {call.error_code}"


def describe(call: ApiCallSeen) -> str:
    """Return a call in one line: its program, form, model and fault, where it went and how it ended."""
    return (
        f"program {call.user} {call.form} {call.model} (fault {call.fault}, max_tokens {call.max_tokens}) "
        f"on daphne-{call.server}: "
        f"{api_outcome(call)}" + (f" [{call.completion_id}]" if call.completion_id else "")
    )


def run_api_checks(soak: Soak) -> tuple[list[Check], dict]:
    """Compare what the programs saw with the API calls, the keys and the ledger."""
    from billing.models import ApiKey, LedgerEntry
    from chat.models import ApiCall

    calls = soak.api_calls
    checks = []
    rows = {
        row["public_id"].hex: row
        for row in ApiCall.objects.values(
            "pk", "public_id", "api_key_id", "status", "error_code", "credits", "created_at", "finished_at"
        )
    }
    entries = {
        int(key.rsplit(":", 1)[1]): (amount, key_id)
        for key, amount, key_id in LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.USAGE, idempotency_key__startswith="usage:api:"
        ).values_list("idempotency_key", "amount_credits", "api_key_id")
    }

    unanswered = [
        describe(c)
        for c in calls
        if (c.dropped and not c.dropped_while_killed) or (c.status is None and not c.hung_up and not c.dropped)
    ]
    checks.append(
        Check("every API call answered (a status, or a drop only while its Daphne was killed)", not unanswered,
              sample(unanswered))
    )  # fmt: skip

    streaming = [row["pk"] for row in rows.values() if row["status"] == ApiCall.Status.STREAMING]
    checks.append(Check("no API call left streaming in the database", not streaming, sample(streaming)))

    ledger_wrong = []
    for row in rows.values():
        entry = entries.get(row["pk"])
        if row["credits"] > 0 and (entry is None or -entry[0] != row["credits"] or entry[1] != row["api_key_id"]):
            ledger_wrong.append(f"call {row['pk']}: credits {row['credits']}, entry {entry}")
        elif row["credits"] == 0 and entry is not None:
            ledger_wrong.append(f"call {row['pk']}: credits 0 but an entry {entry}")
    reported = 0
    for call in calls:
        if call.credits is None or call.public_id is None:
            continue
        reported += 1
        row = rows.get(call.public_id)
        if row is None:
            ledger_wrong.append(f"{describe(call)}: no such call in the database")
            continue
        entry = entries.get(row["pk"])
        charged = -entry[0] if entry else 0
        if row["api_key_id"] != call.key_id or row["credits"] != call.credits or charged != call.credits:
            ledger_wrong.append(
                f"{describe(call)}: reported {call.credits} credits, saved {row['credits']}, ledger {entry}"
            )
    checks.append(
        Check(
            f"each charged API call has one usage entry naming its key, equal to the credits its program was told "
            f"({reported} reports compared)",
            not ledger_wrong,
            sample(ledger_wrong),
        )
    )

    disagree = []
    for call in calls:
        row = rows.get(call.public_id) if call.public_id else None
        if row is None:
            continue
        status, code = row["status"], row["error_code"]
        if call.completed:
            expected = status == ApiCall.Status.COMPLETE
        elif call.error_in_stream:
            expected = status == ApiCall.Status.ERROR and code == call.error_code
        elif call.hung_up:
            expected = status in (ApiCall.Status.STOPPED, ApiCall.Status.COMPLETE)
        elif call.dropped_while_killed:
            expected = status == ApiCall.Status.COMPLETE or code == "interrupted"
        else:
            expected = True
        if not expected:
            disagree.append(f"{describe(call)}: saved {status} {code}")
    checks.append(Check("each program and the database agree on how its call ended", not disagree, sample(disagree)))

    empty = [describe(c) for c in calls if c.completed and not c.text]
    checks.append(Check("every completed API call's text is non-empty", not empty, sample(empty)))

    checks.append(
        Check("API protocol kept: ids, usage chunks, [DONE]", not soak.api_tally.anomalies,
              sample(soak.api_tally.anomalies, 8))
    )  # fmt: skip

    spent_by_key = Counter()
    for amount, key_id in entries.values():
        spent_by_key[key_id] -= amount
    keys = list(
        ApiKey.objects.values("pk", "held_credits", "spent_credits", "spent_today_credits", "daily_limit_credits")
    )
    key_wrong = [
        f"key {k['pk']}: holds {k['held_credits']}, spent {k['spent_credits']}, usage entries {spent_by_key[k['pk']]}"
        for k in keys
        if k["held_credits"] != 0 or k["spent_credits"] != spent_by_key[k["pk"]]
    ]
    checks.append(Check("every API key holds nothing and its spend equals its usage entries", not key_wrong,
                        sample(key_wrong)))  # fmt: skip
    over = [
        f"key {k['pk']}: spent {k['spent_today_credits']} today, limit {k['daily_limit_credits']}"
        for k in keys
        if k["daily_limit_credits"] is not None and k["spent_today_credits"] > k["daily_limit_credits"]
    ]
    checks.append(Check("no key spent more in a day than its daily limit", not over, sample(over)))

    refused = [describe(c) for c in calls if c.status == 402 and not (c.limited and c.error_code == "key_spend_limit")]
    checks.append(Check("402 only for a key at its spend limit", not refused, sample(refused)))

    def explained(call: ApiCallSeen) -> bool:
        if call.status in (None, 402) or (call.status == 200 and not call.error_in_stream):
            return True
        return call.fault in PROVIDER_ERROR_FAULTS and (call.error_in_stream or call.status in PROVIDER_ERROR_STATUSES)

    unexplained = [describe(c) for c in calls if not explained(c)]
    checks.append(Check("API errors only from injected provider faults (never a 500)", not unexplained,
                        sample(unexplained)))  # fmt: skip

    interrupted = [row for row in rows.values() if row["error_code"] == "interrupted"]
    late = [
        f"call {row['pk']} after {row['finished_at'].timestamp() - soak.kill_wall:.0f} s"
        for row in interrupted
        if soak.kill_wall is None or row["finished_at"].timestamp() - soak.kill_wall > INTERRUPTED_WITHIN_SECONDS
    ]
    # A call its program hung up on goes on on its server (for a moment) and may be interrupted by the kill too.
    drops = sum(1 for c in calls if c.dropped_while_killed or (c.hung_up and soak.servers[c.server].life != c.life))
    if len(interrupted) > drops:
        late.append(f"{len(interrupted)} calls interrupted but only {drops} dropped by the kill")
        for row in interrupted:  # evidence: the call, and its key's calls as their program saw them about then
            created = row["created_at"].timestamp() - (soak.kill_wall or 0)
            near = [
                f"{describe(c)} sent {c.sent_at - soak.kill_time:+.1f} s from the kill (server life {c.life})"
                for c in calls
                if c.key_id == row["api_key_id"] and soak.kill_time and abs(c.sent_at - soak.kill_time - created) < 5
            ]
            soak.details.append(
                f"API call {row['pk']} interrupted: created {created:+.1f} s from the kill, finished "
                f"{row['finished_at'].timestamp() - (soak.kill_wall or 0):+.1f} s; its key's calls then: {near}"
            )
    checks.append(
        Check(f"a killed process's API calls ended `interrupted` within {INTERRUPTED_WITHIN_SECONDS} s", not late,
              sample(late))
    )  # fmt: skip

    ttfc = [
        (c.first_chunk_at - c.sent_at) * 1000
        for c in calls
        if c.form != "whole"
        and c.first_chunk_at is not None
        and c.fault not in ("delay", "429", "500", "529", "429-retried")
    ]
    figures = {
        "calls": len(calls),
        "forms": Counter(c.form for c in calls),
        "auto": sum(1 for c in calls if c.model == "auto"),
        "outcomes": Counter(api_outcome(c) for c in calls),
        "statuses": Counter(row["status"] for row in rows.values()),
        "error_codes": Counter(row["error_code"] for row in rows.values() if row["status"] == ApiCall.Status.ERROR),
        "charged": sum(1 for row in rows.values() if row["credits"] > 0),
        "credits": sum(row["credits"] for row in rows.values()),
        "ttfc": ttfc,
        "keys": len(keys),
        "limited": sorted({k["daily_limit_credits"] for k in keys if k["daily_limit_credits"] is not None}),
        "limited_keys": sum(1 for k in keys if k["daily_limit_credits"] is not None),
        "reported": reported,
        "interrupted": len(interrupted),
        "during_redis_outage": Counter(
            api_outcome(c)
            for c in calls
            if soak.redis_outage and soak.redis_outage[0] <= c.sent_at <= soak.redis_outage[1]
        ),
    }
    return checks, figures


def first_delta_times(soak: Soak) -> list[float]:
    """Return ms from send to first delta, for replies with no injected delay or error, on their first socket."""
    times = []
    for reply in soak.replies.values():
        turn = reply.turn
        if turn.fault in ("delay", "429", "500", "529", "429-retried") or turn.resends or reply.first_delta_at is None:
            continue
        if reply.first_delta_on == turn.sent_on:
            times.append((reply.first_delta_at - turn.sent_at) * 1000)
    return times


def figures_text(soak: Soak, figures: dict, checks: list[Check], elapsed: float) -> list[str]:
    """Return the report as markdown lines (printed as they are)."""
    tally, mode = soak.tally, soak.mode
    answers = Counter(t.answer or "unanswered" for t in soak.turns if t.regenerating is None)
    branches, tabs = figures["branches"], figures["second_tabs"]
    ttft = first_delta_times(soak)
    waits = figures["interrupted_waits"]
    api = figures["api"]
    api_ttfc = api["ttfc"]
    files = figures["attachments"]
    read_after = files["read_after"]
    lines = [
        f"## Soak ({mode.name}): {len(soak.users)} users in the browser and {len(soak.api_users)} programs on the "
        f"API, {mode.load_seconds:.0f} s of load, {elapsed:.0f} s in all",
        "",
        f"- models: {', '.join(soak.models)}",
        f"- turns sent: {tally.turns_sent} (resent after a reconnect: {tally.resends}); answers: "
        + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())),
        f"- regenerates sent: {tally.regenerates_sent}; answers: "
        + (", ".join(f"{k} {v}" for k, v in sorted(branches["regenerates"].items())) or "none")
        + f"; versions above 1 in the database: {branches['versions']}",
        "- plays: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.plays.items())),
        "- parents checked: " + ", ".join(f"{k} {v}" for k, v in sorted(branches["parents"].items())),
        f"- replies with max_output_tokens: {branches['limited']} ({branches['limited_reported']} with reported "
        f"usage, {branches['at_limit']} of them stopped at the limit); system prompts kept: "
        f"{branches['system_prompts']}",
        f"- second tabs: {tabs['tabs']}; the other tab's turn.started: "
        + (", ".join(f"{k} {v}" for k, v in sorted(tabs["outcomes"].items())) or "none")
        + "".join(
            f"; {k} at {min(v):.1f}-{max(v):.1f} s into the run"
            for k, v in sorted(tabs["moments"].items())
            if k.startswith("missed")
        )
        + (
            f"; told p50 {statistics.median(tabs['lags']) * 1000:.0f} ms, max {max(tabs['lags']) * 1000:.0f} ms "
            "after the other tab"
            if tabs["lags"]
            else ""
        )
        + f"; replies followed {tabs['followed']} (texts compared {tabs['compared']}, finished before the "
        f"subscribe {tabs['done_only']}); subscribes {tally.second_tab_subscribes}, reconnects "
        f"{tally.second_tab_reconnects}",
        f"- busy refusals: {tally.errors['busy']}",
        f"- replies: {figures['replies']} ({figures['charged']} charged); by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(figures["statuses"].items()))
        + "; errors by code: "
        + (", ".join(f"{k} {v}" for k, v in sorted(figures["error_codes"].items())) or "none"),
        f"- texts compared with the database: {figures['compared']}",
        f"- attachments: {sum(files['uploads'].values())} uploads ("
        + ", ".join(f"{k} {v}" for k, v in sorted(files["uploads"].items()))
        + "); requests tried again: "
        + (", ".join(f"{k} {v}" for k, v in sorted(files["retries"].items())) or "none")
        + f"; attached plays dropped (an upload failed): {files['dropped']}",
        f"- PDFs read in the background: {files['background']}; in the end "
        + (", ".join(f"{k} {v}" for k, v in sorted(files["pdfs"].items())) or "none")
        + (
            f"; read p50 {statistics.median(read_after):.1f} s, max {max(read_after):.1f} s after the upload"
            if read_after
            else ""
        )
        + "; the senders' waits: "
        + (", ".join(f"{k} {v}" for k, v in sorted(files["pdf_waits"].items())) or "none")
        + f"; waited {files['pdf_wait_at_end']:.0f} s at the end for readings",
        f"- attached sends: {files['sends']} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(files["answers"].items()))
        + f"); replies that saw the image: {files['saw']} of {files['completed']} completed with reported usage "
        f"({files['at_limit']} ended by their output limit first)",
        "- completed replies with reported usage, by whether their hold's input estimate covered it: "
        + ", ".join(f"{k} {v}" for k, v in sorted(files["held_below"].items())),
        "- faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.faults.items())),
        "- socket closes: " + (", ".join(f"{k}: {v}" for k, v in sorted(tally.closes.items())) or "none"),
        f"- reconnects: {tally.reconnects}, resubscribes: {tally.resubscribes}, failed connection attempts: "
        + (", ".join(f"{k} {v}" for k, v in sorted(tally.connect_failures.items())) or "none"),
        (
            f"- after an unplanned close, the next socket opened after p50 "
            f"{statistics.median(tally.reconnect_seconds):.1f} s, max {max(tally.reconnect_seconds):.1f} s"
            if tally.reconnect_seconds
            else "- no unplanned close was followed by a reconnect"
        ),
        "- idle sockets: "
        + (", ".join(f"{k} {v}" for k, v in sorted(tally.idle.items())) or "none")
        + f" (longest {tally.idle_longest:.0f} s)",
        (
            f"- send to first delta ({len(ttft)} replies, no injected delay or error): "
            f"p50 {statistics.median(ttft):.0f} ms, p99 {percentile(ttft, 0.99):.0f} ms"
            if ttft
            else "- send to first delta: no sample"
        ),
        (
            f"- replies of the killed process ended `interrupted`: {len(waits)}, "
            f"{min(waits):.0f}-{max(waits):.0f} s after the kill"
            if waits
            else "- replies of the killed process ended `interrupted`: none"
        ),
        f"- API: {api['keys']} keys ({api['limited_keys']} with a daily limit of "
        + (", ".join(f"{limit:,}" for limit in api["limited"]) or "none")
        + f" credits); {api['calls']} calls ("
        + ", ".join(f"{k} {v}" for k, v in sorted(api["forms"].items()))
        + f"; auto {api['auto']}); as the programs saw them: "
        + ", ".join(f"{k} {v}" for k, v in sorted(api["outcomes"].items())),
        f"- API calls in the database: {sum(api['statuses'].values())} ({api['charged']} charged, "
        f"{api['credits']:,} credits); by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(api["statuses"].items()))
        + "; errors by code: "
        + (", ".join(f"{k} {v}" for k, v in sorted(api["error_codes"].items())) or "none"),
        "- API calls sent while Redis was down: "
        + (", ".join(f"{k} {v}" for k, v in sorted(api["during_redis_outage"].items())) or "none"),
        "- API faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(soak.api_tally.faults.items())),
        (
            f"- API send to first chunk ({len(api_ttfc)} streams, no injected delay or error): "
            f"p50 {statistics.median(api_ttfc):.0f} ms, p99 {percentile(api_ttfc, 0.99):.0f} ms"
            if api_ttfc
            else "- API send to first chunk: no sample"
        ),
        "- CPU seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(soak.cpu.items())),
        "- frames received: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.frames.items())),
        "- infrastructure: " + "; ".join(f"{t:.0f} s {what}" for t, what in soak.infra if "sockets open" not in what),
        "",
        "| check | result |",
        "|---|---|",
    ]
    for check in checks:
        lines.append(f"| {check.name} | {'ok' if check.ok else 'FAIL: ' + check.detail} |")
    return lines


def print_evidence(soak: Soak) -> None:
    """Print what helps to diagnose a failed check: details gathered, and the servers' error lines."""
    print("\nEvidence:")
    for line in soak.details:
        print(f"  {line}")
    for process in soak.stack.processes:
        errors = [line for line in process.log_lines(" ERROR ") if " ERROR chat." in line or " ERROR billing." in line]
        if errors:
            print(f"  {process.name}: {len(errors)} error lines from chat/billing, e.g.:")
            for line in errors[:10]:
                print(f"    {line[:300]}")
    if soak.stack.keep_logs:
        print(f"  whole logs: {soak.stack.logs}")
    else:
        print("  (run with --keep-logs to keep the servers' whole logs)")


def vision_models(models: list[str]) -> list[str]:
    """Return those of `models` that read images: an attached send names only these."""
    from catalog.models import AIModel

    readers = set(AIModel.objects.filter(slug__in=models, supports_vision=True).values_list("slug", flat=True))
    return [slug for slug in models if slug in readers]


def catalog_models() -> list[str]:
    """Return gpt-4o-mini, claude-3-5-haiku and the enabled Gemini and Mistral models that can be called."""
    from catalog.models import AIModel
    from chat.providers.registry import availability

    models = AIModel.objects.filter(enabled=True, provider__enabled=True).select_related("provider")
    chosen = [
        m.slug
        for m in models
        if (m.slug in CORE_MODELS or m.provider.slug in EXTRA_PROVIDERS) and availability(m).available
    ]
    return sorted(chosen, key=lambda slug: (slug not in CORE_MODELS, slug))


def api_programs(count: int, mode: Mode, models: list[str]) -> list[ApiAccount]:
    """Create `count` funded users with an API key each; one key in API_LIMITED_SHARE gets a daily spend limit.

    The limit is `mode.api_daily_limit_calls` average calls (API_TYPICAL_CALL, averaged over the models), so a
    limited key reaches it during the run and is refused some calls.
    """
    from django.contrib.auth import get_user_model

    from billing.keys import create_api_key
    from billing.rates import current_cost
    from catalog.models import AIModel

    input_tokens, output_tokens = API_TYPICAL_CALL
    costs = [
        current_cost(model, input_tokens=input_tokens, output_tokens=output_tokens).credits
        for model in AIModel.objects.filter(slug__in=models)
    ]
    daily_limit = max(1, mode.api_daily_limit_calls * sum(costs) // len(costs))
    programs = []
    for index, account in enumerate(funded_users(count, credits=FUNDING_CREDITS, prefix="soak-api")):
        limit = daily_limit if index % API_LIMITED_SHARE == API_LIMITED_SHARE - 1 else None
        user = get_user_model().objects.get(pk=account.user_id)
        new = create_api_key(user=user, name=f"soak program {index}", daily_limit_credits=limit)
        programs.append(ApiAccount(account.user_id, new.key.pk, new.secret, limit))
    return programs


def main() -> int:
    """Start the stack, run the soak, check, report, clean up; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a minute of load with ~36 users")
    parser.add_argument("--users", type=int, help="simulated users (default: 300, or 36 with --quick)")
    parser.add_argument("--minutes", type=float, help="minutes of load (default: 5, or about 1 with --quick)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--max-streams-per-process", type=int, default=1000, help="CHAT_MAX_STREAMS_PER_PROCESS")
    parser.add_argument("--markdown", type=Path, help="also write the figures to this file as a markdown section")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs (their folder is printed)")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a terminated run cleans up as on Ctrl-C

    mode = QUICK if options.quick else FULL
    if options.users or options.minutes:
        overrides = {}
        if options.users:
            overrides["users"] = options.users
        if options.minutes:
            overrides["load_seconds"] = options.minutes * 60
        mode = Mode(**{**mode.__dict__, **overrides})

    began = time.monotonic()
    print(f"soak {mode.name}: {mode.users} users, {mode.load_seconds:.0f} s of load, seed {options.seed}", flush=True)
    stack = Stack(StackOptions(max_streams_per_process=options.max_streams_per_process), keep_logs=options.keep_logs)
    print(f"logs in {stack.logs}; database {stack.database.name}; Redis on port {stack.redis.port}", flush=True)
    failed = True
    try:
        with stack:
            print(f"stack up in {time.monotonic() - began:.0f} s", flush=True)
            use_database_here(stack.env)
            models = catalog_models()
            programs = mode.users // API_SHARE
            accounts = funded_users(mode.users - programs, credits=FUNDING_CREDITS)
            api_accounts = api_programs(programs, mode, models)
            print(
                f"{len(accounts)} users and {len(api_accounts)} API programs funded; models {', '.join(models)}",
                flush=True,
            )
            soak = Soak(stack, mode, models, accounts, api_accounts, options.seed, vision_models=vision_models(models))
            asyncio.run(soak.run())
            checks, figures = run_checks(soak)
            from django.db import connections

            connections.close_all()
            lines = figures_text(soak, figures, checks, time.monotonic() - began)
            print("\n" + "\n".join(lines), flush=True)
            if options.markdown:
                options.markdown.write_text("\n".join(lines) + "\n")
            failed = not all(check.ok for check in checks)
            if failed:
                print_evidence(soak)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", flush=True)
    print("SOAK FAILED" if failed else "SOAK PASSED", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
    sys.exit(main())
