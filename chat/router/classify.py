"""Name the task a prompt is, from its features, and say which signals decided: a weighted vote, no network.

Each task adds up the signals its prompts really have (code lines for code review, a pasted document and a
question for document Q&A, a field list for extraction...), plus a vote from the learned stage
(chat/router/learned.py): LEARNED_WEIGHT points times the log of its probability that the prompt is of that
task. Plain general chat starts at GENERAL_CHAT_SCORE plus its own learned vote. The highest total wins. When
the signals alone reach STRONG_SIGNALS_SCORE (a fenced code block with code lines, a long pasted document and
questions about it, a JSON template and field names), they decide without the vote; the learned vote carries
intent and the languages the word lists do not know. The reason names the winning signals, or, when the
learned vote changed the outcome, says what the request reads as, in the prompt's language.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from chat.router.features import Features, extract
from chat.router.languages import guess_language, reads_as
from chat.router.learned import shipped_model


class Task(StrEnum):
    """The tasks Auto tells apart (ids are stable: they are stored on messages and in the routing table)."""

    SUPPORT_INTENT = "support_intent"
    BULK_SUMMARY = "bulk_summary"
    JSON_EXTRACTION = "json_extraction"
    RAG_RERANK = "rag_rerank"
    SOCIAL_CAPTION = "social_caption"
    CHATBOT = "chatbot"
    SUPPORT_EMAIL = "support_email"
    CODE_REVIEW = "code_review"
    LONG_DOCUMENT_QA = "long_document_qa"
    BRAND_CONTENT = "brand_content"
    MULTI_STEP = "multi_step"
    RESEARCH_SUMMARY = "research_summary"
    GENERAL_CHAT = "general_chat"


GENERAL_CHAT_SCORE = 2.0  # a task must score above this to win over plain chat
# Both chosen by cross-validation on the train split (docs/routing.md):
LEARNED_WEIGHT = 2.0  # signal points per unit of the learned stage's log-probability
STRONG_SIGNALS_SCORE = 4.0  # signals this strong decide alone (a fenced block and code lines, a paste and a question)
MIN_PROBABILITY = 1e-9
LONG_DOCUMENT_CHARS = 2_500  # about 600 tokens of pasted material
VERY_LONG_DOCUMENT_CHARS = 8_000


@dataclass(frozen=True)
class Classification:
    task: Task
    reason: str  # the signals that decided, in words, e.g. "a fenced code block and the words 'review', 'bug'"
    score: float
    learned: bool = False  # the learned vote changed what the signals alone would have chosen


@dataclass
class Tally:
    """The running vote of one task: its score, the shapes that counted and the words that counted."""

    score: float = 0.0
    signs: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)

    def sign(self, weight: float, description: str) -> None:
        self.score += weight
        self.signs.append(description)

    def vocabulary(self, found: tuple[str, ...], *, first: float, more: float, most: int) -> None:
        """Count up to `most` words of one family: `first` for the first word, `more` for each further one."""
        counted = found[:most]
        if counted:
            self.score += first + more * (len(counted) - 1)
            self.words.extend(word for word in counted if word not in self.words)

    def reason(self) -> str:
        parts = list(self.signs[:2])
        if self.words:
            quoted = [f"'{word}'" for word in self.words[:4]]
            said = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
            parts.append(f"the word{'s' if len(quoted) > 1 else ''} {said}")
        return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def code_review(f: Features) -> Tally:
    """Count code (fenced blocks, lines of code), code vocabulary, and asks to review or explain it."""
    tally = Tally()
    if f.code_fences:
        tally.sign(3.0, "a fenced code block")
    if f.code_lines >= 3 and f.code_share >= 0.2:
        tally.sign(3.0, _plural(f.code_lines, "line") + " of code")
    elif f.code_lines and f.code_share >= 0.25:
        tally.sign(1.5, "a line of code")
    tally.vocabulary(f.words("code"), first=1.5, more=0.75, most=3)
    if tally.score:
        tally.vocabulary(f.words("review"), first=1.0, more=0.5, most=2)
    return tally


def json_extraction(f: Features) -> Tally:
    """Count asks for JSON or structured output, extraction verbs, field names and JSON templates."""
    tally = Tally()
    tally.vocabulary(f.words("json"), first=2.0, more=0.75, most=3)
    tally.vocabulary(f.words("extract"), first=1.5, more=0.5, most=2)
    if f.field_names >= 3:
        tally.sign(2.0, _plural(f.field_names, "field name"))
    elif f.field_names:
        tally.sign(0.5, _plural(f.field_names, "field name"))
    if f.json_shape:
        tally.sign(1.5, "a JSON template")
    return tally


def support_intent(f: Features) -> Tally:
    """Count asks to classify, label or route, with the support words they come with."""
    tally = Tally()
    tally.vocabulary(f.words("classify"), first=2.5, more=1.0, most=3)
    if tally.score:
        tally.vocabulary(f.words("support"), first=0.75, more=0.25, most=2)
    return tally


def rag_rerank(f: Features) -> Tally:
    """Count asks to rank or score relevance, retrieval words, and the candidates listed."""
    tally = Tally()
    tally.vocabulary(f.words("rank"), first=2.0, more=0.75, most=3)
    if tally.score:
        tally.vocabulary(f.words("retrieval"), first=1.0, more=0.5, most=3)
        if f.list_items >= 3:
            tally.sign(1.0, _plural(f.list_items, "candidate"))
    return tally


def _summary(f: Features) -> Tally:
    """Count asks to summarize (shared by both summary tasks)."""
    tally = Tally()
    tally.vocabulary(f.words("summary"), first=3.0, more=0.5, most=2)
    return tally


def bulk_summary(f: Features) -> Tally:
    """Count asks to summarize many items or routine material: per-item words and batches."""
    tally = _summary(f)
    if tally.score:
        tally.vocabulary(f.words("per_item"), first=1.0, more=0.5, most=2)
        if f.list_items >= 5:
            tally.sign(1.0, f"a batch of {f.list_items:,} items")
    return tally


def research_summary(f: Features) -> Tally:
    """Count asks to summarize for readers: audience and editorial words, the language of research."""
    tally = _summary(f)
    if tally.score:
        tally.vocabulary(f.words("audience"), first=1.5, more=0.75, most=3)
        tally.vocabulary(f.words("research"), first=0.75, more=0.25, most=2)
        if f.material_hits.get("research", 0) >= 8:
            tally.sign(1.0, "the language of research (study, findings, participants...)")
    return tally


def support_email(f: Features) -> Tally:
    """Count asks for an email or a reply, email headers, recipients and courtesy."""
    tally = Tally()
    tally.vocabulary(f.words("email"), first=2.0, more=0.5, most=2)
    tally.vocabulary(f.words("reply"), first=2.0, more=0.5, most=2)
    if f.email_lines >= 2:
        tally.sign(1.5, "an email's headers and greeting")
    if tally.score:
        tally.vocabulary(f.words("recipient"), first=0.5, more=0.25, most=2)
        tally.vocabulary(f.words("courtesy"), first=0.75, more=0.25, most=2)
    return tally


def chatbot(f: Features) -> Tally:
    """Count bots and assistants, personas, chat turns and the channels bots live in."""
    tally = Tally()
    tally.vocabulary(f.words("bot"), first=2.5, more=0.5, most=3)
    if f.chat_turns:
        tally.sign(1.5, _plural(f.chat_turns, "chat turn"))
    if tally.score:
        tally.vocabulary(f.words("channel"), first=0.5, more=0.25, most=2)
        tally.vocabulary(f.words("persona"), first=1.0, more=0.25, most=2)
        tally.vocabulary(f.words("turn"), first=0.5, more=0.25, most=2)
    return tally


def social_caption(f: Features) -> Tally:
    """Count social platforms and the short forms posted on them (captions, hashtags, hooks)."""
    tally = Tally()
    tally.vocabulary(f.words("social"), first=3.0, more=0.5, most=3)
    tally.vocabulary(f.words("caption"), first=2.5, more=0.5, most=2)
    return tally


def brand_content(f: Features) -> Tally:
    """Count brand and copy words, creative forms (poem, story, lyrics) and tone adjectives."""
    tally = Tally()
    tally.vocabulary(f.words("brand"), first=2.0, more=0.75, most=3)
    tally.vocabulary(f.words("creative"), first=2.5, more=0.5, most=2)
    tally.vocabulary(f.words("style"), first=1.0, more=0.5, most=3)
    return tally


def multi_step(f: Features) -> Tally:
    """Count distinct instructions beyond three, and rules or steps given as a list."""
    tally = Tally()
    if f.directives >= 4:
        tally.sign(min(f.directives - 1, 7) * 1.0, _plural(f.directives, "distinct instruction"))
    if f.instruction_items >= 3:
        tally.sign(1.0, "a list of rules or steps")
    return tally


def long_document_qa(f: Features) -> Tally:
    """Count a pasted document's length, questions about it and references to it."""
    tally = Tally()
    if f.document_chars >= VERY_LONG_DOCUMENT_CHARS:
        tally.sign(2.5, f"a pasted document of about {f.document_chars // 6:,} words")
    elif f.document_chars >= LONG_DOCUMENT_CHARS:
        tally.sign(1.5, f"a pasted document of about {f.document_chars // 6:,} words")
    if tally.score:
        if f.questions:
            tally.sign(1.0 + 0.5 * min(f.questions - 1, 2), "a question about it")
        tally.vocabulary(f.words("document"), first=1.0, more=0.5, most=2)
    return tally


