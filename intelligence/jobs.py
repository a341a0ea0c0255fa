"""RQ entry points of the intelligence app (thin: take ids, re-load, call services).

Each job is safe to run twice at once: analysis and auto-replies take per-item Redis locks,
SLA escalation claims rows with SKIP LOCKED, and the periodic sweeps hold a Redis job lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from agentiq.redis import get_redis
from inbox.models import Interaction
from intelligence import services
from intelligence.autoreply import evaluate_auto_reply

logger = logging.getLogger(__name__)

# Timeouts for the enqueue sites (`pipeline_hooks`, `agentiq/cron.py`).
ANALYZE_TIMEOUT = 600
SWEEP_TIMEOUT = 300


@contextmanager
def _job_lock(name: str, *, ttl: int) -> Iterator[bool]:
    redis = get_redis()
    key = f"job:lock:{name}"
    acquired = bool(redis.set(key, "1", nx=True, ex=ttl))
    try:
        yield acquired
    finally:
        if acquired:
            redis.delete(key)


def _auto_reply(interaction_ids: Sequence[int]) -> int:
    answered = 0
    # Cross-tenant by design: ids come from the pipeline; each row carries its workspace.
    items = Interaction.objects.select_related("workspace", "product", "customer", "account")
    for interaction in items.filter(pk__in=list(interaction_ids)).order_by("pk"):
        answered += evaluate_auto_reply(interaction) is not None
    return answered


def analyze_interactions_job(interaction_ids: list[int]) -> dict[str, int]:
    """Right after ingest: analyse the new items, then let auto-reply rules answer them."""
    analysed = services.analyze_new(interaction_ids)
    auto = _auto_reply(interaction_ids)
    return {"analysed": len(analysed), "auto_replies": auto}


def analyze_pending_job() -> dict[str, int]:
    """Every 2 minutes: items ingest missed, and rules results awaiting an LLM upgrade."""
    with _job_lock("analyze_pending", ttl=SWEEP_TIMEOUT) as acquired:
        if not acquired:
            return {"analysed": 0, "auto_replies": 0}
        analysed = services.analyze_pending()
        return {"analysed": len(analysed), "auto_replies": _auto_reply(analysed)}


def escalate_sla_job() -> int:
    """Every 5 minutes: escalate overdue and at-risk items (once per deadline)."""
    return services.escalate_sla()


def close_idle_chats_job() -> int:
    """Daily: close answered chats with no messages for `IDLE_CHAT_DAYS` days."""
    with _job_lock("close_idle_chats", ttl=SWEEP_TIMEOUT) as acquired:
        return services.close_idle_chats() if acquired else 0
