"""Check a reply text against the guardrails and print the verdict as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from intelligence.guardrails import CHANNELS, MARKETPLACES, check_reply


class Command(BaseCommand):
    help = "Check a reply against the guardrails and print the verdict as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text")
        parser.add_argument("--marketplace", choices=MARKETPLACES, default="wb")
        parser.add_argument("--channel", choices=CHANNELS, default="review")
        parser.add_argument(
            "--stop-word", dest="stop_words", action="append", default=[], metavar="WORD"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = check_reply(
            options["text"],
            marketplace=options["marketplace"],
            channel=options["channel"],
            stop_words=tuple(options["stop_words"]),
        )
        self.stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False))
