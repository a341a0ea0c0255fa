"""SLA deadlines: the workspace's minutes per channel and priority, capped by the marketplace.

`sla_deadline` is the one formula; `sla_minutes` loads a workspace's rules in one query;
`refresh_sla_deadlines` recomputes stored deadlines (after a re-prioritisation or a new inbound
chat message) with a constant number of queries for any number of interactions.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max

from inbox.models import Channel, Interaction, Message, SLARule, Workspace
from inbox.services.rows import matching, update_rows

# Used when a workspace has no rule for a channel+priority (rules are created with the workspace,
# so this only matters for hand-made data).
FALLBACK_MINUTES = 1440


def sla_minutes(workspace: Workspace | int) -> dict[tuple[str, str], int]:
    """(channel, priority) → minutes, for one workspace (or its id; one query)."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return sla_minutes_of([workspace_id]).get(workspace_id, {})


def sla_minutes_of(workspace_ids: Iterable[int]) -> dict[int, dict[tuple[str, str], int]]:
    """workspace id → (channel, priority) → minutes, for several workspaces in one query."""
    rules: dict[int, dict[tuple[str, str], int]] = {}
    for workspace_id, channel, priority, minutes in SLARule.objects.filter(
        workspace_id__in=set(workspace_ids)
    ).values_list("workspace_id", "channel", "priority", "minutes"):
        rules.setdefault(workspace_id, {})[(channel, priority)] = minutes
    return rules


def sla_deadline(
    *, start_at: datetime, minutes: int | None, window_ends_at: datetime | None
) -> datetime:
    """When an answer is due: start + the rule's minutes, or the marketplace's window if earlier."""
    deadline = start_at + timedelta(minutes=minutes or FALLBACK_MINUTES)
    if window_ends_at is not None and window_ends_at < deadline:
        return window_ends_at
    return deadline


def refresh_sla_deadlines(interaction_ids: Sequence[int]) -> int:
    """Recompute `sla_deadline_at` of these interactions from their current priority.

    The start is `occurred_at`, or for chats the newest inbound message (falling back to
    `last_message_at`). A constant number of queries (interactions, their workspaces' rules,
    the chats' newest inbound messages, one bulk UPDATE of the deadlines that moved); callers
    run it inside their own transaction. Returns the number of interactions found.
    """
    if not interaction_ids:
        return 0
    rows: list[tuple[Any, ...]] = []
    for lookup in matching("pk", list(interaction_ids)):
        rows += Interaction.objects.filter(**lookup).values_list(
            "id",
            "workspace_id",
            "channel",
            "priority",
            "occurred_at",
            "last_message_at",
            "reply_window_ends_at",
            "sla_deadline_at",
        )
    if not rows:
        return 0
    rules = sla_minutes_of(row[1] for row in rows)
    chat_ids = [row[0] for row in rows if row[2] == Channel.CHAT]
    last_inbound: dict[int, datetime] = {}
    for lookup in matching("interaction_id", chat_ids):
        last_inbound.update(
            Message.objects.filter(**lookup, direction=Message.Direction.INBOUND)
            .values("interaction_id")
            .annotate(last=Max("occurred_at"))
            .values_list("interaction_id", "last")
        )
    changed = []
    for pk, workspace_id, channel, priority, occurred_at, last_at, window, current in rows:
        start = (last_inbound.get(pk) or last_at) if channel == Channel.CHAT else occurred_at
        minutes = rules.get(workspace_id, {}).get((channel, priority))
        deadline = start + timedelta(minutes=FALLBACK_MINUTES if minutes is None else minutes)
        if window is not None and window < deadline:
            deadline = window
        if deadline != current:
            changed.append({"id": pk, "sla_deadline_at": deadline})
    update_rows(Interaction, changed, ["sla_deadline_at"])
    return len(rows)
