"""The one log format of every Panels process, and the start-up noise it leaves out (see LOGGING in settings)."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class DropHttp2Notice(logging.Filter):
    """Drop Daphne's notice that HTTP/2 is off: Panels speaks HTTP/1.1 and websockets, HTTP/2 is the proxy's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("HTTP/2 support not enabled")
