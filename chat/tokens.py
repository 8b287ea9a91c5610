"""Estimate token counts without a tokenizer: on the high side, because holds must cover the real count."""

import math

# English prose averages ~4 characters a token and code ~3; counting 3 keeps estimates above the truth.
ASCII_CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 4  # role markers and separators that providers add per message


def estimate_tokens(text: str) -> int:
    """Return an upper-leaning estimate of the tokens in `text` (other scripts count a token a character)."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # counted in C: prompts run to 400,000 chars
    return math.ceil((len(text) - non_ascii) / ASCII_CHARS_PER_TOKEN) + non_ascii


def estimate_message_tokens(contents: list[str]) -> int:
    """Return the estimated input tokens of a list of message contents, overhead included."""
    return sum(estimate_tokens(content) + MESSAGE_OVERHEAD_TOKENS for content in contents)
