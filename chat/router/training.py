"""Fitting the learned stage: the labelled examples it learns from, and the regression that fits them.

The examples are the train split of chat/router/corpus/<lang>.jsonl (lines of {"task", "lang", "split",
"text"}) and the tuning part of the English evaluation set, tests/data/routing_eval.jsonl, whose every third
prompt per task, in file order, stays held out. Held-out examples are never fitted on, nor used to choose the
settings below: those were chosen by cross-validation on the train split (`manage.py train_router --search`).

The fit is a multinomial logistic regression with an L2 penalty, minimised by L-BFGS from zero weights: no
randomness, so the same examples always give the same model.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chat.router.classify import Task, decide, scores
from chat.router.features import extract
from chat.router.learned import BUCKET_BITS, Model, hashed_features
from chat.router.table import ROUTES

ROOT = Path(__file__).resolve().parent.parent.parent
CORPUS_DIR = ROOT / "chat" / "router" / "corpus"
ENGLISH_EVAL_SET = ROOT / "tests" / "data" / "routing_eval.jsonl"
# 208 prompts in plain English (16 per task) that avoid the tasks' obvious words, written after the shipped model
# was fitted and never trained on: a second test of the phrasing the word lists miss (docs/routing.md).
PLAIN_ENGLISH_SET = ROOT / "tests" / "data" / "routing_plain_english.jsonl"

L2 = 1e-5  # chosen by cross-validation on the train split (docs/routing.md)
MIN_DOCUMENTS = 2  # a feature seen in a single example fits that example only, and costs room in the file
ITERATIONS = 60  # also chosen by cross-validation: more fit the train split closer, not the other folds
TOLERANCE = 1e-6  # stop when no gradient entry is larger


@dataclass(frozen=True)
class Example:
    text: str
    task: str
    lang: str
    held_out: bool
    source: str  # "corpus", "eval" or "plain": the multilingual corpus, the English evaluation set, plain English


def corpus_examples(directory: Path = CORPUS_DIR) -> list[Example]:
    """Return every labelled prompt of the corpus, in file order, languages in alphabetical order."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                examples.append(
                    Example(row["text"], row["task"], row["lang"], row["split"] == "heldout", source="corpus")
                )
    return examples


def english_eval_examples(path: Path = ENGLISH_EVAL_SET) -> list[Example]:
    """Return the English evaluation set, every third prompt of each task (in file order) held out."""
    examples, seen = [], Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        seen[row["task"]] += 1
        examples.append(Example(row["prompt"], row["task"], "en", seen[row["task"]] % 3 == 0, source="eval"))
    return examples


def plain_english_examples(path: Path = PLAIN_ENGLISH_SET) -> list[Example]:
    """Return the plain-English test set: prompts written after the model was fitted, every one held out."""
    return [
        Example(row["text"], row["task"], row["lang"], held_out=True, source="plain")
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]


def training_examples(corpus: Path = CORPUS_DIR, english_eval: Path = ENGLISH_EVAL_SET) -> list[Example]:
    """Return the examples the shipped model is fitted on: everything that is not held out."""
    return [e for e in [*corpus_examples(corpus), *english_eval_examples(english_eval)] if not e.held_out]


def digest_of(examples: Iterable[Example]) -> str:
    """Return a fingerprint of the examples' labels and texts, in order."""
    sha = hashlib.sha256()
    for example in examples:
        sha.update(json.dumps([example.task, example.text], ensure_ascii=False).encode())
    return sha.hexdigest()


@dataclass(frozen=True)
class Matrix:
    """The examples' features as a sparse matrix: one entry per (example, feature) pair."""

    rows: np.ndarray  # example of each entry
    columns: np.ndarray  # compact feature number of each entry
    values: np.ndarray
    buckets: np.ndarray  # the hashed bucket of each compact feature
    shape: tuple[int, int]

    def times(self, weights: np.ndarray) -> np.ndarray:
        """Return X @ weights.T, for weights of one row per task (bincount: sparse and summed in a fixed order)."""
        return np.stack(
            [np.bincount(self.rows, row[self.columns] * self.values, minlength=self.shape[0]) for row in weights],
            axis=1,
        )

    def transposed_times(self, gradients: np.ndarray) -> np.ndarray:
        """Return (X.T @ gradients).T: one row per column of `gradients`."""
        return np.stack(
            [
                np.bincount(self.columns, column[self.rows] * self.values, minlength=self.shape[1])
                for column in gradients.T
            ]
        )


def feature_matrix(texts: Sequence[str], *, bits: int = BUCKET_BITS, min_documents: int = MIN_DOCUMENTS) -> Matrix:
    """Return the features of `texts`, keeping those found in at least `min_documents` of them."""
    found = [hashed_features(text, bits=bits) for text in texts]
    all_buckets = np.concatenate([buckets for buckets, _ in found])
    kept, documents = np.unique(all_buckets, return_counts=True)
    kept = kept[documents >= min_documents]
    rows, columns, values = [], [], []
    for number, (buckets, weights) in enumerate(found):
        where = np.searchsorted(kept, buckets).clip(max=len(kept) - 1)
        hit = kept[where] == buckets
        rows.append(np.full(int(hit.sum()), number))
        columns.append(where[hit])
        values.append(weights[hit])
    return Matrix(
        rows=np.concatenate(rows),
        columns=np.concatenate(columns),
        values=np.concatenate(values),
        buckets=kept,
        shape=(len(texts), len(kept)),
    )


