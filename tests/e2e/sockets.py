"""A browser tab's websocket for end-to-end tests."""

import contextlib
import json
import time
import uuid

from django.test import Client
from websockets.sync.client import connect


class Socket:
    """A browser tab's websocket: send frames, collect what comes back.

    Like a browser it offers permessage-deflate; `compression=None` plays a client that does not.
    """

    def __init__(self, server, user, *, compression: str | None = "deflate"):
        client = Client()
        client.force_login(user)
        self.exit_stack = contextlib.ExitStack()
        self.ws = self.exit_stack.enter_context(
            connect(
                f"{server.ws_url}/ws/chat/",
                origin=server.url,
                additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
                open_timeout=10,
                compression=compression,
            )
        )
        self.frames: list[dict] = []

    def send(self, **frame):
        self.ws.send(json.dumps(frame, ensure_ascii=False))  # UTF-8, as a browser's JSON.stringify sends

    def send_turn(self, models, content, *, conversation_id=None, request_id=None, **fields):
        """Send a prompt (`fields`: more of the send frame, e.g. attachment_ids); return turn.started or the error."""
        request_id = request_id or str(uuid.uuid4())
        self.send(
            type="send",
            request_id=request_id,
            conversation_id=conversation_id,
            models=models,
            content=content,
            **fields,
        )
        return self.until(lambda f: f["type"] in ("turn.started", "error") and f.get("request_id") == request_id)

    def receive(self, timeout=15) -> dict:
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def until(self, predicate, timeout=20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.receive(timeout=deadline - time.monotonic())
            if predicate(frame):
                return frame
        raise AssertionError(f"no matching frame in {timeout} s; got {self.frames[-5:]}")

    def until_done(self, message_ids, timeout=20) -> dict[int, dict]:
        done = {}
        while set(done) != set(message_ids):
            frame = self.until(lambda f: f["type"] == "message.done", timeout=timeout)
            done[frame["message_id"]] = frame
        return done

    def deltas(self, message_id) -> list[dict]:
        return [f for f in self.frames if f["type"] == "message.delta" and f["message_id"] == message_id]

    def text(self, message_id) -> str:
        return "".join(f["text"] for f in self.deltas(message_id))

    def close(self):
        self.exit_stack.close()
