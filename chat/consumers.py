"""The websocket edge: authenticate, parse each frame, call a service, send typed frames back.

Replies stream in tasks of their own (chat/relay.py); a socket only follows their reply logs, so a
socket that closes stops following but never stops a reply that is being paid for. Every frame is answered:
an unexpected failure becomes an `error` frame (and a log line), never a closed socket.
"""

import asyncio
import json
import logging
import time

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chat.capacity import stream_slots
from chat.database import in_thread_pool
from chat.exceptions import Busy, NotFound, ServerFault, TooManyFrames
from chat.frames import message_done_frame, turn_started_frame
from chat.liveness import PROCESS_ID
from chat.protocol import (
    ConversationUpdated,
    Error,
    MessageDelta,
    MessageStarted,
    Ping,
    Pong,
    ProtocolError,
    Regenerate,
    Send,
    ServerFrame,
    Stop,
    Subscribe,
    WalletUpdate,
    parse_client_frame,
)
from chat.relay import admitting, start_replies
from chat.reply_log import reply_log
from chat.selectors import conversation_for, message_for, streaming_messages_in, turn_messages_for
from chat.services import ReplySettings, regenerate_reply, start_turn
from chat.tabs import tabs_of, tell_title, tell_turn, tell_wallet
from errors import PanelsError

logger = logging.getLogger(__name__)

# Closing before accept refuses the handshake (HTTP 403); the code is for servers that report it.
CLOSE_UNAUTHENTICATED = 4401
# A followed reply silent this long is looked up in the database: if it ended but its log never said so
# (its log was lost with Redis and its process), the follower gets its end from there instead of waiting.
FOLLOW_CHECK_SECONDS = 20
GROUP_RETRY_SECONDS = 2


