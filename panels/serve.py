"""Run Daphne the way Panels is deployed: `python -m panels.serve -b 0.0.0.0 -p 8000` (other Daphne flags pass on).

The Dockerfile, docker-compose.yml, the README and the tests all start the server through this module, so the
options below are set in one place:
- a handshake may wait 30 s behind a reconnect storm instead of being refused with a 403 after Daphne's 5 s;
- Daphne reads messages up to SERVER_READ_LIMIT_BYTES, twice the protocol's 2 MiB frame limit, so a frame
  that is too large is answered with an `error` frame by the consumer; only beyond that is the socket closed
  (Daphne's default, 1 MiB, silently dropped a 1.03 MiB prompt the protocol allows).
"""

import sys

from daphne.cli import CommandLineInterface

from chat.protocol import SERVER_READ_LIMIT_BYTES

APPLICATION = "panels.asgi:application"
OPTIONS = (
    "--websocket_connect_timeout",
    "30",
    "--websocket-max-message-size",
    str(SERVER_READ_LIMIT_BYTES),
    "--websocket-max-frame-size",
    str(SERVER_READ_LIMIT_BYTES),
)


def daphne_arguments(arguments: list[str]) -> list[str]:
    """Return Daphne's command-line arguments: ours, then the caller's, then the application."""
    return [*OPTIONS, *arguments, APPLICATION]


if __name__ == "__main__":
    CommandLineInterface().run(daphne_arguments(sys.argv[1:]))
