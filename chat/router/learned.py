"""Auto's learned stage: how much a prompt reads like each task, from its letters, in any language.

A multinomial logistic regression over hashed features of the prompt's text: character n-grams of one to
four characters inside word boundaries, whole words and pairs of words, of the lower-cased, accent-folded
text, and a few words for its shape (how many list items, lettered steps, lines and questions; the items of
its opening and closing paragraphs; the words that put instructions in order). Only the first HEAD_CHARS and
last TAIL_CHARS characters are read, where people put the ask around what they paste, so a long document
neither drowns the instruction nor costs more time. The weights are fitted by `manage.py train_router`
(chat/router/training.py) on chat/router/corpus/ and shipped in chat/router/model/router.npz; they are read
once per process, never downloaded.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from chat.router.features import PARAGRAPH_BREAK  # where the signals split a prompt, too

MODEL_PATH = Path(__file__).resolve().parent / "model" / "router.npz"

HEAD_CHARS = 2_000
TAIL_CHARS = 1_000
NGRAM_SIZES = (1, 2, 3, 4)
BUCKET_BITS = 18  # 2**18 hashed features: few collisions among the n-grams of a few thousand prompts

# Runs of letters and digits are words; these marks are one-character words of their own (a question, a
# hashtag, a brace of JSON or code), so their n-grams count too. Everything else is a word boundary.
TOKEN = re.compile(r"[^\W_]+|[?#@{}`$%*=<>/:|\[\])]")
COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")  # accents after NFKD: "é" -> "e" + U+0301
DIGITS = str.maketrans("123456789", "000000000")  # every number reads alike

# The shape of the text, in any language: how many list items, enumerated steps, lines and questions, each
# count a word of its own ("items3"), so the model can learn that five lettered steps mean a multi-step task.
SHAPES = {
    "items": re.compile(r"^\s*(?:[-*\u2022]|\(?\d{1,2}[.):]|\(?[a-h][.)])\s", re.MULTILINE),
    "steps": re.compile(r"(?:^|\s)\(?(?:\d{1,2}|[a-h])\)\s"),
    "lines": re.compile(r"\n\s*\S"),
    "questions": re.compile(r"\?"),
}
SHAPE_COUNTS = (0, 1, 2, 3, 4, 5, 8, 13)  # a count is named by the largest of these it reaches
LIST_LINE = re.compile(r"^\s*(?:[-*\u2022\u2013]|\(?\d{1,2}[.):]|\(?[a-h][.)])\s", re.MULTILINE)
# Words that put instructions in order, in the five languages of the corpus: "first…, then…, at the end…" is
# how a multi-step request is written when it is not a list.
ORDER_WORDS = re.compile(
    r"\b(?:then|next|after that|afterwards|finally|lastly|at the end|first|second|third|"
    r"dann|danach|anschlie\w*|zuerst|erst|erstens|zweitens|drittens|zum schluss|am ende|schlie\w+lich|"
    r"puis|ensuite|enfin|apr\w+s|d'abord|premi\w+rement|deuxi\w+mement|pour finir|"
    r"luego|despu\w+s|primero|segundo|por \w+ltimo|al final|finalmente|a continuaci\w+n|"
    r"depois|em seguida|primeiro|por fim|no final|ao final)\b"
)
ORDER_CHARS = 1_500  # the ask comes first in most prompts; a pasted story's "then"s should not count

# A polynomial hash of each substring of the padded text, mod 2**64 (numpy's unsigned overflow wraps), then
# spread over the buckets by multiplication (Fibonacci hashing). Integers only, so identical on every machine.
_BASE = np.uint64(1_000_003)
_BASE_INVERSE = np.uint64(pow(1_000_003, -1, 2**64))
_SPREAD = np.uint64(0x9E3779B97F4A7C15)
_KIND_SALT = np.uint64(0xD6E8FEB86659FD93)  # separates n-grams of each size and words that spell alike
_WORD_KIND = len(NGRAM_SIZES) + 1
_BIGRAM_KIND = len(NGRAM_SIZES) + 2
_SHAPE_KIND = len(NGRAM_SIZES) + 3


def read_part(text: str) -> str:
    """Return the part of `text` that is read: all of it, or its first and last characters when it is long."""
    return text if len(text) <= HEAD_CHARS + TAIL_CHARS else text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def folded(text: str) -> str:
    """Return `text` lower-cased, without accents, as words between single spaces."""
    text = COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text.lower())).translate(DIGITS)
    return " " + " ".join(TOKEN.findall(text)) + " "


def shape_words(text: str) -> str:
    """Return the words that name the shape of `text`, e.g. " items5 steps0 lines8 questions1 lead5 … order3 ".

    Besides the counts in the whole text: the list items of the opening paragraph ("lead") and of the closing one
    ("tail"), where the ask is when data is pasted between them, and the words that order instructions.
    """
    counts = {name: len(pattern.findall(text)) for name, pattern in SHAPES.items()}
    paragraphs = [paragraph for paragraph in PARAGRAPH_BREAK.split(text) if paragraph.strip()] or [text]
    counts["lead"] = len(LIST_LINE.findall(paragraphs[0]))
    if len(paragraphs) > 1:
        counts["tail"] = len(LIST_LINE.findall(paragraphs[-1]))
        counts["paragraphs"] = len(paragraphs)
    counts["order"] = len(ORDER_WORDS.findall(text[:ORDER_CHARS].lower()))
    return " " + " ".join(f"{name}{_named_count(found)}" for name, found in counts.items()) + " "


def _named_count(found: int) -> int:
    return max(count for count in SHAPE_COUNTS if count <= found)


def _buckets(hashes: np.ndarray, kind: int, bits: int) -> np.ndarray:
    salted = hashes + np.uint64(kind) * _KIND_SALT
    return ((salted * _SPREAD) >> np.uint64(64 - bits)).astype(np.int64)


def hashed_features(text: str, *, bits: int = BUCKET_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Return the features of `text`: sorted bucket numbers and their weights (log counts, unit length)."""
    part = read_part(text)
    padded = folded(part)
    shapes = shape_words(part)
    codes = np.frombuffer((padded + shapes[1:]).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    size = len(padded)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(len(codes), _BASE, dtype=np.uint64)) * _BASE_INVERSE  # BASE**i
        inverses = np.cumprod(np.full(len(codes), _BASE_INVERSE, dtype=np.uint64)) * _BASE  # BASE**-i
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(codes * powers, dtype=np.uint64)))

        def substrings(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
            return (prefix[ends] - prefix[starts]) * inverses[starts]

        shape_gaps = size - 1 + np.flatnonzero(codes[size - 1 :] == ord(" "))
        found = [_buckets(substrings(shape_gaps[:-1] + 1, shape_gaps[1:]), _SHAPE_KIND, bits)]
        space = codes[:size] == ord(" ")
        for kind, n in enumerate(NGRAM_SIZES, start=1):
            if size < n:
                continue
            starts = np.arange(size - n + 1)
            inside = np.ones(len(starts), dtype=bool)  # no space inside the n-gram, only at its ends
            for offset in range(1, n - 1):
                inside &= ~space[offset : offset + len(starts)]
            if n == 1:
                inside &= ~space
            found.append(_buckets(substrings(starts[inside], starts[inside] + n), kind, bits))
        gaps = np.flatnonzero(space)
        words_start, words_end = gaps[:-1] + 1, gaps[1:]
        found.append(_buckets(substrings(words_start, words_end), _WORD_KIND, bits))
        found.append(_buckets(substrings(words_start[:-1], words_end[1:]), _BIGRAM_KIND, bits))
    buckets, counts = np.unique(np.concatenate(found), return_counts=True)
    weights = np.log1p(counts)
    length = np.sqrt(weights @ weights)
    return buckets, (weights / length if length else weights)


@dataclass(frozen=True)
class Model:
    """A fitted learned stage: the tasks in column order, and the weights of the buckets that have any."""

    tasks: tuple[str, ...]
    rows: np.ndarray  # sorted bucket numbers with a weight (uint32)
    weights: np.ndarray  # one row per bucket in `rows`, one column per task (float16)
    bias: np.ndarray  # one per task (float32)
    bits: int
    digest: str  # of the training data, so a shipped model can be checked against the corpus

    def probabilities(self, text: str) -> dict[str, float]:
        """Return, for each task, the probability that `text` is a prompt of that task."""
        buckets, values = hashed_features(text, bits=self.bits)
        where = np.minimum(np.searchsorted(self.rows, buckets), len(self.rows) - 1)
        known = self.rows[where] == buckets
        logits = values[known] @ self.weights[where[known]].astype(np.float32) + self.bias
        exp = np.exp(logits - logits.max())
        return dict(zip(self.tasks, (exp / exp.sum()).tolist(), strict=True))

    def save(self, path: Path) -> None:
        """Write the model to `path` (a .npz file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            np.savez_compressed(
                file,
                tasks=np.array(self.tasks),
                rows=self.rows,
                weights=self.weights,
                bias=self.bias,
                bits=np.array(self.bits),
                digest=np.array(self.digest),
            )


def read_model(path: Path) -> Model:
    """Return the model stored at `path`."""
    with np.load(path) as stored:
        return Model(
            tasks=tuple(str(task) for task in stored["tasks"]),
            rows=stored["rows"],
            weights=stored["weights"],
            bias=stored["bias"],
            bits=int(stored["bits"]),
            digest=str(stored["digest"]),
        )


@cache
def shipped_model() -> Model:
    """Return the model shipped with the code, read on first use and kept for the life of the process."""
    return read_model(MODEL_PATH)
