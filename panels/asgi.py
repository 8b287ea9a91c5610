"""ASGI entry point served by Daphne: HTTP to Django (the API to a lean handler), websockets to the chat consumer.

Websockets pass the Origin check (this very site: host and port) and the session-cookie authentication
before the consumer sees them; the consumer itself refuses anonymous users.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
django_asgi_app = get_asgi_application()  # set up Django before importing anything that uses models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from chat.api.handler import ApiHandler  # noqa: E402
from chat.consumers import ChatConsumer  # noqa: E402
from chat.housekeeping import start_with_the_server  # noqa: E402
from panels.socket_auth import SameOriginValidator, SessionAuthStack  # noqa: E402

websocket_urlpatterns = [path("ws/chat/", ChatConsumer.as_asgi())]

api_app = ApiHandler()


async def http_app(scope, receive, send):
    """Send the API (/v1/) to its own lean handler, everything else to Django with the site's middleware."""
    app = api_app if scope["path"].startswith("/v1/") else django_asgi_app
    await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": SameOriginValidator(SessionAuthStack(URLRouter(websocket_urlpatterns))),
    }
)
start_with_the_server()  # heartbeat and sweeps in this process (chat/housekeeping.py)
