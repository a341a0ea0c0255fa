"""`manage.py sync_account ID [--channel review] [--max-pages N] [--quiet]`: sync one account now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from connectors.exceptions import TransientMarketplaceError
from connectors.sync import sync_account
from inbox.models import Channel, MarketplaceAccount
from inbox.services.ingest import IngestResult


class Command(BaseCommand):
    help = "Sync one marketplace account now (all enabled channels, or the ones given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", type=int)
        parser.add_argument("--channel", action="append", choices=Channel.values, default=None)
        parser.add_argument("--max-pages", type=int, default=None)
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        account_id: int = options["account_id"]
        # Operator command: any workspace's account, by id.
        if not MarketplaceAccount.objects.filter(pk=account_id).exists():
            raise CommandError(f"No marketplace account with id {account_id}.")
        bar = None if options["quiet"] else tqdm(unit=" items", desc="sync", file=self.stderr)

        def progress(channel: str, result: IngestResult) -> None:
            if bar is not None:
                bar.set_description(channel)
                bar.update(result.created + result.updated + result.unchanged)

        try:
            report = sync_account(
                account_id,
                channels=options["channel"],
                progress=progress,
                max_pages=options["max_pages"],
            )
        except TransientMarketplaceError as error:
            raise CommandError(f"Marketplace temporarily unavailable: {error}") from error
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            f"account {report.account_id}: {report.status}; pages {report.pages}, "
            f"created {report.created}, updated {report.updated}, malformed {report.malformed}, "
            f"products refreshed {report.products_refreshed}, {report.seconds:.1f} s"
        )
        for channel, message in report.channel_errors.items():
            self.stdout.write(f"  {channel}: {message}")
        if report.status == "auth_error":
            raise CommandError("The marketplace rejected the credentials (see the account).")
