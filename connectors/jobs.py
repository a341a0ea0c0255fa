"""RQ entry points of the sync pipeline and the outbox (thin: ids in, one service call).

Retries: only transient marketplace failures (429, 5xx, timeouts) are retried, with backoff;
the services record permanent ones (revoked token, rejected answer) for the seller instead.
"""

import hashlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from agentiq.redis import get_queue, get_redis
from connectors.sync import SyncReport, claim_due_accounts, sync_account
from connectors.sync_batch import BATCH_SIZE, sync_accounts
from inbox.models import Message
from inbox.services.replies import (
    confirm_message,
    enqueue_publish,
    publish_message,
    recover_stuck_messages,
)

logger = logging.getLogger(__name__)

SYNC_JOB_TIMEOUT = 3600  # a first sync of a big account takes minutes
SYNC_RETRY = Retry(max=5, interval=[5, 15, 60, 180, 600])
# A batch stores first pages only (an account with more goes on in its own job).
SYNC_BATCH_JOB_TIMEOUT = 600
_PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def sync_job_id(account_id: int) -> str:
    return f"sync-account-{account_id}"


def sync_batch_job_id(account_ids: Sequence[int]) -> str:
    """The same accounts always make the same id: a batch is never queued twice."""
    digest = hashlib.sha256(",".join(map(str, sorted(account_ids))).encode()).hexdigest()
    return f"sync-batch-{digest[:16]}"


def _queued_key(account_id: int) -> str:
    # The id of the last job enqueued to sync the account (its own job or a batch).
    return f"sync:queued:{account_id}"


def _mark_queued(account_job_ids: dict[int, str]) -> None:
    if not account_job_ids:
        return
    pipe = get_redis().pipeline(transaction=False)
    for account_id, job_id in account_job_ids.items():
        pipe.set(_queued_key(account_id), job_id, ex=SYNC_JOB_TIMEOUT)
    pipe.execute()


def without_pending_syncs(account_ids: Sequence[int]) -> list[int]:
    """The accounts with no sync job (their own or a batch) waiting or running.

    Two round trips whatever the number of accounts: the markers, then the jobs they name.
    """
    if not account_ids:
        return []
    connection = get_redis()
    markers = [
        value.decode() if isinstance(value, bytes) else value
        for value in connection.mget([_queued_key(pk) for pk in account_ids])
    ]
    named = sorted({marker for marker in markers if marker})
    pending = {
        job.id
        for job in Job.fetch_many(named, connection=connection)
        if job is not None and job.get_status(refresh=False) in _PENDING
    }
    return [pk for pk, marker in zip(account_ids, markers, strict=True) if marker not in pending]


def sync_account_job(account_id: int, only_if_news: bool = False) -> dict[str, object]:
    """Sync one account; RateLimited / transient errors propagate to the job's Retry."""
    report: SyncReport = sync_account(account_id, only_if_news=only_if_news)
    return {"status": report.status, "created": report.created, "pages": report.pages}


def sync_accounts_job(batch: list[tuple[int, bool]]) -> dict[str, int]:
    """Sync a batch of `(account id, only_if_news)`; one account's failure is recorded on it.

    Accounts with more pages to read go on in their own job; a transient failure is retried
    by the account's own job (with `SYNC_RETRY`) after the delay the sync reports.
    """
    statuses: dict[str, int] = {}
    for report in sync_accounts(batch):
        statuses[report.status] = statuses.get(report.status, 0) + 1
        if report.status == "continues":
            enqueue_sync(report.account_id)
        elif report.retry_after is not None:
            enqueue_sync(
                report.account_id,
                only_if_news=dict(batch).get(report.account_id, False),
                delay=report.retry_after,
            )
    return statuses


def enqueue_sync(
    account_id: int, *, only_if_news: bool = False, delay: float | None = None
) -> bool:
    """Enqueue a sync unless one is already waiting or running for the account.

    `delay`: seconds to wait first (the sync queue's worker runs RQ's scheduler).
    """
    queue = get_queue("sync")
    job_id = sync_job_id(account_id)
    try:
        if Job.fetch(job_id, connection=queue.connection).get_status() in _PENDING:
            return False
    except NoSuchJobError:
        pass
    options: dict[str, Any] = {
        "job_id": job_id,
        "job_timeout": SYNC_JOB_TIMEOUT,
        "retry": SYNC_RETRY,
        "result_ttl": 60,
        "failure_ttl": 86400,
    }
    if delay:
        queue.enqueue_in(
            timedelta(seconds=delay), sync_account_job, account_id, only_if_news, **options
        )
    else:
        queue.enqueue(sync_account_job, account_id, only_if_news, **options)
    _mark_queued({account_id: job_id})
    return True


def dispatch_due_syncs_job() -> int:
    """Cron (every few seconds): enqueue the accounts whose next sync is due, in batches.

    An account whose sync (own job or batch) is still waiting or running is left out: a slow
    account never piles up jobs. Returns the number of accounts enqueued.
    """
    claimed = dict(claim_due_accounts(now=timezone.now()))
    free = without_pending_syncs(list(claimed))
    queue = get_queue("sync")
    marks: dict[int, str] = {}
    for start in range(0, len(free), BATCH_SIZE):
        ids = free[start : start + BATCH_SIZE]
        job_id = sync_batch_job_id(ids)
        queue.enqueue(
            sync_accounts_job,
            [(pk, not claimed[pk]) for pk in ids],
            job_id=job_id,
            job_timeout=SYNC_BATCH_JOB_TIMEOUT,
            result_ttl=60,
            failure_ttl=86400,
        )
        marks.update(dict.fromkeys(ids, job_id))
    _mark_queued(marks)
    return len(free)


def publish_outbox_job(message_id: int) -> str:
    """Publish one queued reply exactly once (transient failures retry via the job's Retry)."""
    return str(publish_message(message_id).delivery_status)


def confirm_message_job(message_id: int) -> str:
    """Read a sent reply back from the marketplace (transient failures retry via the job)."""
    message = confirm_message(message_id)
    return str(message.delivery_status) if message else "not sent"


def recover_stuck_messages_job() -> int:
    """Cron: return `sending` messages whose worker died to the outbox (or mark them sent)."""
    return recover_stuck_messages()


def publish_due_messages_job() -> int:
    """Cron safety net: enqueue queued messages that have no pending job (e.g. Redis was lost).

    Cross-tenant housekeeping, hence unscoped.
    """
    queue = get_queue("outbox")
    now = timezone.now()
    count = 0
    for message in Message.objects.filter(
        delivery_status=Message.DeliveryStatus.QUEUED,
        updated_at__lt=now - timedelta(minutes=5),
    ).only("id", "attempts", "publish_after")[:500]:
        if message.publish_after is not None and message.publish_after > now:
            continue
        job_id = f"publish-message-{message.pk}-{message.attempts}"
        try:
            if Job.fetch(job_id, connection=queue.connection).get_status() in _PENDING:
                continue
        except NoSuchJobError:
            pass
        enqueue_publish(message)
        count += 1
    return count