SCORERS = {
    Task.SUPPORT_INTENT: support_intent,
    Task.BULK_SUMMARY: bulk_summary,
    Task.JSON_EXTRACTION: json_extraction,
    Task.RAG_RERANK: rag_rerank,
    Task.SOCIAL_CAPTION: social_caption,
    Task.CHATBOT: chatbot,
    Task.SUPPORT_EMAIL: support_email,
    Task.CODE_REVIEW: code_review,
    Task.LONG_DOCUMENT_QA: long_document_qa,
    Task.BRAND_CONTENT: brand_content,
    Task.MULTI_STEP: multi_step,
    Task.RESEARCH_SUMMARY: research_summary,
}


def scores(features: Features) -> dict[Task, Tally]:
    """Return every task's tally for these features (for the classifier, and to inspect a decision)."""
    return {task: scorer(features) for task, scorer in SCORERS.items()}


def by_signals(tallies: Mapping[Task, Tally]) -> Classification:
    """Return the task whose signals add up highest, or general chat when none beats plain chat."""
    task, tally = max(tallies.items(), key=lambda item: item[1].score)  # ties: the earlier task in SCORERS
    if tally.score <= GENERAL_CHAT_SCORE:
        return Classification(Task.GENERAL_CHAT, "no code, document, list or format request stood out", tally.score)
    return Classification(task, tally.reason(), tally.score)


