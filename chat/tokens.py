"""Estimate token counts without a tokenizer: on the high side, because holds must cover the real count.

A hold is sized on this estimate and a reply is never charged above its hold, so an estimate below the
provider's count is credits the person used and did not pay. Prose runs about 4 characters a token; text
dense with numbers and punctuation (CSV, JSON, logs) far fewer, as tokenizers give most punctuation marks, every
run of up to 3 digits and every line break a token of its own. So the estimate is the larger of two counts:
a token per 3 characters, and a token per such piece (a run of letters, 3 digits, a mark, a line break).
Characters of other scripts count a token each. Every count runs in C: prompts run to 400,000 characters
(counting the pieces of one that long takes about 14 ms, of 10,000 characters 0.3 ms). The same history is
estimated for every panel of a turn and again at each turn, so the pieces of texts up to `CACHED_CHARS` are
remembered (at most about 5 MB of text per process).
"""

import functools
import math
import re

ASCII_CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 4  # role markers and separators that providers add per message
# A run of letters, up to 3 digits, an ASCII punctuation mark or symbol (`_` included), or a line break.
PIECE = re.compile(r"[A-Za-z]+|[0-9]{1,3}|[!-/:-@\[-`{-~]|\n")
CACHED_CHARS = 20_000


def estimate_tokens(text: str) -> int:
    """Return an upper-leaning estimate of the tokens in `text`."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    by_length = math.ceil((len(text) - non_ascii) / ASCII_CHARS_PER_TOKEN)
    by_pieces = _remembered_pieces(text) if len(text) <= CACHED_CHARS else _pieces(text)
    return max(by_length, by_pieces) + non_ascii


def _pieces(text: str) -> int:
    return PIECE.subn("", text)[1]


_remembered_pieces = functools.lru_cache(maxsize=256)(_pieces)


def estimate_message_tokens(contents: list[str]) -> int:
    """Return the estimated input tokens of a list of message contents, overhead included."""
    return sum(estimate_tokens(content) + MESSAGE_OVERHEAD_TOKENS for content in contents)
