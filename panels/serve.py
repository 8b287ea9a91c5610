"""Run Daphne the way Panels is deployed: `python -m panels.serve -b 0.0.0.0 -p 8000` (other Daphne flags pass on).

The Dockerfile, docker-compose.yml, the README and the tests all start the server through this module, so the
options below are set in one place:
- a handshake may wait 30 s behind a reconnect storm instead of being refused with a 403 after Daphne's 5 s;
- Daphne reads messages up to SERVER_READ_LIMIT_BYTES, twice the protocol's 2 MiB frame limit, so a frame
  that is too large is answered with an `error` frame by the consumer; only beyond that is the socket closed
  (Daphne's default, 1 MiB, silently dropped a 1.03 MiB prompt the protocol allows);
- the access log goes through logging, in the one log format of every other line (panels/logs.py);
- the listen backlog is 2,048 connections, not Twisted's 50, so a crowd connecting at once is queued, not reset;
- values missing from the environment come from a local `.env`, as for `manage.py`;
- websockets accept the permessage-deflate extension when the client offers it (browsers do), keeping the
  compression context from message to message: a `message.delta` frame's repeated JSON envelope then costs a
  few bytes, and a reply crosses the wire in about 1.5 bytes per byte of text instead of 5 to 6. The windows
  and the memory level are small, so a socket's compressor and inflater hold about 21 KiB instead of the
  130 KiB of zlib's defaults, which would save only 0.2 more bytes per byte of text; see docs/benchmarks.md.
  A client that does not offer it gets plain frames, and a compressed message is held to the read limit once
  inflated.
"""

import logging
import sys

from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.server import Server

from chat.protocol import SERVER_READ_LIMIT_BYTES
from panels.environment import read_env_file

APPLICATION = "panels.asgi:application"
OPTIONS = (
    "--websocket_connect_timeout",
    "30",
    "--websocket-max-message-size",
    str(SERVER_READ_LIMIT_BYTES),
    "--websocket-max-frame-size",
    str(SERVER_READ_LIMIT_BYTES),
)
# A delta repeats an envelope of the last hundred bytes and words of the last few frames: a 2 KiB window keeps
# nearly all of the gain of zlib's 32 KiB, and on messages this small the memory level changes no byte.
COMPRESS_WINDOW_BITS = 11
COMPRESS_MEMORY_LEVEL = 1
INFLATE_WINDOW_BITS = 9  # asked of the client when it lets us choose (browsers do): it sends little
LISTEN_BACKLOG = 2048  # connections the kernel queues before Daphne accepts them (capped by net.core.somaxconn)


def accept_deflate(offers: list) -> PerMessageDeflateOfferAccept | None:
    """Accept the client's first permessage-deflate offer with small windows, or nothing (plain frames)."""
    for offer in offers:
        if not isinstance(offer, PerMessageDeflateOffer):
            continue
        wanted = offer.request_max_window_bits  # the client may cap our window; never go above its cap
        return PerMessageDeflateOfferAccept(
            offer,
            request_max_window_bits=INFLATE_WINDOW_BITS if offer.accept_max_window_bits else 0,
            window_bits=min(COMPRESS_WINDOW_BITS, wanted) if wanted else COMPRESS_WINDOW_BITS,
            mem_level=COMPRESS_MEMORY_LEVEL,
        )
    return None


def daphne_arguments(arguments: list[str]) -> list[str]:
    """Return Daphne's command-line arguments: ours, then the caller's, then the application."""
    return [*OPTIONS, *arguments, APPLICATION]


class AccessLog(AccessLogGenerator):
    """Daphne's access log, as log records (Daphne writes its own format straight to stdout)."""

    logger = logging.getLogger("daphne.access")

    def __init__(self):
        super().__init__(stream=None)

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        self.logger.info('%s "%s" %s %s', host, request, status or "-", length or "-")


def with_backlog(endpoint: str) -> str:
    """Return a TCP endpoint description with LISTEN_BACKLOG, unless it names a backlog of its own.

    Twisted listens with a backlog of 50: a crowd of programs connecting at once (1,000 API streams after
    their connections idled out) overflowed it and a quarter of them were reset (docs/benchmarks.md).
    """
    if not endpoint.startswith("tcp:") or "backlog=" in endpoint:
        return endpoint
    return f"{endpoint}:backlog={LISTEN_BACKLOG}"


class PanelsServer(Server):
    """Daphne's server with its access log sent through logging, a deep listen backlog, and permessage-deflate."""

    def __init__(self, *args, action_logger=None, endpoints=None, **kwargs):
        if isinstance(action_logger, AccessLogGenerator) and action_logger.stream is sys.stdout:
            action_logger = AccessLog()
        endpoints = [with_backlog(endpoint) for endpoint in endpoints or []]
        super().__init__(*args, action_logger=action_logger, endpoints=endpoints, **kwargs)

    def run(self):
        # Daphne builds its websocket factory inside run() and calls ready_callable just before the reactor
        # starts: the one moment to set the factory's options without copying run().
        ready = self.ready_callable

        def configure_then_ready():
            self.ws_factory.setProtocolOptions(perMessageCompressionAccept=accept_deflate)
            if ready is not None:
                ready()

        self.ready_callable = configure_then_ready
        super().run()


class ServeCommand(CommandLineInterface):
    """Daphne's command line, serving with `PanelsServer`."""

    server_class = PanelsServer


if __name__ == "__main__":
    read_env_file()
    ServeCommand().run(daphne_arguments(sys.argv[1:]))
