"""Run Daphne the way Panels is deployed: `python -m panels.serve -b 0.0.0.0 -p 8000` (other Daphne flags pass on).

The Dockerfile, docker-compose.yml, the README and the tests all start the server through this module, so the
options below are set in one place:
- a handshake may wait 30 s behind a reconnect storm instead of being refused with a 403 after Daphne's 5 s;
- Daphne reads messages up to SERVER_READ_LIMIT_BYTES, twice the protocol's 2 MiB frame limit, so a frame
  that is too large is answered with an `error` frame by the consumer; only beyond that is the socket closed
  (Daphne's default, 1 MiB, silently dropped a 1.03 MiB prompt the protocol allows);
- the access log goes through logging, in the one log format of every other line (panels/logs.py);
- values missing from the environment come from a local `.env`, as for `manage.py`.
"""

import logging
import sys

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


class LoggingServer(Server):
    """Daphne's server with the access log it would print to stdout sent through logging instead."""

    def __init__(self, *args, action_logger=None, **kwargs):
        if isinstance(action_logger, AccessLogGenerator) and action_logger.stream is sys.stdout:
            action_logger = AccessLog()
        super().__init__(*args, action_logger=action_logger, **kwargs)


class ServeCommand(CommandLineInterface):
    """Daphne's command line, serving with `LoggingServer`."""

    server_class = LoggingServer


if __name__ == "__main__":
    read_env_file()
    ServeCommand().run(daphne_arguments(sys.argv[1:]))
