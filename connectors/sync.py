"""Sync one marketplace account: fetch pages, ingest each in its own transaction, page by page.

Invariants:
- one sync per account at a time, across all workers: a Redis lock with a TTL, renewed by a
  background thread while the sync runs (a dead worker's lock expires by itself);
- never a database transaction across an HTTP call: `fetch_page` runs outside any
  transaction, `ingest_page` commits the page and its cursor together, so a killed worker
  resumes from the last committed page and loses or duplicates nothing;
- a revoked token is recorded on the account (`auth_error`) and not retried until the
  credentials change; a channel needing a subscription is recorded in `channel_errors` and the
  other channels continue; 429 / 5xx / timeouts propagate, for the job's `rq.Retry`.
"""

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from agentiq.redis import get_redis
from connectors.exceptions import (
    AuthError,
    MarketplaceError,
    SubscriptionRequired,
    TransientMarketplaceError,
)
from connectors.registry import client_for
from connectors.types import MarketplaceClient, Page, ProductCard
from inbox.models import Channel, MarketplaceAccount, Product, SyncCursor
from inbox.services.ingest import IngestResult, ingest_page

logger = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 60
LOCK_RENEW_SECONDS = 20
PRODUCT_REFRESH_AGE = timedelta(hours=24)
PRODUCTS_PER_RUN = 100
# Between full syncs, a fast token only asks "anything new?" (see `dispatch_due_syncs`).
FULL_SYNC_EVERY = timedelta(minutes=10)
DEFAULT_INTERVAL_SECONDS = 60
FAST_INTERVAL_SECONDS = 30
# How many due accounts one dispatcher run enqueues (the next run takes the rest).
DISPATCH_BATCH = 2000
# The dispatcher runs every few seconds (agentiq/cron.py), never exactly on time: an account
# is made due this much before its interval ends, else one due a moment after a run would wait
# for the run after it (a 5-second cadence became 10 seconds).
DISPATCH_SLACK = timedelta(seconds=1)

ProgressCallback = Callable[[str, IngestResult], None]


@dataclass(slots=True)
class SyncReport:
    account_id: int
    # ok, already_running, auth_error, inactive, no_news; batches also error, continues
    status: str
    pages: int = 0
    created: int = 0
    updated: int = 0
    malformed: int = 0
    products_refreshed: int = 0
    channel_errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    # A transient failure recorded instead of raised (batch syncs): retry in this many seconds.
    retry_after: float | None = None


def sync_lock_key(account_id: int) -> str:
    """The account's sync lock (a redis-py `Lock`: the holder's token as value, with a TTL)."""
    return f"sync-lock:account:{account_id}"


class AccountSyncLock:
    """A Redis lock per account whose TTL a daemon thread renews while the holder runs."""

    def __init__(self, account_id: int) -> None:
        self._lock = Lock(
            get_redis(),
            sync_lock_key(account_id),
            timeout=LOCK_TTL_SECONDS,
            thread_local=False,
        )
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False, token=uuid.uuid4().hex):
            return False
        self._renewer = threading.Thread(target=self._renew, daemon=True, name="sync-lock-renew")
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(LOCK_RENEW_SECONDS):
            try:
                self._lock.reacquire()
            except LockNotOwnedError:
                # Expired before we renewed it (the process stalled past the TTL): another sync
                # may start; both are idempotent, so this is logged rather than fatal.
                logger.warning("Sync lock expired while running", extra={"lock": self._lock.name})
                return

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        try:
            self._lock.release()
        except LockNotOwnedError:
            logger.warning("Sync lock expired before release", extra={"lock": self._lock.name})