class FrameBudget:
    """A token bucket: `rate` frames a second on average, bursts of twice that."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = 2 * rate
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ChatConsumer(AsyncWebsocketConsumer):
    """One browser tab's connection at /ws/chat/."""

    async def connect(self):
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = tabs_of(self.user.pk)
        self.following: dict[int, asyncio.Task] = {}
        self.budget = FrameBudget(settings.CHAT_FRAMES_PER_SECOND)
        await self.accept()
        self.joining = asyncio.create_task(self._join_group())

    async def _join_group(self):
        """Join the user's group (wallet and title events), retrying while Redis is away."""
        while True:
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
                return
            except Exception as error:
                logger.warning("socket of user %s could not join its group yet: %s", self.user.pk, error)
                await asyncio.sleep(GROUP_RETRY_SECONDS)

    async def disconnect(self, code):
        if not hasattr(self, "group"):
            return
        self.joining.cancel()
        for task in self.following.values():
            task.cancel()
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception as error:  # Redis away: its subscription ends with the connection anyway
            logger.warning("socket of user %s could not leave its group: %s", self.user.pk, error)

    async def receive(self, text_data=None, bytes_data=None):
        if not self.budget.take():
            await self.send_frame(error_frame(TooManyFrames("Too many frames; slow down a little.")))
            return
        frame = None
        try:
            frame = parse_client_frame(text_data if text_data is not None else bytes_data)
            if isinstance(frame, Send):
                await self.send_turn(frame)
            elif isinstance(frame, Regenerate):
                await self.regenerate(frame)
            elif isinstance(frame, Stop):
                await self.stop(frame)
            elif isinstance(frame, Subscribe):
                await self.subscribe(frame)
            elif isinstance(frame, Ping):
                await self.send_frame(Pong())
        except ProtocolError as error:
            await self.send_frame(error.frame)
        except PanelsError as error:
            await self.send_frame(error_frame(error, request_id=_request_id(frame)))
        except Exception:  # any frame, however malformed, is answered; the socket stays open
            logger.exception("frame %s of user %s failed", type(frame).__name__, self.user.pk)
            fault = ServerFault("Something went wrong on our side; it has been logged. Please try again.")
            await self.send_frame(error_frame(fault, request_id=_request_id(frame)))

    async def send_turn(self, frame: Send):
        panel_settings = None
        if frame.panel_settings is not None:
            panel_settings = [ReplySettings(**chosen.model_dump()) for chosen in frame.panel_settings]
        await self._start(
            len(frame.models),
            start_turn,
            user=self.user,
            request_id=frame.request_id,
            conversation_id=frame.conversation_id,
            model_slugs=frame.models,
            content=frame.content,
            process_id=PROCESS_ID,
            after_turn_id=frame.after_turn_id,
            edit_of_turn_id=frame.edit_of_turn_id,
            system_prompt=frame.system_prompt,
            panel_settings=panel_settings,
            attachment_ids=frame.attachment_ids,
        )

    async def regenerate(self, frame: Regenerate):
        chosen = frame.panel_settings
        await self._start(
            1,
            regenerate_reply,
            user=self.user,
            request_id=frame.request_id,
            message_id=frame.message_id,
            process_id=PROCESS_ID,
            reply_settings=None if chosen is None else ReplySettings(**chosen.model_dump()),
        )

    async def _start(self, panels: int, start, **kwargs):
        """Write and hold new replies with `start` (a turn, or a new version of one reply), then stream them.

        Every open tab of the person is told, so a tab showing the conversation shows the turn and follows it.
        """
        slots = stream_slots()
        slots.take(panels)  # before anything is written or held: a full process refuses at once
        with admitting():
            try:
                started = await in_thread_pool(start)(**kwargs)
            except BaseException:
                slots.give_back(panels)
                raise
            slots.give_back(panels - len(started.replies))  # a retried request starts nothing
            start_replies(started.replies)
        frame = turn_started_frame(
            started.turn, messages=started.messages, held_credits=started.held_credits, attachments=started.attachments
        )
        await self.send_frame(frame.model_copy(update={"content": ""}))  # this tab has the prompt; it may be long
        for message in started.messages:
            self.follow(message.pk, str(message.stream_key), after_seq=0)
        if started.replies:
            await tell_turn(self.user.pk, frame.model_dump(mode="json"), from_channel=self.channel_name)
        if started.wallet is not None:
            await tell_wallet(self.user.pk, started.wallet)
        if started.titled:
            await tell_title(self.user.pk, started.turn.conversation_id, started.titled)

    async def stop(self, frame: Stop):
        if frame.message_id is not None:
            messages = [await in_thread_pool(message_for)(self.user, frame.message_id)]
        else:
            messages = await in_thread_pool(turn_messages_for)(self.user, frame.turn_id)
        for message in messages:
            # In the background: while Redis is away the stop waits for it, and this socket's frames must not.
            deliver = reply_log().request_stop(str(message.stream_key), str(message.streamed_by or PROCESS_ID))
            _in_background(deliver, f"stop of reply {message.pk} for user {self.user.pk}")

    async def subscribe(self, frame: Subscribe):
        conversation = await in_thread_pool(conversation_for)(self.user, frame.conversation_id)
        if frame.message_id is not None:
            message = await in_thread_pool(message_for)(self.user, frame.message_id)
            if message.turn.conversation_id != conversation.pk:
                raise NotFound("There is no such reply in this conversation.")
            if message.status != message.Status.STREAMING:
                await self.send_frame(message_done_frame(message))
                return
            messages = [message]
        else:
            messages = await in_thread_pool(streaming_messages_in)(conversation)
        for message in messages:
            await self.send_frame(
                MessageStarted(
                    message_id=message.pk, turn_id=message.turn_id, model=message.model.slug, panel=message.panel
                )
            )
            self.follow(message.pk, str(message.stream_key), after_seq=frame.after_seq)

    def follow(self, message_id: int, stream_key: str, *, after_seq: int):
        """Send this reply's frames after `after_seq` to this socket, replacing an earlier follow of it."""
        if (earlier := self.following.pop(message_id, None)) is not None:
            earlier.cancel()
        task = asyncio.create_task(self._forward(message_id, stream_key, after_seq))
        self.following[message_id] = task
        task.add_done_callback(lambda _: self.following.get(message_id) is task and self.following.pop(message_id))

    async def _forward(self, message_id: int, stream_key: str, after_seq: int):
        seq, sent = after_seq, [] if after_seq == 0 else None  # the text sent, when this socket sent all of it
        try:
            async for frame in reply_log().follow(stream_key, after_seq, idle_seconds=FOLLOW_CHECK_SECONDS):
                if frame is None:
                    if await self._ended_without_its_log(message_id, seq, None if sent is None else "".join(sent)):
                        return
                    continue
                if frame["type"] == "message.delta":
                    seq = frame["seq"]
                    if sent is not None:
                        sent.append(frame["text"])
                await self.send(text_data=_dumps(frame))
        except Disconnected:  # Daphne's answer to a frame sent as the socket closed: nothing to tell anyone
            return
        except Exception:  # this follower ends; the reply itself goes on, and a resubscribe resumes it
            logger.exception("socket of user %s stopped following reply %s", self.user.pk, message_id)

    async def _ended_without_its_log(self, message_id: int, seq: int, text_sent: str | None) -> bool:
        """Send the end of a reply whose log went silent, if the database says it ended; return whether it did.

        When the follower sent the whole text so far (`text_sent`), what the log lost is sent as one more delta
        first, so the text the client assembled is the saved text.
        """
        message = await in_thread_pool(message_for)(self.user, message_id)
        if message.status == message.Status.STREAMING:
            return False
        if text_sent is not None and message.text.startswith(text_sent) and len(message.text) > len(text_sent):
            missing = message.text[len(text_sent) :]
            await self.send_frame(MessageDelta(message_id=message_id, seq=seq + 1, text=missing))
        await self.send_frame(message_done_frame(message))
        return True

    async def send_frame(self, frame: ServerFrame):
        """Send one typed frame as JSON."""
        await self.send(text_data=frame.model_dump_json())

    # Channel layer events for this user's tabs

    async def wallet_changed(self, event):
        await self.send_frame(
            WalletUpdate(balance_credits=event["balance_credits"], held_credits=event["held_credits"])
        )

    async def turn_started(self, event):
        if event["from_channel"] != self.channel_name:  # the tab that sent it has had its answer
            await self.send(text_data=_dumps(event["frame"]))

    async def conversation_updated(self, event):
        await self.send_frame(ConversationUpdated(conversation_id=event["conversation_id"], title=event["title"]))


_background: set[asyncio.Task] = set()  # held here so a running task is not garbage collected


def _in_background(work, what: str) -> None:
    """Run `work` on its own, outliving the socket that asked for it; a failure is logged naming `what`."""
    task = asyncio.create_task(work, name=what)
    _background.add(task)
    task.add_done_callback(_background_done)


def _background_done(task: asyncio.Task) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s failed", task.get_name(), exc_info=task.exception())


def error_frame(error: PanelsError, *, request_id: str | None = None) -> Error:
    """Return the `error` frame that tells the client about `error` (with the wait `busy` asks for)."""
    retry_after = error.retry_after_seconds if isinstance(error, Busy) else None
    return Error(code=error.code, detail=error.detail, request_id=request_id, retry_after=retry_after)


def _request_id(frame) -> str | None:
    return getattr(frame, "request_id", None)


def _dumps(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"))
