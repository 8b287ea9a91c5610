"""Benchmark Auto's classifier: time per prompt over the evaluation set, and on the largest prompt allowed.

Run:
    .venv/bin/python bench/routing_speed.py

No database, no network: the classifier is pure Python. Goal (docs/routing.md): median well under a
millisecond, p99 a few milliseconds, in one process on one core.
"""

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chat.protocol import MAX_CONTENT_CHARS  # noqa: E402
from chat.router.classify import classify  # noqa: E402

EVAL_SET = ROOT / "tests" / "data" / "routing_eval.jsonl"
ROUNDS = 20


def percentile(values, fraction):
    """Return the value below which `fraction` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_ms(function, prompt: str, *, rounds: int = ROUNDS) -> float:
    """Return the fastest of `rounds` calls of `function(prompt)`, in milliseconds (the least disturbed run)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        function(prompt)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main():
    """Print the per-prompt time over the evaluation set, and on the largest prompt the API accepts."""
    prompts = [json.loads(line)["prompt"] for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]
    times = [time_ms(classify, prompt) for prompt in prompts]
    longest = max(prompts, key=len)
    largest = (longest * (MAX_CONTENT_CHARS // len(longest) + 1))[:MAX_CONTENT_CHARS]
    print(f"classifier, {len(prompts)} prompts of {min(map(len, prompts)):,} to {len(longest):,} characters")
    print(f"{'':24}{'ms':>8}")
    print(f"{'median':24}{statistics.median(times):8.3f}")
    print(f"{'p99':24}{percentile(times, 0.99):8.3f}")
    print(f"{'max':24}{max(times):8.3f}")
    print(f"{f'{MAX_CONTENT_CHARS:,}-character prompt':24}{time_ms(classify, largest):8.3f}")


if __name__ == "__main__":
    main()
