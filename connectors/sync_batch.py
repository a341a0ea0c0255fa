"""Sync a batch of accounts in one job: how the dispatcher fans out to many small accounts.

A sync of an account with a few new items is mostly fixed costs: the job's own Redis
bookkeeping, loading the account and its cursors, a lock, several HTTP round trips and a few
small writes. Here they are paid once per batch, and the HTTP waits of the batch overlap.
Every guarantee of `connectors.sync.sync_account` holds per account:

- one sync per account at a time, across all workers: the batch takes the same per-account
  Redis locks as `AccountSyncLock` (one round trip for all of them), renews them together while
  it runs, and skips an account whose lock another worker holds (`already_running`);
- never a database transaction across an HTTP call: a small thread pool fetches (HTTP and
  parsing, no database), the job's own thread stores each page with `ingest_page`, which
  commits the page and its cursor together; a killed worker resumes from the last page;
- an account's failure is recorded on that account and never fails or delays the others: a
  revoked token sets the auth-error state; a 429, 5xx or timeout sets the error state and the
  job hands the account to its own retried job (`report.retry_after`); anything else is
  logged (Sentry) and recorded; a channel needing a subscription is recorded per channel;
- an account with more than one page to read (a backlog) stores its first pages here and is
  handed to its own job to go on (`report.status == "continues"`), so one big account never
  holds up the rest of its batch.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext

from agentiq.redis import get_redis
from connectors.exceptions import (
    AuthError,
    MarketplaceError,
    RateLimited,
    SubscriptionRequired,
    TransientMarketplaceError,
)
from connectors.registry import client_for
from connectors.sync import (
    CARD_FIELDS,
    FULL_SYNC_EVERY,
    LOCK_RENEW_SECONDS,
    LOCK_TTL_SECONDS,
    PRODUCT_REFRESH_AGE,
    PRODUCTS_PER_RUN,
    SyncReport,
    apply_cards,
    credentials_fingerprint,
    full_sync_key,
    record_auth_error,
    sync_lock_key,
    transient_text,
)
from connectors.types import MarketplaceClient, Page, ProductCard
from inbox.models import Channel, MarketplaceAccount, Product, SyncCursor
from inbox.services import pipeline_hooks
from inbox.services.ingest import ingest_page
from inbox.services.sla import sla_minutes_of

logger = logging.getLogger(__name__)

# Accounts per job: enough to share the fixed costs, few enough that a job stays short.
BATCH_SIZE = 40
# Threads fetching for the accounts of a batch (each an account at a time, its channels in turn).
FETCH_THREADS = 8
# A transient failure is retried by the account's own job after at least this many seconds.
RETRY_AFTER_SECONDS = 5.0

# KEYS: lock keys; ARGV[1] the batch's token, ARGV[2] milliseconds. Only locks still ours.
_RENEW_LUA = """
local renewed = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    renewed = renewed + 1
  end
end
return renewed
"""
_RELEASE_LUA = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
"""


