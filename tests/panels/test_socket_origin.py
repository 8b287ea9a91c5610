"""The websocket's Origin check: this very site (host and port, as the Host header names it) or a trusted origin."""

import pytest

from panels.socket_auth import origin_allowed


def headers(origin: str, host: str) -> dict[bytes, bytes]:
    return {b"origin": origin.encode(), b"host": host.encode()}


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("http://localhost:9999", "localhost:8000", False),  # another program on this machine
        ("http://localhost", "localhost:8000", False),
        ("http://localhost:8000", "localhost", False),
        ("https://panels.example", "panels.example", True),  # behind a TLS proxy that keeps the Host
        ("https://panels.example:443", "panels.example", True),  # a default port written out is the same origin
        ("http://panels.example:80", "panels.example:80", True),
        ("https://panels.example:8443", "panels.example", False),
        ("https://evil.example", "evil.example", False),  # not one of ALLOWED_HOSTS
        ("http://127.0.0.1:8000", "localhost:8000", False),  # another host name is another origin
        ("null", "localhost:8000", False),  # sandboxed frames and file:// pages
        ("", "localhost:8000", False),
        ("http://localhost:99999", "localhost:8000", False),  # no such port
        ("ftp://localhost:8000", "localhost:8000", False),
        ("https://app.panels.example", "internal:8001", True),  # listed in CSRF_TRUSTED_ORIGINS
    ],
)
def test_an_origin_is_allowed_only_when_it_is_this_site(settings, origin, host, allowed):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "panels.example", "internal"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.panels.example"]

    assert origin_allowed(headers(origin, host)) is allowed
