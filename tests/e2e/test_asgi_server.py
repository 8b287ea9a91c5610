"""The real ASGI stack under Daphne: pages over HTTP, and who may open the chat websocket."""

import json
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from panels.serve import LISTEN_BACKLOG

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> str:
    """Log `user` in (a real session row in the test database) and return the Cookie header value."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def open_chat_socket(server, *, cookie: str | None = None, origin: str | None = None):
    headers = {"Cookie": cookie} if cookie else {}
    return connect(f"{server.ws_url}/ws/chat/", origin=origin, additional_headers=headers, open_timeout=10)


def exchange(socket, frame: str) -> dict:
    socket.send(frame)
    return json.loads(socket.recv(timeout=10))


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_daphne_serves_the_pages_a_newcomer_opens_first(daphne_server, path):
    with urllib.request.urlopen(daphne_server.url + path, timeout=10) as response:  # noqa: S310
        body = response.read().decode()
    assert response.status == 200
    assert "Panels" in body
    assert "/static/css/app.css" in body


def test_static_files_are_served_by_the_app_itself(daphne_server):
    with urllib.request.urlopen(daphne_server.url + "/static/css/app.css", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert "color-scheme" in response.read().decode()


def test_an_authenticated_socket_connects_and_is_answered(daphne_server, user):
    with open_chat_socket(daphne_server, cookie=session_cookie_for(user), origin=daphne_server.url) as socket:
        assert exchange(socket, '{"type": "ping"}') == {"type": "pong"}


def test_a_malformed_frame_gets_an_error_frame_and_the_socket_stays_usable(daphne_server, user):
    with open_chat_socket(daphne_server, cookie=session_cookie_for(user), origin=daphne_server.url) as socket:
        error = exchange(socket, "{not json")
        assert error["type"] == "error"
        assert error["code"] == "invalid_request"
        assert "not valid JSON" in error["detail"]
        unknown = exchange(socket, '{"type": "dance", "request_id": "r-1"}')
        assert (unknown["code"], unknown["request_id"]) == ("invalid_request", "r-1")
        assert exchange(socket, '{"type": "ping"}') == {"type": "pong"}


def test_an_anonymous_socket_is_refused(daphne_server):
    with pytest.raises(InvalidStatus) as refused:
        open_chat_socket(daphne_server, origin=daphne_server.url)
    assert refused.value.response.status_code == 403


def test_a_socket_from_a_foreign_origin_is_refused_even_when_logged_in(daphne_server, user):
    with pytest.raises(InvalidStatus) as refused:
        open_chat_socket(daphne_server, cookie=session_cookie_for(user), origin="https://evil.example")
    assert refused.value.response.status_code == 403


def test_a_socket_without_an_origin_is_refused(daphne_server, user):
    with pytest.raises(InvalidStatus) as refused:
        open_chat_socket(daphne_server, cookie=session_cookie_for(user))
    assert refused.value.response.status_code == 403


def test_a_flood_of_frames_is_rate_limited_and_the_socket_stays_usable(daphne_server, user):
    with open_chat_socket(daphne_server, cookie=session_cookie_for(user), origin=daphne_server.url) as socket:
        for _ in range(60):
            socket.send('{"type": "ping"}')
        answers = [json.loads(socket.recv(timeout=10)) for _ in range(60)]
        assert "pong" in [answer["type"] for answer in answers]
        refused = [answer["code"] for answer in answers if answer["type"] == "error"]
        assert len(refused) >= 10  # bursts of 20, then about 10 a second (margin for a slow machine)
        assert set(refused) == {"too_many_frames"}
        time.sleep(1.1)  # the budget refills
        assert exchange(socket, '{"type": "ping"}') == {"type": "pong"}


def test_a_socket_from_another_port_of_the_same_host_is_refused(daphne_server, user):
    """Any program on another port of this machine would otherwise ride on the site's cookies."""
    other_port = daphne_server.url.replace(f":{daphne_server.port}", f":{daphne_server.port + 1}")
    for origin in (other_port, "http://localhost:9999", f"http://127.0.0.1.evil.example:{daphne_server.port}"):
        with pytest.raises(InvalidStatus) as refused:
            open_chat_socket(daphne_server, cookie=session_cookie_for(user), origin=origin)
        assert refused.value.response.status_code == 403, origin


def test_daphne_queues_a_crowd_of_connections_instead_of_resetting_them(daphne_server):
    # Twisted's default backlog of 50 reset a quarter of 1,000 programs connecting at once (docs/benchmarks.md).
    # `ss` shows a listening socket's backlog as its Send-Q; the kernel caps it at net.core.somaxconn.
    listening = subprocess.run(
        ["ss", "-ltnH", f"sport = :{daphne_server.port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert int(listening[2]) == min(LISTEN_BACKLOG, somaxconn) > 50
