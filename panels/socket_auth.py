"""Session authentication for websockets, with the session and user looked up on the thread pool.

Channels' AuthMiddleware looks them up on the one thread every database call of a process shares; under a
crowd a handshake then waits behind every turn and settlement, and Daphne refuses a handshake the
application has not accepted within 5 s (HTTP 403, which a browser cannot tell from being logged out).
"""

from channels.auth import AuthMiddleware, get_user
from channels.sessions import CookieMiddleware, SessionMiddleware

from chat.database import in_thread_pool


class PooledAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await in_thread_pool(get_user.func)(scope)  # `func`: get_user undecorated


def SessionAuthStack(inner):
    """Return `inner` behind cookies, sessions and the user, as Channels' AuthMiddlewareStack does."""
    return CookieMiddleware(SessionMiddleware(PooledAuthMiddleware(inner)))
