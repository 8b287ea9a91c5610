"""Who may open a websocket: a page of this very site (its Origin), and a logged-in person (its session).

Channels' AuthMiddleware looks the session and user up on the one thread every database call of a process
shares; under a crowd a handshake then waits behind every turn and settlement, and Daphne refuses a handshake
the application has not accepted in time (HTTP 403, which a browser cannot tell from being logged out). Here
they are looked up on the thread pool.

Channels' AllowedHostsOriginValidator checks the Origin's host against ALLOWED_HOSTS but not its port, so a
page on `http://localhost:9999` (any other program on the machine) could open a socket with the cookies of
`http://localhost:8000`. The Origin must instead be the site the socket was opened on, as Django's CSRF check
asks of a form: the same host and port as the Host header, or one of CSRF_TRUSTED_ORIGINS.
"""

from urllib.parse import urlsplit

from channels.auth import AuthMiddleware, get_user
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from chat.database import in_thread_pool

DEFAULT_PORTS = {"http": "80", "https": "443"}


class PooledAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await in_thread_pool(get_user.func)(scope)  # `func`: get_user undecorated


def SessionAuthStack(inner):
    """Return `inner` behind cookies, sessions and the user, as Channels' AuthMiddlewareStack does."""
    return CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(inner)))


class SameOriginValidator:
    """Refuse (HTTP 403) a websocket handshake whose Origin is not the site it was opened on."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(dict(scope.get("headers", []))):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def origin_allowed(headers: dict[bytes, bytes]) -> bool:
    """Return whether a handshake's Origin header names the site its Host header names (or a trusted origin)."""
    origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    if not origin or not host or origin == "null":
        return False
    if origin in {trusted.lower().rstrip("/") for trusted in settings.CSRF_TRUSTED_ORIGINS}:
        return True
    host_name, host_port = split_domain_port(host)
    if not host_name or not validate_host(host_name, settings.ALLOWED_HOSTS):
        return False
    try:
        parts = urlsplit(origin)
        origin_port = str(parts.port) if parts.port is not None else None
    except ValueError:  # a port that is not a number, or out of range
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    # A port written out that is the scheme's default is the same origin as none (https://x:443 is https://x).
    same_port = _explicit(origin_port, parts.scheme) == _explicit(host_port or None, parts.scheme)
    return parts.hostname == host_name.strip("[]") and same_port


def _explicit(port: str | None, scheme: str) -> str | None:
    return None if port in (None, DEFAULT_PORTS[scheme]) else port
