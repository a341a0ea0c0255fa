"""Analyse one text with the offline rules engine and print the analysis as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from intelligence.analysis import AnalysisInput, Channel, analyze_text


class Command(BaseCommand):
    help = "Analyse a review, question or chat text and print the analysis as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text")
        parser.add_argument("--channel", choices=[c.value for c in Channel], default="review")
        parser.add_argument("--marketplace", choices=["wb", "ozon"], default="wb")
        parser.add_argument("--rating", type=int, choices=range(1, 6), default=None)
        parser.add_argument("--name", default="")
        parser.add_argument("--product", default="")
        parser.add_argument("--seed", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        analysis = analyze_text(
            AnalysisInput(
                channel=options["channel"],
                marketplace=options["marketplace"],
                text=options["text"],
                rating=options["rating"],
                customer_name=options["name"],
                product_name=options["product"],
                seed=options["seed"],
            )
        )
        self.stdout.write(json.dumps(analysis.to_dict(), ensure_ascii=False))
