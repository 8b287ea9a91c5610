"""My routing: the model a person marks best for a task, and when Auto trusts it over the table. Pure, no database.

A person who opts in lets Auto learn from the replies they mark best. Per task, the model they marked best
most often is their preference once it has won at least MIN_WINS turns and at least MIN_SHARE of the task's
decided turns (those with a winner). Below that, one or two marks are noise and the table decides.
The thresholds were picked on simulated people (bench/my_routing.py; figures in docs/routing.md).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MIN_WINS = 3
MIN_SHARE = 0.6


@dataclass(frozen=True)
class Preference:
    """The model a person marked best most often for one task, in how many of the task's decided turns."""

    slug: str
    wins: int
    decided: int

    @property
    def settled(self) -> bool:
        """Say whether the marks are enough for Auto to prefer this model over the table's."""
        return self.wins >= MIN_WINS and self.wins >= MIN_SHARE * self.decided


Preferences = Mapping[str, Preference]  # task -> the person's most-marked model for it


def preferences_from(wins: Iterable[tuple[str, str, int]]) -> dict[str, Preference]:
    """Return each task's most-marked model from (task, model slug, wins) rows, settled or not.

    Each decided turn has one winner, so a task's decided turns are its wins added up. A tie goes to the
    slug first in alphabetical order; with a share of at most one half it is never settled anyway.
    """
    by_task: dict[str, dict[str, int]] = {}
    for task, slug, count in wins:
        models = by_task.setdefault(task, {})
        models[slug] = models.get(slug, 0) + count
    preferences = {}
    for task, models in by_task.items():
        slug, count = min(models.items(), key=lambda item: (-item[1], item[0]))
        preferences[task] = Preference(slug=slug, wins=count, decided=sum(models.values()))
    return preferences
