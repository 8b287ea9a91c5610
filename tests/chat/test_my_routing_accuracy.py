"""My routing on simulated people, through the real services: marks by set_winner, choices by choose_panels.

The people and their marks come from bench/my_routing.py (seeded, so the figures repeat): each prefers, per
task, the table's model or the other candidate, and marks the reply of that model best in 80% of five
side-by-side turns per task, on the routing set's tuning prompts. Then Auto answers the held-out prompts
for each of them, with my routing off (the table) and on; a choice is right when it is the person's
preferred model for the prompt's labelled task. The floors are the measured figures rounded down (docs/routing.md).
"""

import random

import pytest

from bench.my_routing import CANDIDATES, SEED, learned, load_prompts, marked_turns, routed, simulated_people
from chat.models import Conversation
from chat.services import choose_panels
from chat.winners import set_my_routing, set_winner
from tests.factories import compared_turn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("openai_and_anthropic")]

PEOPLE = 10
CONSISTENCY = 0.8
MARKED_PER_TASK = 5
ON_FLOOR = 0.85  # measured 614/660 = 0.930
GAIN_FLOOR = 0.30  # measured +0.444 over the table's 321/660 = 0.486


def auto_choice(user, prompt: str) -> str:
    (choice,) = choose_panels(["auto"], content=prompt, conversation=Conversation(user=user))
    return choice.model.slug


def test_auto_learns_the_model_each_person_prefers_from_the_replies_they_mark_best(django_user_model):
    prompts = load_prompts()
    rng = random.Random(f"{SEED}:test")
    people = simulated_people(rng, PEOPLE, CONSISTENCY)
    first = django_user_model.objects.create(email="person-0@example.com")
    table = {prompt: auto_choice(first, prompt) for _, prompt in prompts.held_out}  # not opted in: the table
    off = on = total = 0
    for number, person in enumerate(people):
        user = first if number == 0 else django_user_model.objects.create(email=f"person-{number}@example.com")
        turns = marked_turns(rng, person, prompts, MARKED_PER_TASK)
        for prompt, winner in turns:
            replies = compared_turn(user, prompt, list(CANDIDATES))
            set_winner(turn=replies[0].turn, message=next(reply for reply in replies if reply.model.slug == winner))
        set_my_routing(user=user, enabled=True)
        preferences = learned(turns)
        for task, prompt in prompts.held_out:
            chosen = auto_choice(user, prompt)
            assert chosen == routed(prompt, preferences), "the benchmark's pure router chose otherwise"
            off += table[prompt] == person.preferred[task]
            on += chosen == person.preferred[task]
            total += 1

    print(f"\nmy routing, {PEOPLE} people at {CONSISTENCY:.0%}, {MARKED_PER_TASK} marked turns per task:")
    print(f"off (the table) {off}/{total} = {off / total:.3f}; on {on}/{total} = {on / total:.3f}")
    assert on / total >= ON_FLOOR
    assert (on - off) / total >= GAIN_FLOOR
