"""Bulk triage: approve and publish many AI drafts at once (through the normal outbox), or
close many items.

A batch is kept in Redis for a day: what it queued, what it skipped and why, what it closed,
and whether it is still running. Rows picked on the page are handled inside the request;
"everything the filter matches" runs as a job on the default queue (`inbox.jobs.
bulk_action_job`), in chunks of `BULK_CHUNK` by id, so no number of matches is too many and
the page shows the progress at once.
"""

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError
from agentiq.redis import get_queue, get_redis
from inbox import selectors
from inbox.models import Channel, Interaction, User, Workspace
from inbox.services.interactions import close_interactions
from inbox.services.replies import queue_reply
from inbox.services.reply_checks import chat_draft_predates

BULK_CHUNK = 200
BULK_BATCH_TTL_SECONDS = 24 * 3600
BULK_JOB = "inbox.jobs.bulk_action_job"
CLOSE = "close"  # the other action is "publish"


# Why `publish_drafts` skipped an item, by reason code (its own, or a refusal's DomainError code).
SKIP_REASONS = {
    "already_answered": _("Already answered"),
    "no_reply_needed": _("No reply needed"),
    "no_draft": _("No draft"),
    "guardrail_blocked": _("Blocked by guardrails"),
    "reply_length": _("Too short or too long for the marketplace"),
    "duplicate_message": _("Sent a moment ago"),
    "reply_window_closed": _("The marketplace no longer accepts an answer"),
}


def skip_reasons(skipped: Mapping[str, int]) -> list[tuple[str, int]]:
    """(reason in the user's language, how many) for a `skipped` count by reason code."""
    return [(str(SKIP_REASONS.get(code, _("Other reason"))), n) for code, n in skipped.items()]


@dataclass(frozen=True, slots=True)
class BulkPublishResult:
    message_ids: tuple[int, ...]
    skipped: dict[str, int]  # reason code → how many
    account_ids: tuple[int, ...]

    @property
    def queued(self) -> int:
        return len(self.message_ids)


def publish_drafts(interactions: Iterable[Interaction], *, actor: User) -> BulkPublishResult:
    """Approve and queue each interaction's AI draft through `queue_reply` (the outbox).

    Skips, and counts by reason, items already answered (a chat: the seller wrote last, or
    its draft predates our last message), chats that await nothing and items without a
    draft; every refusal of `queue_reply` (guardrail block, answer already queued, window
    closed …) is counted under its `DomainError.code`. Each reply is its own transaction: one refusal never undoes the
    rest.
    """
    message_ids: list[int] = []
    account_ids: set[int] = set()
    skipped: Counter[str] = Counter()
    for interaction in interactions:
        draft = interaction.draft.strip()
        answered = interaction.is_answered
        if interaction.channel == Channel.CHAT and not answered:
            if not interaction.needs_response:  # the buyer only thanked or agreed
                skipped["no_reply_needed"] += 1
                continue
            answered = chat_draft_predates(interaction, selectors.latest_outbound(interaction))
        if answered:
            skipped["already_answered"] += 1
            continue
        if not draft:
            skipped["no_draft"] += 1
            continue
        try:
            message = queue_reply(interaction, text=draft, actor=actor)
        except DomainError as error:
            skipped[error.code] += 1
            continue
        message_ids.append(message.pk)
        account_ids.add(interaction.account_id)
    return BulkPublishResult(
        message_ids=tuple(message_ids), skipped=dict(skipped), account_ids=tuple(account_ids)
    )


@dataclass(frozen=True, slots=True)
class BulkBatch:
    batch: str
    action: str
    message_ids: list[int]
    account_ids: list[int]
    skipped: dict[str, int]  # reason code → how many
    closed: int
    running: bool
    stopped: bool  # the job failed before the end


def _key(workspace: Workspace, batch: str) -> str:
    return f"inbox-bulk:{workspace.pk}:{batch}"


