"""What the sync pipeline hands to later layers (AI analysis) once a page is committed.

One place, so the intelligence app owns what happens next without the pipeline importing it:
the job is enqueued by its dotted path, and the worker imports it when it runs.
"""

from collections.abc import Sequence

from agentiq.redis import get_queue

ANALYZE_JOB = "intelligence.jobs.analyze_interactions_job"
ANALYZE_JOB_TIMEOUT = 600


def enqueue_interaction_analysis(interaction_ids: Sequence[int]) -> None:
    """Queue the AI analysis of newly ingested interactions on the "ai" queue.

    Call from `transaction.on_commit` only: the job must see the committed rows.
    """
    if not interaction_ids:
        return
    get_queue("ai").enqueue(ANALYZE_JOB, list(interaction_ids), job_timeout=ANALYZE_JOB_TIMEOUT)
