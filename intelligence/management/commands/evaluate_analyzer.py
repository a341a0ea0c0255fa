"""Run the rules analyser over a CSV file; with --labels, also report quality metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intelligence.analysis import AnalysisInput, Intent, Sentiment, analyze_text
from intelligence.metrics import accuracy, confusion, macro_f1

LABEL_COLUMNS = ("sentiment", "intent", "needs_response")


class Command(BaseCommand):
    help = "Analyse every row of a CSV (text, rating[, channel]) and print one JSON line per row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--labels",
            action="store_true",
            help="the file has sentiment, intent and needs_response (yes/no) columns",
        )
        parser.add_argument("--marketplace", choices=["wb", "ozon"], default="wb")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or ())
            required = {"text", "rating"} | (set(LABEL_COLUMNS) if options["labels"] else set())
            missing = sorted(required - columns)
            if missing:
                raise CommandError(f"Missing columns: {', '.join(missing)}")
            rows = list(reader)

        gold: dict[str, list[Any]] = {column: [] for column in LABEL_COLUMNS}
        predicted: dict[str, list[Any]] = {column: [] for column in LABEL_COLUMNS}
        for number, row in enumerate(rows, start=2):
            rating = _rating(row.get("rating", ""), number)
            analysis = analyze_text(
                AnalysisInput(
                    channel=(row.get("channel") or "review").strip(),
                    marketplace=options["marketplace"],
                    text=row["text"] or "",
                    rating=rating,
                    seed=row.get("id") or str(number),
                )
            )
            self.stdout.write(
                json.dumps(
                    {
                        "sentiment": analysis.sentiment,
                        "intent": analysis.intent,
                        "priority": analysis.priority,
                        "needs_response": analysis.needs_response,
                    },
                    ensure_ascii=False,
                )
            )
            if options["labels"]:
                gold["sentiment"].append(row["sentiment"].strip())
                gold["intent"].append(row["intent"].strip())
                gold["needs_response"].append(row["needs_response"].strip().lower() == "yes")
                predicted["sentiment"].append(analysis.sentiment)
                predicted["intent"].append(analysis.intent)
                predicted["needs_response"].append(analysis.needs_response)

        if options["labels"]:
            sentiments = [s.value for s in Sentiment]
            intents = [i.value for i in Intent]
            summary = {
                "rows": len(rows),
                "sentiment_macro_f1": macro_f1(
                    gold["sentiment"], predicted["sentiment"], sentiments
                ),
                "sentiment_accuracy": accuracy(gold["sentiment"], predicted["sentiment"]),
                "intent_accuracy": accuracy(gold["intent"], predicted["intent"]),
                "intent_macro_f1": macro_f1(gold["intent"], predicted["intent"], intents),
                "needs_response_accuracy": accuracy(
                    gold["needs_response"], predicted["needs_response"]
                ),
                "sentiment_confusion": confusion(
                    gold["sentiment"], predicted["sentiment"], sentiments
                ),
                "intent_confusion": confusion(gold["intent"], predicted["intent"], intents),
            }
            self.stdout.write(json.dumps(summary, ensure_ascii=False))


def _rating(value: str, line: int) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        rating = int(float(value))
    except ValueError as error:
        raise CommandError(f"Line {line}: rating must be a number, got {value!r}") from error
    return rating if 1 <= rating <= 5 else None
