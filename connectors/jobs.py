"""RQ entry points of the sync pipeline and the outbox (thin: ids in, one service call).

Retries: only transient marketplace failures (429, 5xx, timeouts) are retried, with backoff;
the services record permanent ones (revoked token, rejected answer) for the seller instead.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from agentiq.redis import get_queue
from connectors.sync import SyncReport, claim_due_accounts, sync_account
from inbox.models import Message
from inbox.services.replies import enqueue_publish, publish_message, recover_stuck_messages

logger = logging.getLogger(__name__)

SYNC_JOB_TIMEOUT = 3600  # a first sync of a big account takes minutes
SYNC_RETRY = Retry(max=5, interval=[5, 15, 60, 180, 600])
# A job id per account: a slow account never has more than one sync waiting or running.
_PENDING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def sync_job_id(account_id: int) -> str:
    return f"sync-account-{account_id}"


def sync_account_job(account_id: int, only_if_news: bool = False) -> dict[str, object]:
    """Sync one account; RateLimited / transient errors propagate to the job's Retry."""
    report: SyncReport = sync_account(account_id, only_if_news=only_if_news)
    return {"status": report.status, "created": report.created, "pages": report.pages}


def enqueue_sync(account_id: int, *, only_if_news: bool = False) -> bool:
    """Enqueue a sync unless one is already waiting or running for the account."""
    queue = get_queue("sync")
    job_id = sync_job_id(account_id)
    try:
        if Job.fetch(job_id, connection=queue.connection).get_status() in _PENDING:
            return False
    except NoSuchJobError:
        pass
    queue.enqueue(
        sync_account_job,
        account_id,
        only_if_news,
        job_id=job_id,
        job_timeout=SYNC_JOB_TIMEOUT,
        retry=SYNC_RETRY,
        result_ttl=60,
        failure_ttl=86400,
    )
    return True


def dispatch_due_syncs_job() -> int:
    """Cron (every few seconds): enqueue the accounts whose next sync is due."""
    enqueued = 0
    for account_id, is_full in claim_due_accounts(now=timezone.now()):
        enqueued += enqueue_sync(account_id, only_if_news=not is_full)
    return enqueued


def publish_outbox_job(message_id: int) -> str:
    """Publish one queued reply exactly once (transient failures retry via the job's Retry)."""
    return str(publish_message(message_id).delivery_status)


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
