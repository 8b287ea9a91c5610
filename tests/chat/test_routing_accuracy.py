"""Auto's classifier against the labelled evaluation set, per task and overall, on all prompts and held out.

tests/data/routing_eval.jsonl holds 209 prompts (at least 15 per task), written before the classifier was
tuned. Every third prompt of each task, in file order, is held out: its misses were never looked at while
tuning, so the held-out figure is the honest one. The floors are the accuracies measured when the
classifier was frozen (docs/routing.md), rounded down slightly, so a change that makes Auto pick the wrong
model more often fails here. "Model accuracy" counts a prompt right when the task recognised goes to the
same default model as the labelled task (a summary taken for a digest is still sent to gpt-4o-mini).
"""

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from chat.router.classify import Task, classify
from chat.router.table import ROUTES

EVAL_SET = Path(__file__).resolve().parent.parent / "data" / "routing_eval.jsonl"

# Measured on the frozen classifier: model accuracy 1.00 for every task but multi_step (15/16).
MODEL_FLOOR = {task: 0.99 for task in Task} | {Task.MULTI_STEP: 0.93}
OVERALL_MODEL_FLOOR = 0.99  # measured 208/209 = 0.995
HELD_OUT_MODEL_FLOOR = 0.98  # measured 65/66 = 0.985
OVERALL_TASK_FLOOR = 0.96  # measured 203/209 = 0.971
HELD_OUT_TASK_FLOOR = 0.93  # measured 62/66 = 0.939


@dataclass(frozen=True)
class Outcome:
    task: Task  # the label
    held_out: bool
    predicted: Task

    @property
    def task_right(self) -> bool:
        return self.predicted == self.task

    @property
    def model_right(self) -> bool:
        return ROUTES[self.predicted].model == ROUTES[self.task].model


def load_eval_set() -> list[dict]:
    """Return the labelled prompts, each marked held out when it is every third prompt of its task."""
    rows, seen = [], Counter()
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        seen[row["task"]] += 1
        rows.append({**row, "held_out": seen[row["task"]] % 3 == 0})
    return rows


def outcomes() -> list[Outcome]:
    return [Outcome(Task(row["task"]), row["held_out"], classify(row["prompt"]).task) for row in load_eval_set()]


def share(results: list[bool]) -> float:
    return sum(results) / len(results)


def accuracy_table(results: list[Outcome]) -> str:
    """Return the accuracy table of docs/routing.md: per task and overall, all prompts and held out."""
    lines = [
        "| task | model | prompts | task accuracy | model accuracy | held out | held-out task | held-out model |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, model: str, group: list[Outcome]) -> str:
        held = [outcome for outcome in group if outcome.held_out]
        cells = [
            len(group),
            f"{sum(o.task_right for o in group)}/{len(group)} ({share([o.task_right for o in group]):.1%})",
            f"{sum(o.model_right for o in group)}/{len(group)} ({share([o.model_right for o in group]):.1%})",
            len(held),
            f"{sum(o.task_right for o in held)}/{len(held)}",
            f"{sum(o.model_right for o in held)}/{len(held)}",
        ]
        return f"| {name} | {model} | " + " | ".join(map(str, cells)) + " |"

    for route in ROUTES.values():
        lines.append(row(route.task.value, route.model, [o for o in results if o.task == route.task]))
    lines.append(row("**overall**", "", results))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def results() -> list[Outcome]:
    measured = outcomes()
    print("\n" + accuracy_table(measured))
    return measured


def test_the_eval_set_covers_every_task_with_at_least_15_prompts():
    rows = load_eval_set()

    assert len({row["id"] for row in rows}) == len(rows)
    assert Counter(row["task"] for row in rows).keys() == {task.value for task in Task}
    assert min(Counter(row["task"] for row in rows).values()) >= 15


@pytest.mark.parametrize("task", list(Task))
def test_each_task_goes_to_its_model_at_least_as_often_as_measured(results, task):
    group = [outcome for outcome in results if outcome.task == task]

    assert share([outcome.model_right for outcome in group]) >= MODEL_FLOOR[task]


def test_overall_accuracy_is_at_least_as_measured(results):
    held = [outcome for outcome in results if outcome.held_out]

    assert share([outcome.model_right for outcome in results]) >= OVERALL_MODEL_FLOOR
    assert share([outcome.model_right for outcome in held]) >= HELD_OUT_MODEL_FLOOR
    assert share([outcome.task_right for outcome in results]) >= OVERALL_TASK_FLOOR
    assert share([outcome.task_right for outcome in held]) >= HELD_OUT_TASK_FLOOR
