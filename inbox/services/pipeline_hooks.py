"""What the sync pipeline hands to later layers (AI analysis) once a page is committed.

One place, so the intelligence app owns what happens next without the pipeline importing it:
the job is enqueued by its dotted path, and the worker imports it when it runs.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from agentiq.redis import get_queue

ANALYZE_JOB = "intelligence.jobs.analyze_interactions_job"
ANALYZE_JOB_TIMEOUT = 600

# Set inside `analysis_gathered()`: committed ids wait there instead of a job per page.
_gathered: ContextVar[list[int] | None] = ContextVar("gathered_analysis", default=None)


def enqueue_interaction_analysis(interaction_ids: Sequence[int]) -> None:
    """Queue the AI analysis of newly ingested interactions on the "ai" queue.

    Call from `transaction.on_commit` only: the job must see the committed rows.
    """
    if not interaction_ids:
        return
    gathered = _gathered.get()
    if gathered is not None:
        gathered.extend(interaction_ids)
        return
    get_queue("ai").enqueue(ANALYZE_JOB, list(interaction_ids), job_timeout=ANALYZE_JOB_TIMEOUT)


@contextmanager
def analysis_gathered() -> Iterator[None]:
    """Within this block, the analysis of every committed page is enqueued as one job at its
    end (a batch sync commits many small pages). Ids gathered by a process that dies first
    are not lost: the analysis sweep (`analyze_pending_job`) finds unanalysed interactions."""
    gathered: list[int] = []
    token = _gathered.set(gathered)
    try:
        yield
    finally:
        _gathered.reset(token)
        enqueue_interaction_analysis(gathered)
