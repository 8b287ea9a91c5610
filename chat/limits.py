"""How much a person may send at once, and what text can be stored: for the protocol, the JSON API, services.

Plain constants and functions with no Django imports, so the server can read them before Django is set up
(panels/serve.py).
"""

import re

MAX_CONTENT_CHARS = 400_000  # a prompt or a system prompt: room for a long pasted document
MAX_MODELS_PER_TURN = 4

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and halves of a surrogate pair standing alone


def storable_text(text: str) -> str:
    """Return `text` if both databases can store it; raise ValueError naming the character otherwise.

    PostgreSQL refuses NUL in text, and half a surrogate pair alone (a JSON escape such as ud800 without its
    partner) is not valid Unicode, so neither survives encoding: refused at the edge, each is a clear error
    instead of a failed write.
    """
    if (bad := UNSTORABLE.search(text)) is not None:
        what = "a NUL character" if bad.group() == "\x00" else "an unpaired surrogate (invalid Unicode)"
        raise ValueError(f"text must not contain {what}")
    return text
