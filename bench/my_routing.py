"""Measure my routing on simulated people: how often Auto picks the model a person prefers, with it off and on.

Run:
    .venv/bin/python bench/my_routing.py

Each simulated person has a hidden preferred model for every task, one of Auto's two candidates (GPT-4o mini
and Claude 3.5 Haiku): for each task, a coin decides whether it is the table's model or the other one. They
send side-by-side turns of both models, prompts drawn from the labelled routing set's tuning prompts, and
mark the reply of their preferred model best with probability `consistency` (else the other one). Auto
learns from those marks (chat/router/preferences.py) by the task it recognises in each prompt, as the
product does. Then, on the held-out prompts (every third prompt of each task, as in docs/routing.md), a
choice is right when it is the person's preferred model for the prompt's labelled task.

No database and no network: the pure router decides (chat/router/table.py `choose`), with both candidates
available, so a settled preference always qualifies. tests/chat/test_my_routing_accuracy.py runs the same
people through the real services (set_winner, choose_panels) on the test database and asserts a floor.
"""

import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chat.router.classify import Task, classify  # noqa: E402
from chat.router.preferences import MIN_SHARE, MIN_WINS, Preference, preferences_from  # noqa: E402
from chat.router.table import ROUTES, Candidate, choose  # noqa: E402

EVAL_SET = ROOT / "tests" / "data" / "routing_eval.jsonl"
CANDIDATES = ("gpt-4o-mini", "claude-3-5-haiku")  # Auto's two candidates as seeded
SEED = 20261205
PEOPLE = 300
CONSISTENCIES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)  # 0.5: no real preference, marks are coin flips
MARKED_TURNS = (1, 2, 3, 5, 10)  # per task
THRESHOLDS = ((1, 0.5), (2, 0.6), (3, 0.6), (3, 0.7), (4, 0.6), (5, 0.6), (3, 0.8))  # (wins, share) to compare


@dataclass(frozen=True)
class Person:
    """A simulated person: the model they really prefer for each task, and how consistently they mark it."""

    preferred: dict[Task, str]
    consistency: float


@dataclass(frozen=True)
class Prompts:
    """The labelled prompts: those to mark winners on (tuning), and those to measure on (held out)."""

    marking: dict[Task, list[str]]
    held_out: list[tuple[Task, str]]


def load_prompts() -> Prompts:
    """Return the routing set split as docs/routing.md splits it: every third prompt of a task is held out."""
    marking: dict[Task, list[str]] = {task: [] for task in Task}
    held_out, seen = [], Counter()
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        task = Task(row["task"])
        seen[task] += 1
        if seen[task] % 3 == 0:
            held_out.append((task, row["prompt"]))
        else:
            marking[task].append(row["prompt"])
    return Prompts(marking, held_out)


def simulated_people(rng: random.Random, count: int, consistency: float, *, agree: float = 0.5) -> list[Person]:
    """Return `count` people, each preferring, per task, the table's model (chance `agree`) or the other candidate."""

    def preferred(task: Task) -> str:
        table = ROUTES[task].model
        return table if rng.random() < agree else next(slug for slug in CANDIDATES if slug != table)

    return [Person({task: preferred(task) for task in Task}, consistency) for _ in range(count)]


def marked_turns(rng: random.Random, person: Person, prompts: Prompts, per_task: int) -> list[tuple[str, str]]:
    """Return the person's side-by-side turns as (prompt, the slug of the reply they marked best)."""
    turns = []
    for task in Task:
        for _ in range(per_task):
            preferred = person.preferred[task]
            other = next(slug for slug in CANDIDATES if slug != preferred)
            turns.append((rng.choice(prompts.marking[task]), preferred if rng.random() < person.consistency else other))
    return turns


def learned(turns: Iterable[tuple[str, str]]) -> dict[str, Preference]:
    """Return what Auto learns from marked turns: each counts for the task recognised in its prompt."""
    return preferences_from((recognised(prompt), winner, 1) for prompt, winner in turns)


CATALOG = [
    Candidate("gpt-4o-mini", "GPT-4o mini", 128_000, 16_384, 4_096, offered=True, available=True),
    Candidate("claude-3-5-haiku", "Claude 3.5 Haiku", 200_000, 8_192, 4_096, offered=True, available=True),
]
PRICE_PER_TOKEN = {"gpt-4o-mini": 1, "claude-3-5-haiku": 5}


def estimate(slug: str, *, input_tokens: int, output_tokens: int) -> int:
    """Return a price that keeps GPT-4o mini the cheaper, as it is (prices decide nothing here: no ceiling)."""
    return PRICE_PER_TOKEN[slug] * (input_tokens + output_tokens)


def routed(prompt: str, preferences: dict[str, Preference] | None) -> str:
    """Return the slug Auto sends `prompt` to, by the pure router, with or without the person's preferences."""
    task = recognised(prompt)
    return _routed(prompt, preferences.get(task) if preferences else None)


@cache
def recognised(prompt: str) -> str:
    """Return the task Auto recognises in `prompt` (cached: the simulation asks for the same prompts often)."""
    return classify(prompt).task.value


@cache
def _routed(prompt: str, preference: Preference | None) -> str:
    """Route with only the preference for the prompt's task: the router reads no other (cached: many repeat)."""
    preferences = None if preference is None else {recognised(prompt): preference}
    return choose(prompt=prompt, catalog=CATALOG, rules={}, estimate=estimate, preferences=preferences).model.slug


