from typing import Any

from django.core.management.base import BaseCommand

from inbox.services.demo import DEMO_EMAIL, load_demo


class Command(BaseCommand):
    help = "Load the demo workspace (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = load_demo()
        self.stdout.write(f"Демо-пространство «{workspace.name}» готово (вход: {DEMO_EMAIL}).")
