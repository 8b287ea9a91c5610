"""A conversation's title: made from its first prompt when its first turn starts, never over one a person set."""

import re

TITLE_WORDS = 8


def title_from(prompt: str) -> str:
    """Return a short title from a conversation's first prompt: its first line, at most a few words."""
    first_line = next((line.strip() for line in prompt.splitlines() if line.strip()), "New chat")
    words = re.sub(r"\s+", " ", first_line).split(" ")
    title = " ".join(words[:TITLE_WORDS])
    title = title.rstrip(".,;:!?")
    return (title[:80] + ("…" if len(words) > TITLE_WORDS or len(title) > 80 else "")) or "New chat"