@dataclass(frozen=True)
class Score:
    right: int
    total: int

    @property
    def share(self) -> float:
        return self.right / self.total


def measure(people: list[Person], prompts: Prompts, choices: Callable[[Person], Callable[[str], str]]) -> Score:
    """Count the held-out prompts on which `choices(person)` picks the person's preferred model."""
    right = total = 0
    for person in people:
        choose_for = choices(person)
        for task, prompt in prompts.held_out:
            right += choose_for(prompt) == person.preferred[task]
            total += 1
    return Score(right, total)


def off_and_on(consistency: float, per_task: int, prompts: Prompts, *, people: int = PEOPLE) -> tuple[Score, Score]:
    """Return Auto's accuracy for one group of simulated people with my routing off (the table) and on."""
    rng = random.Random(f"{SEED}:{consistency}:{per_task}")  # noqa: S311 (a simulation, not secrets)
    group = simulated_people(rng, people, consistency)
    learned_by = {id(person): learned(marked_turns(rng, person, prompts, per_task)) for person in group}
    table = {prompt: routed(prompt, None) for _, prompt in prompts.held_out}  # the same for everyone
    off = measure(group, prompts, lambda person: table.__getitem__)
    on = measure(group, prompts, lambda person: lambda prompt: routed(prompt, learned_by[id(person)]))
    return off, on


def with_thresholds(preference: Preference | None, table_slug: str, min_wins: int, min_share: float) -> str:
    """Return what the router would pick under other thresholds (both candidates qualify, so it is this simple)."""
    if preference is not None and preference.wins >= min_wins and preference.wins >= min_share * preference.decided:
        return preference.slug
    return table_slug


@dataclass(frozen=True)
class Scenario:
    """A group of simulated people for the threshold sweep, and whether its figure counts right choices."""

    title: str
    agree: float  # the chance a task's preferred model is the table's
    consistency: float
    per_task: int
    moved: bool = False  # count the prompts sent off the table instead (people with no real preference)


SCENARIOS = (
    Scenario("even split, 80%, 5 marks", 0.5, 0.8, 5),
    Scenario("even split, 80%, 3 marks", 0.5, 0.8, 3),
    Scenario("table-leaning, 70%, 3 marks", 0.75, 0.7, 3),
    Scenario("table-leaning, 60%, 5 marks", 0.75, 0.6, 5),
    Scenario("no preference (50%), 5 marks: sent off the table", 0.5, 0.5, 5, moved=True),
)


def threshold_sweep(prompts: Prompts, scenario: Scenario) -> list[float]:
    """Return, for each (wins, share) threshold in THRESHOLDS, the scenario's figure with my routing on."""
    rng = random.Random(f"{SEED}:sweep:{scenario}")  # noqa: S311 (a simulation, not secrets)
    group = simulated_people(rng, PEOPLE, scenario.consistency, agree=scenario.agree)
    learned_by = {id(person): learned(marked_turns(rng, person, prompts, scenario.per_task)) for person in group}
    figures = []
    for min_wins, min_share in THRESHOLDS:
        right = total = 0
        for person in group:
            for task, prompt in prompts.held_out:
                table_slug = ROUTES[Task(recognised(prompt))].model
                slug = with_thresholds(learned_by[id(person)].get(recognised(prompt)), table_slug, min_wins, min_share)
                right += (slug != table_slug) if scenario.moved else (slug == person.preferred[task])
                total += 1
        figures.append(right / total)
    return figures


def main():
    """Print Auto's accuracy off and on per consistency and marked turns, then a sweep of the thresholds."""
    prompts = load_prompts()
    print(
        f"my routing: {PEOPLE} simulated people per cell, {len(prompts.held_out)} held-out prompts each; "
        f"thresholds: at least {MIN_WINS} wins and {MIN_SHARE:.0%} of a task's marked turns"
    )
    print("accuracy = share of held-out prompts sent to the person's preferred model; off (table) / on (my routing)")
    print("each person prefers, per task, the table's model or the other candidate (a coin each); consistency = the")
    print("chance they mark their preferred model's reply best")
    print()
    print("| consistency | " + " | ".join(f"{k} marked/task" for k in MARKED_TURNS) + " |")
    print("|---:|" + "---:|" * len(MARKED_TURNS))
    for consistency in CONSISTENCIES:
        cells = []
        for per_task in MARKED_TURNS:
            off, on = off_and_on(consistency, per_task, prompts)
            cells.append(f"{off.share:.2f} / {on.share:.2f}")
        print(f"| {consistency:.0%} | " + " | ".join(cells) + " |")
    print()
    print("thresholds (accuracy on; the last column: share of prompts sent off the table, lower is better)")
    print("| min wins | min share | " + " | ".join(scenario.title for scenario in SCENARIOS) + " |")
    print("|---:|---:|" + "---:|" * len(SCENARIOS))
    sweeps = [threshold_sweep(prompts, scenario) for scenario in SCENARIOS]
    for row, (min_wins, min_share) in enumerate(THRESHOLDS):
        print(f"| {min_wins} | {min_share:.0%} | " + " | ".join(f"{sweep[row]:.3f}" for sweep in sweeps) + " |")


if __name__ == "__main__":
    main()