def minimise(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray, *, iterations: int, memory: int = 10
) -> np.ndarray:
    """Return the point L-BFGS reaches from `start`: `objective` gives the value and gradient at a point."""
    point = start
    value, gradient = objective(point)
    steps, changes = [], []
    for _ in range(iterations):
        if np.abs(gradient).max() < TOLERANCE:
            break
        direction = -gradient
        scales = []
        for step, change in reversed(list(zip(steps, changes, strict=True))):
            scale = (step @ direction) / (change @ step)
            direction -= scale * change
            scales.append(scale)
        if steps:
            direction *= (steps[-1] @ changes[-1]) / (changes[-1] @ changes[-1])
        for (step, change), scale in zip(zip(steps, changes, strict=True), reversed(scales), strict=True):
            direction += step * (scale - (change @ direction) / (change @ step))
        length = 1.0 if steps else 1.0 / np.abs(gradient).sum()
        slope = gradient @ direction
        while True:  # back off until the value falls enough (Armijo)
            candidate = point + length * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * length * slope or length < 1e-10:
                break
            length /= 2
        step, change = candidate - point, new_gradient - gradient
        if step @ change > 1e-12:
            steps, changes = [*steps[-memory + 1 :], step], [*changes[-memory + 1 :], change]
        point, value, gradient = candidate, new_value, new_gradient
    return point


def fit(examples: Sequence[Example], tasks: Sequence[str], *, l2: float = L2, bits: int = BUCKET_BITS) -> Model:
    """Return the learned stage fitted on `examples`, with one column per task in `tasks` order."""
    matrix = feature_matrix([example.text for example in examples], bits=bits)
    count, features = matrix.shape
    labels = np.array([tasks.index(example.task) for example in examples])
    targets = np.zeros((count, len(tasks)))
    targets[np.arange(count), labels] = 1.0

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = flat[: features * len(tasks)].reshape(len(tasks), features), flat[features * len(tasks) :]
        logits = matrix.times(weights) + bias
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probabilities[np.arange(count), labels].mean() + l2 / 2 * (weights * weights).sum()
        errors = (np.exp(log_probabilities) - targets) / count
        gradient = matrix.transposed_times(errors) + l2 * weights
        return float(loss), np.concatenate([gradient.ravel(), errors.sum(axis=0)])

    flat = minimise(objective, np.zeros(features * len(tasks) + len(tasks)), iterations=ITERATIONS)
    weights = flat[: features * len(tasks)].reshape(len(tasks), features).T
    return Model(
        tasks=tuple(tasks),
        rows=matrix.buckets.astype(np.uint32),
        weights=weights.astype(np.float16),
        bias=flat[features * len(tasks) :].astype(np.float32),
        bits=bits,
        digest=digest_of(examples),
    )


def folds_of(examples: Sequence[Example], count: int) -> np.ndarray:
    """Return a fold number per example: each task's prompts of each language and source dealt out in turn."""
    seen = Counter()
    folds = []
    for example in examples:
        group = (example.task, example.lang, example.source)
        folds.append(seen[group] % count)
        seen[group] += 1
    return np.array(folds)


def cross_validated_probabilities(
    examples: Sequence[Example], tasks: Sequence[str], *, folds: int = 5, **settings
) -> np.ndarray:
    """Return each example's probabilities from a model fitted on the other folds (one row per example)."""
    fold = folds_of(examples, folds)
    probabilities = np.zeros((len(examples), len(tasks)))
    for number in range(folds):
        model = fit([e for e, f in zip(examples, fold, strict=True) if f != number], tasks, **settings)
        for index in np.flatnonzero(fold == number):
            probabilities[index] = list(model.probabilities(examples[index].text).values())
    return probabilities


@dataclass(frozen=True)
class Trial:
    """The cross-validated accuracy of one setting of the learned stage and of its part in the vote."""

    l2: float
    weight: float
    strong: float
    task_accuracy: float
    model_accuracy: float
    by_language: dict[str, float]  # task accuracy per language ("en*" for the English evaluation set)


def search(
    examples: Sequence[Example],
    *,
    l2s: Iterable[float],
    weights: Iterable[float],
    strongs: Iterable[float],
    folds: int = 5,
) -> list[Trial]:
    """Return the cross-validated accuracy of Auto for each L2 penalty, learned vote weight and strong-signal score.

    Every example is classified by a model fitted on the other folds, so the figures say how Auto does on
    prompts it was not fitted on; only `examples` are read (pass the train split).
    """
    tasks = [task.value for task in Task]
    tallies = [scores(extract(example.text)) for example in examples]
    settings = [(weight, strong) for weight in weights for strong in strongs]
    languages = [example.lang + ("*" if example.source == "eval" else "") for example in examples]
    labelled = [Task(example.task) for example in examples]
    trials = []
    for l2 in l2s:
        probabilities = cross_validated_probabilities(examples, tasks, folds=folds, l2=l2)
        for weight, strong in settings:
            chosen = [
                decide(tally, lambda row=row: dict(zip(tasks, row, strict=True)), weight=weight, strong=strong).task
                for tally, row in zip(tallies, probabilities, strict=True)
            ]
            right = [a == b for a, b in zip(chosen, labelled, strict=True)]
            same_model = [ROUTES[a].model == ROUTES[b].model for a, b in zip(chosen, labelled, strict=True)]
            by_language = {
                language: float(np.mean([r for r, lang in zip(right, languages, strict=True) if lang == language]))
                for language in sorted(set(languages))
            }
            trials.append(Trial(l2, weight, strong, float(np.mean(right)), float(np.mean(same_model)), by_language))
    return trials
