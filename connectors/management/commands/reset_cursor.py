"""`manage.py reset_cursor ID CHANNEL`: forget where a channel's sync stopped (re-read it all)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inbox.models import Channel, SyncCursor


class Command(BaseCommand):
    help = "Reset the sync cursor of one account's channel: the next sync reads it from scratch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account_id", type=int)
        parser.add_argument("channel", choices=Channel.values)

    def handle(self, *args: Any, **options: Any) -> None:
        # Operator command: any workspace's account, by id. Re-reading is safe (idempotent ingest).
        updated = SyncCursor.objects.filter(
            account_id=options["account_id"], channel=options["channel"]
        ).update(state={}, cursor="", watermark_at=None)
        if not updated:
            raise CommandError(
                f"No cursor for account {options['account_id']} / {options['channel']}."
            )
        self.stdout.write(f"cursor of account {options['account_id']} / {options['channel']} reset")
