"""What runs when: `manage.py rqcron agentiq.cron` (schedules only, pointing at jobs)."""

from rq import cron

from connectors.jobs import (
    dispatch_due_syncs_job,
    publish_due_messages_job,
    recover_stuck_messages_job,
)
from inbox.jobs import clear_expired_sessions_job
from intelligence.jobs import (
    SWEEP_TIMEOUT,
    analyze_pending_job,
    close_idle_chats_job,
    escalate_sla_job,
)

cron.register(clear_expired_sessions_job, queue_name="default", cron="17 3 * * *", job_timeout=300)
# Enqueues accounts whose next sync is due, in batch jobs of up to 40 (cadence per token:
# MarketplaceAccount.token_info).
cron.register(dispatch_due_syncs_job, queue_name="sync", interval=5, job_timeout=60, result_ttl=30)
# Outbox: messages stuck in "sending" (dead worker) and queued ones without a job.
cron.register(recover_stuck_messages_job, queue_name="outbox", interval=120, job_timeout=300)
cron.register(publish_due_messages_job, queue_name="outbox", interval=300, job_timeout=120)

# Intelligence: AI sweep, SLA escalation, idle chats.
cron.register(analyze_pending_job, queue_name="ai", interval=120, job_timeout=SWEEP_TIMEOUT)
cron.register(escalate_sla_job, queue_name="default", interval=300, job_timeout=SWEEP_TIMEOUT)
cron.register(
    close_idle_chats_job, queue_name="default", cron="41 4 * * *", job_timeout=SWEEP_TIMEOUT
)
