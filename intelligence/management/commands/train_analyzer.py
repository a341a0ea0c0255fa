"""Train the learned layer of the rules analyser and write its weights file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from intelligence import training
from intelligence.rules import learned

DEV_DIR = Path(settings.BASE_DIR) / "tests" / "intelligence" / "data"
REVIEWS = Path(settings.BASE_DIR).parent / "shared" / "data" / "reviews.csv"


class Command(BaseCommand):
    help = (
        "Fit the analyser's linear models on the hand-labelled dev files (and the star ratings "
        "of reviews.csv) and write intelligence/rules/weights.json. Deterministic for a seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--labels",
            nargs="+",
            type=Path,
            default=[DEV_DIR / name for name in training.DEV_FILES],
            help="hand-labelled CSV files (never the measurement set labelled.csv)",
        )
        parser.add_argument("--reviews", type=Path, default=REVIEWS)
        parser.add_argument("--no-weak", action="store_true", help="skip the star-rating head")
        parser.add_argument("--folds", type=int, default=0, help="cross-validate with k folds")
        parser.add_argument("--seed", type=int, default=training.Config().seed)
        parser.add_argument("--output", type=Path, default=learned.WEIGHTS_PATH)

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[Path] = options["labels"]
        for path in [*paths, options["reviews"]]:
            if not path.is_file() and not (path == options["reviews"] and options["no_weak"]):
                raise CommandError(f"No such file: {path}")
        if any(path.name == "labelled.csv" for path in paths):
            raise CommandError("labelled.csv is for measurement only; train on the dev files.")
        config = training.with_config(
            training.Config(), seed=options["seed"], weak=not options["no_weak"]
        )
        result = training.train_analyzer(
            paths,
            reviews_path=None if options["no_weak"] else options["reviews"],
            config=config,
            folds=options["folds"],
        )
        learned.dump(result.model, options["output"])
        report: dict[str, Any] = {
            "labelled_rows": result.labelled_rows,
            "weak_rows": result.weak_rows,
            "features": {name: len(h.weights) for name, h in result.model.heads.items()},
            "output": str(options["output"]),
        }
        if result.cross_validation is not None and result.rules_alone is not None:
            report["cross_validation"] = result.cross_validation.as_dict()
            report["rules_alone"] = result.rules_alone.as_dict()
        self.stdout.write(json.dumps(report, ensure_ascii=False))