class BatchSyncLocks:
    """The per-account sync locks of a batch (the keys and token format of `AccountSyncLock`),
    taken in one pipeline, renewed together by a daemon thread, released by one script."""

    def __init__(self) -> None:
        self._token = uuid.uuid4().hex
        self._held: set[int] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self, account_ids: Sequence[int]) -> set[int]:
        """Take every lock that is free; returns the accounts whose lock is now ours."""
        if not account_ids:
            return set()
        pipe = get_redis().pipeline(transaction=False)
        for account_id in account_ids:
            pipe.set(sync_lock_key(account_id), self._token, nx=True, ex=LOCK_TTL_SECONDS)
        taken = {pk for pk, ok in zip(account_ids, pipe.execute(), strict=True) if ok}
        with self._guard:
            self._held |= taken
        if taken and self._renewer is None:
            self._renewer = threading.Thread(
                target=self._renew, daemon=True, name="sync-batch-lock-renew"
            )
            self._renewer.start()
        return taken

    def _renew(self) -> None:
        while not self._stop.wait(LOCK_RENEW_SECONDS):
            with self._guard:
                held = sorted(self._held)
            if not held:
                continue
            keys = [sync_lock_key(pk) for pk in held]
            renewed = get_redis().eval(
                _RENEW_LUA, len(keys), *keys, self._token, LOCK_TTL_SECONDS * 1000
            )
            if int(renewed) < len(keys):
                # Some expired before we renewed them (the process stalled past the TTL):
                # another sync may start; both are idempotent, so this is logged, not fatal.
                logger.warning(
                    "Sync lock expired while running", extra={"locks": len(keys) - int(renewed)}
                )

    def release(self, account_ids: Iterable[int]) -> None:
        with self._guard:
            ours = sorted(self._held.intersection(account_ids))
            self._held.difference_update(ours)
        if ours:
            keys = [sync_lock_key(pk) for pk in ours]
            get_redis().eval(_RELEASE_LUA, len(keys), *keys, self._token)

    def close(self) -> None:
        """Release every lock still held and stop renewing."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        with self._guard:
            held = list(self._held)
        self.release(held)


@dataclass(slots=True)
class _Fetched:
    """What the fetch thread brings back for one account (no database was touched)."""

    pages: dict[str, Page] = field(default_factory=dict)
    channel_errors: dict[str, str] = field(default_factory=dict)
    no_news: bool = False


def _fetch_first_pages(
    client: MarketplaceClient,
    channels: list[str],
    states: dict[str, dict[str, Any]],
    only_if_news: bool,
) -> _Fetched:
    """The first page of each channel (after the "anything new?" check when asked)."""
    fetched = _Fetched()
    if only_if_news:
        channels = [c for c in channels if client.has_news(c, states[c])]
        fetched.no_news = not channels
    for channel in channels:
        try:
            fetched.pages[channel] = client.fetch_page(channel, dict(states[channel]))
        except SubscriptionRequired as error:
            fetched.channel_errors[channel] = str(error)
    return fetched


@dataclass(slots=True)
class _Run:
    """One account of the batch while it syncs."""

    account: MarketplaceAccount
    client: MarketplaceClient
    channels: list[str]
    only_if_news: bool
    report: SyncReport
    fetch: "Future[_Fetched] | None" = None
    channel_errors: dict[str, str] = field(default_factory=dict)
    cards: "Future[list[ProductCard]] | None" = None
    stale: list[Product] = field(default_factory=list)


def sync_accounts(
    batch: Sequence[tuple[int, bool]], *, now: datetime | None = None
) -> list[SyncReport]:
    """Sync these accounts (`(account id, only_if_news)` pairs); a report per account.

    Statuses as for `sync_account`, plus `error` (recorded on the account; `retry_after` set
    when a retry is due) and `continues` (more pages to read: the caller enqueues the
    account's own job). Side effects per account as `sync_account`'s. Never raises for one
    account's failure.
    """
    started = time.monotonic()
    wanted = dict(batch)
    # Cross-tenant job entry point: the account ids are the tenant keys here.
    accounts = {
        account.pk: account
        for account in MarketplaceAccount.objects.select_related("workspace").filter(
            pk__in=list(wanted)
        )
    }
    reports: dict[int, SyncReport] = {}
    candidates: list[MarketplaceAccount] = []
    for account_id in wanted:
        account = accounts.get(account_id)
        if account is None:
            continue  # deleted since it was dispatched
        reports[account_id] = SyncReport(account_id=account_id, status="ok")
        if not account.is_active:
            reports[account_id].status = "inactive"
        elif account.sync_status == MarketplaceAccount.SyncStatus.AUTH_ERROR and (
            account.token_info.get("auth_failed_fingerprint") == credentials_fingerprint(account)
        ):
            reports[account_id].status = "auth_error"
        else:
            candidates.append(account)
    locks = BatchSyncLocks()
    try:
        held = locks.acquire([account.pk for account in candidates])
        for account in candidates:
            if account.pk not in held:
                reports[account.pk].status = "already_running"
        runs = [
            _Run(
                account=account,
                client=client_for(account),
                channels=[c for c in account.enabled_channels if c in Channel.values],
                only_if_news=wanted[account.pk],
                report=reports[account.pk],
                channel_errors=dict(account.channel_errors or {}),
            )
            for account in candidates
            if account.pk in held
        ]
        if runs:
            with pipeline_hooks.analysis_gathered():
                _sync_runs(runs, locks, now=now)
    finally:
        locks.close()
    elapsed = round(time.monotonic() - started, 3)
    for report in reports.values():
        report.seconds = elapsed
    return list(reports.values())


def _sync_runs(runs: list[_Run], locks: BatchSyncLocks, *, now: datetime | None) -> None:
    states = _cursor_states(runs)
    sla = sla_minutes_of(run.account.workspace_id for run in runs)
    MarketplaceAccount.objects.filter(pk__in=[run.account.pk for run in runs]).update(
        sync_status=MarketplaceAccount.SyncStatus.RUNNING
    )
    finished: list[_Run] = []
    with ThreadPoolExecutor(
        max_workers=min(FETCH_THREADS, len(runs)), thread_name_prefix="sync-batch"
    ) as pool:
        for run in runs:
            run.fetch = pool.submit(
                _fetch_first_pages,
                run.client,
                run.channels,
                states[run.account.pk],
                run.only_if_news,
            )
        # Stored in submission order while later accounts are still being fetched.
        for run in runs:
            if _store(run, states[run.account.pk], sla.get(run.account.workspace_id, {})):
                finished.append(run)
            else:
                # Failed or handed on: its lock goes now, so its own job can take it.
                locks.release([run.account.pk])
        _refresh_product_cards(finished, pool, now=now or timezone.now())
    _finish_ok(finished)


def _cursor_states(runs: list[_Run]) -> dict[int, dict[str, dict[str, Any]]]:
    """account → channel → cursor state; missing cursors are created (two queries at most)."""
    states: dict[int, dict[str, dict[str, Any]]] = {run.account.pk: {} for run in runs}
    ids = list(states)
    rows = SyncCursor.objects.filter(account_id__in=ids).values_list(
        "account_id", "channel", "state"
    )
    for account_id, channel, state in rows:
        states[account_id][channel] = dict(state or {})
    missing = [
        SyncCursor(workspace_id=run.account.workspace_id, account=run.account, channel=channel)
        for run in runs
        for channel in run.channels
        if channel not in states[run.account.pk]
    ]
    if missing:
        SyncCursor.objects.bulk_create(missing, ignore_conflicts=True)
        for cursor in missing:
            states[cursor.account_id].setdefault(cursor.channel, {})
    return states


def _store(
    run: _Run, states: dict[str, dict[str, Any]], sla: Mapping[tuple[str, str], int]
) -> bool:
    """Store the account's fetched pages (`sla`: its workspace's SLA minutes); True when its
    sync is complete and well.

    The per-account job boundary inside the batch: every failure is recorded on this account
    (and unexpected ones logged with their trace) instead of failing the batch.
    """
    account, report = run.account, run.report
    assert run.fetch is not None
    try:
        fetched = run.fetch.result()
        run.channel_errors.update(fetched.channel_errors)
        report.channel_errors.update(fetched.channel_errors)
        if fetched.no_news:
            report.status = "no_news"
        for channel, page in fetched.pages.items():
            run.channel_errors.pop(channel, None)
            report.pages += 1
            moved = dict(page.next_state) != states[channel]
            if page.items or page.malformed or moved:
                result = ingest_page(account, channel, page, now=timezone.now(), sla=sla)
                report.created += result.created
                report.updated += result.updated
                report.malformed += result.malformed
            if not page.done:
                report.status = "continues"
        return report.status != "continues"
    except AuthError as error:
        record_auth_error(account, error)
        report.status = "auth_error"
    except TransientMarketplaceError as error:
        _record_error(run, transient_text(error))
        report.status = "error"
        retry_after = error.retry_after if isinstance(error, RateLimited) else 0.0
        report.retry_after = max(RETRY_AFTER_SECONDS, retry_after)
    except Exception:
        # Job boundary of this account: recorded and logged (Sentry), the batch goes on.
        logger.exception(
            "Sync of an account in a batch failed",
            extra={"account_id": account.pk, "workspace_id": account.workspace_id},
        )
        _record_error(run, gettext("The sync failed unexpectedly; we are looking into it."))
        report.status = "error"
    return False


def _record_error(run: _Run, message: str) -> None:
    MarketplaceAccount.objects.filter(pk=run.account.pk).update(
        sync_status=MarketplaceAccount.SyncStatus.ERROR,
        sync_error=message,
        channel_errors=run.channel_errors,
    )


def _refresh_product_cards(runs: list[_Run], pool: ThreadPoolExecutor, *, now: datetime) -> None:
    """`connectors.sync.refresh_product_cards` for the batch: one query finds the stale
    products of every account (at most PRODUCTS_PER_RUN each), the cards are fetched in the
    pool, one statement stores them. A marketplace error skips that account's cards."""
    runs = [run for run in runs if run.report.status != "no_news"]
    if not runs:
        return
    by_account = {run.account.pk: run for run in runs}
    stale = (
        Product.objects.filter(account_id__in=list(by_account))
        .filter(Q(cached_at__isnull=True) | Q(cached_at__lt=now - PRODUCT_REFRESH_AGE))
        .annotate(
            position=Window(
                RowNumber(), partition_by=F("account_id"), order_by=[F("cached_at"), F("id")]
            )
        )
        .filter(position__lte=PRODUCTS_PER_RUN)
    )
    for found in stale:
        by_account[found.account_id].stale.append(found)
    for run in runs:
        if run.stale:
            run.cards = pool.submit(
                run.client.fetch_products, [product.external_id for product in run.stale]
            )
    changed: list[Product] = []
    for run in runs:
        if run.cards is None:
            continue
        try:
            cards = {card.external_id: card for card in run.cards.result()}
        except MarketplaceError as error:
            logger.warning(
                "Product card refresh failed",
                extra={
                    "account_id": run.account.pk,
                    "workspace_id": run.account.workspace_id,
                    "error_code": error.code,
                },
            )
            continue
        apply_cards(run.stale, cards, now=now)
        run.report.products_refreshed = len(cards)
        changed += run.stale
    if changed:
        Product.objects.bulk_update(changed, CARD_FIELDS)


def _finish_ok(runs: list[_Run]) -> None:
    """Mark the accounts synced (one statement) and remember the full syncs (one round trip)."""
    if not runs:
        return
    synced_at = timezone.now()
    for run in runs:
        run.account.sync_status = MarketplaceAccount.SyncStatus.OK
        run.account.sync_error = ""
        run.account.channel_errors = run.channel_errors
        run.account.last_sync_at = synced_at
    MarketplaceAccount.objects.bulk_update(
        [run.account for run in runs],
        ["sync_status", "sync_error", "channel_errors", "last_sync_at"],
    )
    full = [run.account.pk for run in runs if not run.only_if_news]
    if full:
        pipe = get_redis().pipeline(transaction=False)
        for account_id in full:
            pipe.set(full_sync_key(account_id), 1, ex=int(FULL_SYNC_EVERY.total_seconds()))
        pipe.execute()
