"""`manage.py train_router`: fit Auto's learned stage on the labelled corpus and write the model file."""

from pathlib import Path

from django.core.management.base import BaseCommand

from chat.router.classify import Task
from chat.router.learned import MODEL_PATH
from chat.router.training import L2, fit, search, training_examples

SEARCH_L2 = (1e-6, 1e-5, 1e-4, 1e-3)
SEARCH_WEIGHTS = (1.0, 1.5, 2.0, 3.0)
SEARCH_STRONG = (4.0, 5.0, 6.0, 8.0, float("inf"))


class Command(BaseCommand):
    help = (
        "Fit the learned stage of Auto on the train split of chat/router/corpus/ and the tuning part of the "
        "English evaluation set, and write chat/router/model/router.npz (held-out prompts are never read)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=MODEL_PATH, help="Where to write the model.")
        parser.add_argument(
            "--search",
            action="store_true",
            help="Instead of training, print the cross-validated accuracy of each L2 penalty and vote weight.",
        )

    def handle(self, *args, output, search, **options):
        examples = training_examples()
        if search:
            self.print_search(examples)
            return
        model = fit(examples, [task.value for task in Task], l2=L2)
        model.save(output)
        self.stdout.write(
            f"Fitted on {len(examples):,} prompts: {len(model.rows):,} features, "
            f"{output.stat().st_size:,} bytes written to {output}."
        )

    def print_search(self, examples):
        trials = search(examples, l2s=SEARCH_L2, weights=SEARCH_WEIGHTS, strongs=SEARCH_STRONG)
        languages = list(trials[0].by_language)
        self.stdout.write(
            "| L2 | weight | strong | task accuracy | model accuracy | " + " | ".join(languages) + " |\n"
            "|---:|---:|---:|---:|---:|" + "---:|" * len(languages)
        )
        for trial in trials:
            cells = [f"{trial.by_language[language]:.3f}" for language in languages]
            self.stdout.write(
                f"| {trial.l2:g} | {trial.weight:g} | {trial.strong:g} | {trial.task_accuracy:.3f} "
                f"| {trial.model_accuracy:.3f} | " + " | ".join(cells) + " |"
            )