def start_batch(
    workspace: Workspace,
    *,
    actor: User,
    action: str,
    ids: Sequence[int] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> str:
    """Apply `action` to the workspace's items `ids` now, or to everything matching `filters`
    in the background; returns the batch id that `batch_progress` reads."""
    batch = uuid.uuid4().hex
    key = _key(workspace, batch)
    redis = get_redis()
    redis.hset(
        key,
        mapping={
            "action": action,
            "actor": actor.pk,
            "filters": json.dumps(dict(filters or {})),
            "running": 1,
        },
    )
    redis.expire(key, BULK_BATCH_TTL_SECONDS)
    if ids is None:
        get_queue("default").enqueue(BULK_JOB, workspace.pk, batch, job_id=f"bulk-{batch}")
        return batch
    targets = (
        Interaction.objects.for_workspace(workspace)
        .filter(pk__in=ids)
        .select_related("workspace", "account")
        .order_by("id")
    )
    _run(key, lambda: _apply(key, action, list(targets), actor=actor))
    return batch


def run_batch(workspace: Workspace, batch: str) -> None:
    """The job of a "everything matching" batch: the matches in chunks by id (an item that
    starts or stops matching meanwhile is handled or left as it is when its chunk is read)."""
    key = _key(workspace, batch)
    stored = _stored(key)
    if not stored:
        return  # expired

    def apply_to_matches() -> None:
        actor = User.objects.get(pk=int(stored["actor"]))
        matching = (
            selectors.inbox_interactions(
                workspace, json.loads(stored["filters"]), user=actor, now=timezone.now()
            )
            .select_related("workspace", "account")
            .order_by("id")
        )
        last = 0
        while chunk := list(matching.filter(pk__gt=last)[:BULK_CHUNK]):
            _apply(key, stored["action"], chunk, actor=actor)
            last = chunk[-1].pk

    _run(key, apply_to_matches)


def _run(key: str, work: Callable[[], None]) -> None:
    """Do the batch's `work`; on failure what was done stays done and the page says the batch
    stopped (the cause goes to RQ's job record, the log and Sentry)."""
    try:
        work()
    except Exception:
        get_redis().hset(key, "stopped", 1)
        raise
    finally:
        get_redis().hset(key, "running", 0)


def _stored(key: str) -> dict[str, str]:
    # The shared client is built without decode_responses: keys and values are bytes.
    raw = cast("dict[bytes, bytes]", get_redis().hgetall(key))
    return {name.decode(): value.decode() for name, value in raw.items()}


def _apply(key: str, action: str, interactions: list[Interaction], *, actor: User) -> None:
    redis = get_redis()
    if action == CLOSE:
        redis.hincrby(key, "closed", close_interactions(interactions, actor=actor))
        return
    result = publish_drafts(interactions, actor=actor)
    with redis.pipeline() as pipe:
        if result.message_ids:
            pipe.rpush(key + ":messages", *result.message_ids)
            pipe.expire(key + ":messages", BULK_BATCH_TTL_SECONDS)
        if result.account_ids:
            pipe.sadd(key + ":accounts", *result.account_ids)
            pipe.expire(key + ":accounts", BULK_BATCH_TTL_SECONDS)
        for reason, n in result.skipped.items():
            pipe.hincrby(key, f"skipped:{reason}", n)
        pipe.execute()


def batch_progress(workspace: Workspace, batch: str) -> BulkBatch | None:
    """The batch as it stands (None when unknown or expired)."""
    key = _key(workspace, batch)
    stored = _stored(key)
    if not stored:
        return None
    redis = get_redis()
    return BulkBatch(
        batch=batch,
        action=stored["action"],
        message_ids=[int(i) for i in redis.lrange(key + ":messages", 0, -1)],
        account_ids=sorted(int(i) for i in redis.smembers(key + ":accounts")),
        skipped={
            name.removeprefix("skipped:"): int(n)
            for name, n in stored.items()
            if name.startswith("skipped:")
        },
        closed=int(stored.get("closed", 0)),
        running=stored["running"] == "1",
        stopped=stored.get("stopped") == "1",
    )