def credentials_fingerprint(account: MarketplaceAccount) -> str:
    """A hash of the credentials: an auth error is retried only once they have changed."""
    raw = json.dumps(account.credentials, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def sync_interval_seconds(account: MarketplaceAccount) -> int:
    """Seconds between syncs that the token's limits allow (stored by the connection check)."""
    value = (account.token_info or {}).get("suggested_interval_seconds")
    return max(1, int(value)) if value else DEFAULT_INTERVAL_SECONDS


def sync_account(
    account_id: int,
    *,
    channels: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    only_if_news: bool = False,
    max_pages: int | None = None,
) -> SyncReport:
    """Sync the enabled channels of one account (all pages until the marketplace says done).

    `only_if_news`: ask `has_news` per channel first and fetch only channels with news.
    `max_pages`: stop after this many pages in total (operators, tests of resumption).
    Side effects: interactions etc. via `ingest_page`; the account's sync status, error,
    channel errors and last sync time; daily product-card refresh. Raises RateLimited /
    TransientMarketplaceError for the job to retry.
    """
    started = time.monotonic()
    # Cross-tenant job entry point: the account id is the tenant key here.
    account = MarketplaceAccount.objects.select_related("workspace").get(pk=account_id)
    report = SyncReport(account_id=account_id, status="ok")
    if not account.is_active:
        report.status = "inactive"
        return report
    if account.sync_status == MarketplaceAccount.SyncStatus.AUTH_ERROR and (
        account.token_info.get("auth_failed_fingerprint") == credentials_fingerprint(account)
    ):
        report.status = "auth_error"
        return report
    lock = AccountSyncLock(account_id)
    if not lock.acquire():
        report.status = "already_running"
        return report
    try:
        _run(
            account,
            report,
            channels=channels,
            progress=progress,
            only_if_news=only_if_news,
            max_pages=max_pages,
        )
    finally:
        lock.release()
        report.seconds = round(time.monotonic() - started, 3)
    return report


def _run(
    account: MarketplaceAccount,
    report: SyncReport,
    *,
    channels: Iterable[str] | None,
    progress: ProgressCallback | None,
    only_if_news: bool,
    max_pages: int | None,
) -> None:
    wanted = [c for c in account.enabled_channels if c in Channel.values]
    if channels is not None:
        wanted = [c for c in wanted if c in set(channels)]
    client = client_for(account)
    channel_errors = dict(account.channel_errors or {})
    _set_status(account, MarketplaceAccount.SyncStatus.RUNNING)
    try:
        cursors = _cursors(account, wanted)
        if only_if_news:
            wanted = [c for c in wanted if client.has_news(c, cursors[c].state)]
            if not wanted:
                report.status = "no_news"
        # Pages are fetched (HTTP and parsing, no database) by a thread per channel, the first
        # page of every channel at once; they are stored here, one at a time.
        with ThreadPoolExecutor(
            max_workers=max(1, len(wanted)), thread_name_prefix=f"fetch-{account.pk}"
        ) as fetcher:
            first = {
                channel: fetcher.submit(
                    client.fetch_page, channel, dict(cursors[channel].state or {})
                )
                for channel in wanted
            }
            for channel in wanted:
                try:
                    _sync_channel(
                        account,
                        client,
                        channel,
                        cursors[channel],
                        first[channel],
                        fetcher,
                        report,
                        progress,
                        max_pages,
                    )
                except SubscriptionRequired as error:
                    channel_errors[channel] = str(error)
                    report.channel_errors[channel] = str(error)
                    continue
                channel_errors.pop(channel, None)
                if max_pages is not None and report.pages >= max_pages:
                    break
        if report.status != "no_news":
            report.products_refreshed = refresh_product_cards(account, client)
    except AuthError as error:
        record_auth_error(account, error)
        report.status = "auth_error"
        return
    except TransientMarketplaceError as error:
        _finish(
            account,
            status=MarketplaceAccount.SyncStatus.ERROR,
            error=transient_text(error),
            channel_errors=channel_errors,
            synced=False,
        )
        raise
    except BaseException:
        # Job boundary: record that the sync broke (the UI shows it), then let it propagate.
        _finish(
            account,
            status=MarketplaceAccount.SyncStatus.ERROR,
            error=gettext("The sync failed unexpectedly; we are looking into it."),
            channel_errors=channel_errors,
            synced=False,
        )
        raise
    _finish(
        account,
        status=MarketplaceAccount.SyncStatus.OK,
        error="",
        channel_errors=channel_errors,
        synced=True,
    )
    if not only_if_news:
        get_redis().set(full_sync_key(account.pk), 1, ex=int(FULL_SYNC_EVERY.total_seconds()))


def _cursors(account: MarketplaceAccount, channels: list[str]) -> dict[str, SyncCursor]:
    existing = {c.channel: c for c in SyncCursor.objects.filter(account=account)}
    for channel in channels:
        if channel not in existing:
            existing[channel], _ = SyncCursor.objects.get_or_create(
                account=account, channel=channel, defaults={"workspace_id": account.workspace_id}
            )
    return existing


def _sync_channel(
    account: MarketplaceAccount,
    client: MarketplaceClient,
    channel: str,
    cursor: SyncCursor,
    ahead: Future[Page],
    fetcher: ThreadPoolExecutor,
    report: SyncReport,
    progress: ProgressCallback | None,
    max_pages: int | None,
) -> None:
    """Store the channel's pages; `ahead` is its first page being fetched.

    The next page is fetched while this one is stored. Only `ingest_page` moves the cursor,
    so a page fetched ahead and never stored is simply fetched again by the next run. An
    empty page is stored only when it ends the run (a crash before then re-reads a few empty
    pages): a sync with nothing new commits nothing.
    """
    saved: dict[str, Any] = dict(cursor.state or {})
    while True:
        page: Page = ahead.result()
        report.pages += 1
        last = page.done or (max_pages is not None and report.pages >= max_pages)
        if not last:
            ahead = fetcher.submit(client.fetch_page, channel, dict(page.next_state))
        moved = dict(page.next_state) != saved
        if page.items or page.malformed or (last and moved):
            result = ingest_page(account, channel, page, now=timezone.now())
            saved = dict(page.next_state)
            report.created += result.created
            report.updated += result.updated
            report.malformed += result.malformed
            if progress is not None:
                progress(channel, result)
        if last:
            return


def refresh_product_cards(
    account: MarketplaceAccount, client: MarketplaceClient, *, limit: int = PRODUCTS_PER_RUN
) -> int:
    """Refresh at most `limit` product cards not refreshed for 24 hours (HTTP, then one write).

    A marketplace error here is logged and skipped: cards are context, the inbox works without.
    """
    now = timezone.now()
    stale = list(
        Product.objects.for_workspace(account.workspace)
        .filter(account=account)
        .filter(Q(cached_at__isnull=True) | Q(cached_at__lt=now - PRODUCT_REFRESH_AGE))
        .order_by("cached_at", "id")[:limit]
    )
    if not stale:
        return 0
    try:
        cards = {
            card.external_id: card for card in client.fetch_products([p.external_id for p in stale])
        }
    except MarketplaceError as error:
        logger.warning(
            "Product card refresh failed",
            extra={
                "account_id": account.pk,
                "workspace_id": account.workspace_id,
                "error_code": error.code,
            },
        )
        return 0
    apply_cards(stale, cards, now=now)
    Product.objects.bulk_update(stale, CARD_FIELDS)
    return len(cards)


CARD_FIELDS = ["name", "brand", "article", "image_url", "card_data", "cached_at"]


def apply_cards(
    products: Iterable[Product], cards: Mapping[str, ProductCard], *, now: datetime
) -> None:
    """Copy the fetched cards onto `products` (not saved). A product whose card the marketplace
    did not return is still marked as refreshed, so it is not asked for again on every run."""
    for product in products:
        card = cards.get(product.external_id)
        product.cached_at = now
        if card is not None:
            product.name = card.name[:500] or product.name
            product.brand = card.brand[:200] or product.brand
            product.article = card.article[:200] or product.article
            product.image_url = card.image_url[:500] or product.image_url
            product.card_data = dict(card.card_data)


def _set_status(account: MarketplaceAccount, status: str) -> None:
    MarketplaceAccount.objects.filter(pk=account.pk).update(sync_status=status)
    account.sync_status = status


def _finish(
    account: MarketplaceAccount,
    *,
    status: str,
    error: str,
    channel_errors: dict[str, str],
    synced: bool,
) -> None:
    fields: dict[str, Any] = {
        "sync_status": status,
        "sync_error": error,
        "channel_errors": channel_errors,
    }
    if synced:
        fields["last_sync_at"] = timezone.now()
    MarketplaceAccount.objects.filter(pk=account.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)


def record_auth_error(account: MarketplaceAccount, error: AuthError) -> None:
    token_info = dict(account.token_info or {})
    token_info["auth_failed_fingerprint"] = credentials_fingerprint(account)
    message = gettext(
        "The marketplace rejected the token: it is wrong, expired or revoked, or lacks access. "
        "Enter a new token in the account settings; the sync will resume by itself."
    )
    MarketplaceAccount.objects.filter(pk=account.pk).update(
        sync_status=MarketplaceAccount.SyncStatus.AUTH_ERROR,
        sync_error=message,
        token_info=token_info,
    )
    logger.warning(
        "Marketplace rejected credentials; sync stopped",
        extra={
            "account_id": account.pk,
            "workspace_id": account.workspace_id,
            "error_code": error.code,
        },
    )


def transient_text(error: TransientMarketplaceError) -> str:
    return gettext("The marketplace is temporarily unavailable; the sync will retry shortly.")


def due_accounts(*, now: datetime, limit: int = DISPATCH_BATCH) -> list[MarketplaceAccount]:
    """Active accounts whose next sync is due, auth errors excluded (cross-tenant: cron)."""
    return list(
        MarketplaceAccount.objects.filter(is_active=True)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .only("id", "token_info", "last_sync_at", "next_sync_at", "sync_status", "credentials")
        .order_by("next_sync_at")[:limit]
    )


def full_sync_key(account_id: int) -> str:
    return f"sync:full-done:{account_id}"


def claim_due_accounts(*, now: datetime) -> list[tuple[int, bool]]:
    """Move due accounts' next_sync_at forward and return (id, full sync?) to enqueue.

    Accounts with an auth error are skipped unless their credentials changed since.
    """
    claimed: list[tuple[int, bool]] = []
    by_interval: dict[int, list[int]] = {}
    accounts = [
        account
        for account in due_accounts(now=now)
        if not (
            account.sync_status == MarketplaceAccount.SyncStatus.AUTH_ERROR
            and account.token_info.get("auth_failed_fingerprint")
            == credentials_fingerprint(account)
        )
    ]
    # A key with a TTL marks a recent full sync; fast tokens only check for news until it expires.
    recent_full = get_redis().mget([full_sync_key(a.pk) for a in accounts]) if accounts else []
    for account, full_done in zip(accounts, recent_full, strict=True):
        interval = sync_interval_seconds(account)
        by_interval.setdefault(interval, []).append(account.pk)
        is_full = interval > FAST_INTERVAL_SECONDS or full_done is None
        claimed.append((account.pk, is_full))
    for interval, ids in by_interval.items():
        MarketplaceAccount.objects.filter(pk__in=ids).update(
            next_sync_at=now + max(timedelta(seconds=interval) - DISPATCH_SLACK, DISPATCH_SLACK)
        )
    return claimed
