"""Measure Auto's classifier on the held-out prompts of the multilingual corpus, and time it.

Run:
    .venv/bin/python bench/routing_languages.py

Prints Markdown tables for docs/routing.md: task and model accuracy per language and per task, the confusion
matrix of the 13 tasks, the English evaluation set's held-out part for comparison, the plain-English set
(tests/data/routing_plain_english.jsonl, all of it held out), and the time classify() takes in this process
(the fastest of a few runs per prompt). The held-out prompts (`"split": "heldout"` in chat/router/corpus/*.jsonl,
every third prompt per task of tests/data/routing_eval.jsonl, and the plain-English set) were not fitted on nor
used to choose any setting. No database, no network.
"""

import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.routing_speed import percentile, time_ms  # noqa: E402
from chat.protocol import MAX_CONTENT_CHARS  # noqa: E402
from chat.router.classify import Task, classify  # noqa: E402
from chat.router.languages import LANGUAGES, guess_language  # noqa: E402
from chat.router.learned import shipped_model  # noqa: E402
from chat.router.table import ROUTES  # noqa: E402
from chat.router.training import corpus_examples, english_eval_examples, plain_english_examples  # noqa: E402

ROUNDS = 5
SHORT_NAMES = {  # confusion matrix columns
    Task.SUPPORT_INTENT: "intent",
    Task.BULK_SUMMARY: "bulk",
    Task.JSON_EXTRACTION: "json",
    Task.RAG_RERANK: "rerank",
    Task.SOCIAL_CAPTION: "social",
    Task.CHATBOT: "bot",
    Task.SUPPORT_EMAIL: "email",
    Task.CODE_REVIEW: "code",
    Task.LONG_DOCUMENT_QA: "docqa",
    Task.BRAND_CONTENT: "brand",
    Task.MULTI_STEP: "steps",
    Task.RESEARCH_SUMMARY: "research",
    Task.GENERAL_CHAT: "chat",
}


def fraction(right: int, total: int) -> str:
    """Return "7/8 (87.5%)"."""
    return f"{right}/{total} ({right / total:.1%})" if total else "-"


def same_model(chosen: Task, labelled: Task) -> bool:
    """Return whether the default table sends both tasks to the same model."""
    return ROUTES[chosen].model == ROUTES[labelled].model


def main():
    """Print the held-out accuracy tables and the timings."""
    held_out = [example for example in corpus_examples() if example.held_out]
    decisions = [classify(example.text) for example in held_out]
    chosen = [decision.task for decision in decisions]
    labelled = [Task(example.task) for example in held_out]
    languages = [language for language in LANGUAGES if any(e.lang == language for e in held_out)]

    print(f"## Held out: {len(held_out)} prompts of chat/router/corpus/\n")
    print("| language | prompts | task accuracy | model accuracy | language guessed |")
    print("|---|---:|---:|---:|---:|")
    for language in [*languages, None]:
        rows = [i for i, example in enumerate(held_out) if language in (None, example.lang)]
        tasks_right = sum(chosen[i] == labelled[i] for i in rows)
        models_right = sum(same_model(chosen[i], labelled[i]) for i in rows)
        guessed = sum(guess_language(held_out[i].text) == held_out[i].lang for i in rows)
        name = language or "**overall**"
        print(
            f"| {name} | {len(rows)} | {fraction(tasks_right, len(rows))} | {fraction(models_right, len(rows))} "
            f"| {fraction(guessed, len(rows))} |"
        )

    print("\n| task | model | " + " | ".join(languages) + " | task accuracy | model accuracy |")
    print("|---|---|" + "---:|" * (len(languages) + 2))
    for task in Task:
        rows = [i for i in range(len(held_out)) if labelled[i] == task]
        cells = []
        for language in languages:
            mine = [i for i in rows if held_out[i].lang == language]
            cells.append(f"{sum(chosen[i] == task for i in mine)}/{len(mine)}")
        tasks_right = sum(chosen[i] == task for i in rows)
        models_right = sum(same_model(chosen[i], task) for i in rows)
        print(
            f"| {task.value} | {ROUTES[task].model} | "
            + " | ".join(cells)
            + f" | {fraction(tasks_right, len(rows))} | {fraction(models_right, len(rows))} |"
        )

    print("\nConfusion (rows: the labelled task; columns: the task Auto chose):\n")
    pairs = Counter(zip(labelled, chosen, strict=True))
    print("| labelled \\ chosen | " + " | ".join(SHORT_NAMES[task] for task in Task) + " |")
    print("|---|" + "---:|" * len(Task))
    for task in Task:
        cells = [str(pairs[task, other]) if pairs[task, other] else "." for other in Task]
        print(f"| {task.value} | " + " | ".join(cells) + " |")

    english = [example for example in english_eval_examples() if example.held_out]
    english_chosen = [classify(example.text).task for example in english]
    tasks_right = sum(task == example.task for task, example in zip(english_chosen, english, strict=True))
    models_right = sum(
        same_model(task, Task(example.task)) for task, example in zip(english_chosen, english, strict=True)
    )
    print(
        f"\nEnglish evaluation set, held out: task {fraction(tasks_right, len(english))}, "
        f"model {fraction(models_right, len(english))}"
    )

    plain = plain_english_examples()
    plain_chosen = [classify(example.text).task for example in plain]
    print(f"\nPlain English, {len(plain)} prompts written after the model was fitted, never trained on:\n")
    print("| task | task accuracy | model accuracy |")
    print("|---|---:|---:|")
    for task in [*Task, None]:
        rows = [i for i, example in enumerate(plain) if task in (None, Task(example.task))]
        tasks_right = sum(plain_chosen[i].value == plain[i].task for i in rows)
        models_right = sum(same_model(plain_chosen[i], Task(plain[i].task)) for i in rows)
        name = task.value if task else "**overall**"
        print(f"| {name} | {fraction(tasks_right, len(rows))} | {fraction(models_right, len(rows))} |")

    learned = sum(decision.learned for decision in decisions)
    print(f"The learned vote changed the signals' choice for {learned} of the {len(held_out)} corpus prompts.")

    prompts = [example.text for example in [*held_out, *english_eval_examples()]]
    longest = max(prompts, key=len)
    largest = (longest * (MAX_CONTENT_CHARS // len(longest) + 1))[:MAX_CONTENT_CHARS]
    model = shipped_model()
    classify_times = [time_ms(classify, prompt, rounds=ROUNDS) for prompt in prompts]
    learned_times = [time_ms(model.probabilities, prompt, rounds=ROUNDS) for prompt in prompts]
    print(f"\nTime, {len(prompts)} prompts (corpus held out and the English set), ms:\n")
    print("| | classify() | of which the learned stage |")
    print("|---|---:|---:|")
    print(f"| median | {statistics.median(classify_times):.2f} | {statistics.median(learned_times):.2f} |")
    print(f"| p99 | {percentile(classify_times, 0.99):.2f} | {percentile(learned_times, 0.99):.2f} |")
    print(f"| max | {max(classify_times):.2f} | {max(learned_times):.2f} |")
    print(
        f"| {MAX_CONTENT_CHARS:,}-character prompt | {time_ms(classify, largest, rounds=ROUNDS):.2f} "
        f"| {time_ms(model.probabilities, largest, rounds=ROUNDS):.2f} |"
    )


if __name__ == "__main__":
    main()