def votes(
    tallies: Mapping[Task, Tally], probabilities: Mapping[str, float], *, weight: float = LEARNED_WEIGHT
) -> dict[Task, float]:
    """Return each task's total: its signals' score plus `weight` times the log of the learned probability for it.

    A log, so that the learned stage speaks in odds: a task it finds 20 times less likely than another starts
    about 3 * `weight` points behind it, which only strong signals make up.
    """
    totals = {Task.GENERAL_CHAT: GENERAL_CHAT_SCORE + weight * _log(probabilities[Task.GENERAL_CHAT])}  # wins ties
    totals.update({task: tally.score + weight * _log(probabilities[task]) for task, tally in tallies.items()})
    return totals


def _log(probability: float) -> float:
    return math.log(max(probability, MIN_PROBABILITY))


def decide(
    tallies: Mapping[Task, Tally],
    learned: Callable[[], Mapping[str, float]],
    *,
    language: Callable[[], str] = lambda: "en",
    weight: float = LEARNED_WEIGHT,
    strong: float = STRONG_SIGNALS_SCORE,
) -> Classification:
    """Return the task of a prompt from its signals' tallies and, unless the signals are strong, the learned vote.

    `learned` returns the learned stage's probabilities and `language` the prompt's language; each is called only
    when needed. When the signals alone score `strong` or more for a task, they decide; otherwise the highest
    total of signals and learned vote wins. The reason is the signals' own when they alone would have chosen the
    same task; otherwise the learned vote decided, and the reason says what the request reads as.
    """
    signals = by_signals(tallies)
    if signals.task != Task.GENERAL_CHAT and signals.score >= strong:
        return signals
    totals = votes(tallies, learned(), weight=weight)
    task = max(totals, key=lambda candidate: totals[candidate])
    if signals.task == task:
        return Classification(task, signals.reason, totals[task])
    return Classification(task, reads_as(task, language()), totals[task], learned=True)


def classify(prompt: str) -> Classification:
    """Return the task of `prompt` and the signals that decided it."""
    return decide(
        scores(extract(prompt)),
        lambda: shipped_model().probabilities(prompt),
        language=lambda: guess_language(prompt),
    )
