"""SLA deadlines: the workspace's minutes per channel and priority, capped by the marketplace.

`sla_deadline` is the one formula; `sla_minutes` loads a workspace's rules in one query;
`refresh_sla_deadlines` recomputes stored deadlines in SQL (after a re-prioritisation or a
new inbound chat message), in one statement for any number of interactions.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection

from inbox.models import Channel, Interaction, Message, SLARule, Workspace

# Used when a workspace has no rule for a channel+priority (rules are created with the workspace,
# so this only matters for hand-made data).
FALLBACK_MINUTES = 1440


def sla_minutes(workspace: Workspace | int) -> dict[tuple[str, str], int]:
    """(channel, priority) → minutes, for one workspace (or its id; one query)."""
    return {
        (channel, priority): minutes
        for channel, priority, minutes in SLARule.objects.for_workspace(workspace).values_list(  # type: ignore[arg-type]
            "channel", "priority", "minutes"
        )
    }


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
    `last_message_at`). One UPDATE; callers run it inside their own transaction.
    """
    if not interaction_ids:
        return 0
    interaction = Interaction._meta.db_table
    rule = SLARule._meta.db_table
    message = Message._meta.db_table
    sql = f"""
        UPDATE {interaction} AS i
        SET sla_deadline_at = LEAST(
                CASE WHEN i.channel = %(chat)s
                     THEN COALESCE(
                        (SELECT max(m.occurred_at) FROM {message} m
                         WHERE m.interaction_id = i.id AND m.direction = %(inbound)s),
                        i.last_message_at)
                     ELSE i.occurred_at END
                + make_interval(mins => COALESCE(
                    (SELECT r.minutes FROM {rule} r
                     WHERE r.workspace_id = i.workspace_id AND r.channel = i.channel
                       AND r.priority = i.priority),
                    %(fallback)s)),
                i.reply_window_ends_at)
        WHERE i.id = ANY(%(ids)s)
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "chat": Channel.CHAT,
                "inbound": Message.Direction.INBOUND,
                "fallback": FALLBACK_MINUTES,
                "ids": list(interaction_ids),
            },
        )
        return cursor.rowcount
