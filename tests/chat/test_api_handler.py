"""/v1 is served by its own handler: no page middleware, OpenAI-shaped answers, and HTTPS where the site requires it."""

import json

import pytest
from asgiref.testing import ApplicationCommunicator

from chat.api.handler import ApiHandler


async def request(path: str, *, scheme: str = "http", headers=()) -> tuple[int, dict, dict]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    app = ApplicationCommunicator(ApiHandler(), scope)
    await app.send_input({"type": "http.request", "body": b""})
    start = await app.receive_output(5)
    body = b""
    while True:
        message = await app.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return start["status"], dict(start["headers"]), json.loads(body)


@pytest.mark.django_db(transaction=True)
async def test_plain_http_is_refused_where_https_is_required(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    status, _, body = await request("/v1/models")
    assert status == 403 and "https://" in body["error"]["message"]
    status, _, body = await request("/v1/models", scheme="https")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"  # past the check: the key is asked for


@pytest.mark.django_db(transaction=True)
async def test_no_page_middleware_runs_on_the_api(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    status, headers, body = await request("/v1/models", headers=[(b"cookie", b"sessionid=x; csrftoken=y")])
    assert status == 401 and body["error"]["type"] == "authentication_error"
    # The pages' middleware would add these; a program has no use for a session, CSP or frame options.
    assert not {b"Set-Cookie", b"Content-Security-Policy", b"X-Frame-Options", b"Vary"} & set(headers)
