from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.demo import seed_demo_accounts
from connectors.exceptions import MarketplaceError
from inbox.services.demo import DEMO_EMAIL, load_demo
from intelligence.demo import install_demo_rules


class Command(BaseCommand):
    help = "Load the demo workspace (idempotent); with a running simulator, its demo accounts too."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--simulator-url",
            default="",
            help="Connect the demo WB and Ozon accounts to the simulator at this address.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = load_demo()
        install_demo_rules(workspace)
        if options["simulator_url"]:
            try:
                accounts = seed_demo_accounts(workspace, simulator_url=options["simulator_url"])
            except MarketplaceError as error:
                raise CommandError(f"Демо-аккаунты не подключены: {error}") from error
            names = ", ".join(account.name for account in accounts)
            self.stdout.write(f"Демо-аккаунты: {names} (симулятор {options['simulator_url']}).")
        self.stdout.write(f"Демо-пространство «{workspace.name}» готово (вход: {DEMO_EMAIL}).")
        if not options["simulator_url"]:
            self.stdout.write(
                f"Подсказка: --simulator-url {settings.SIMULATOR_URL} подключит демо-аккаунты."
            )
