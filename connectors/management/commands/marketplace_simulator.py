"""Run the local marketplace simulator (WB/Ozon seller API contracts) in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.simulator.server import run


class Command(BaseCommand):
    help = "Serve the marketplace simulator until Ctrl-C: https://{host}{path} is served at http://HOST:PORT/{host}{path}."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        if not 0 <= port <= 65535:
            raise CommandError(f"Invalid port: {port}")
        self.stdout.write(
            f"Marketplace simulator on http://{options['host']}:{port} (seed {options['seed']}); Ctrl-C stops it."
        )
        try:
            run(host=options["host"], port=port, seed=options["seed"])
        except OSError as error:
            raise CommandError(f"Cannot listen on {options['host']}:{port}: {error}") from error
