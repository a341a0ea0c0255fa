"""Writes on one interaction from the inbox: status, assignee, private notes, read state.

Each function changes the interaction and writes its `InteractionEvent` in one transaction,
so the timeline never disagrees with the data (CONVENTIONS §4).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from django.db import models, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError
from inbox.models import Interaction, InteractionEvent, Membership, Message, User
from inbox.services.rows import in_chunks, insert_rows


class InvalidStatusChange(DomainError):
    code = "invalid_status_change"
    message = _("This status change is not allowed.")


class SnoozeNeedsFutureTime(DomainError):
    code = "snooze_needs_future_time"
    message = _("Choose a time in the future to snooze until.")


class AssigneeNotMember(DomainError):
    code = "assignee_not_member"
    message = _("Only a member of this workspace can be assigned.")


class EmptyNote(DomainError):
    code = "empty_note"
    message = _("A note cannot be empty.")


# Which status may follow which. NEW is only ever the starting point.
ALLOWED_STATUS_CHANGES: dict[str, frozenset[str]] = {
    Interaction.Status.NEW: frozenset({"open", "pending", "snoozed", "closed"}),
    Interaction.Status.OPEN: frozenset({"pending", "snoozed", "closed"}),
    Interaction.Status.PENDING: frozenset({"open", "snoozed", "closed"}),
    Interaction.Status.SNOOZED: frozenset({"open", "pending", "closed"}),
    Interaction.Status.CLOSED: frozenset({"open"}),
}


def _event(
    interaction: Interaction, *, kind: str, actor: User | None, payload: dict[str, object]
) -> InteractionEvent:
    return InteractionEvent.objects.create(
        workspace_id=interaction.workspace_id,
        interaction=interaction,
        account_id=interaction.account_id,
        kind=kind,
        actor=actor,
        payload=payload,
    )


def change_status(
    interaction: Interaction,
    *,
    status: str,
    actor: User | None,
    snoozed_until: datetime | None = None,
    now: datetime | None = None,
) -> Interaction:
    """Move an interaction to `status` — the only place a status changes.

    Side effects: closing sets `closed_at`; re-opening clears it; snoozing requires a future
    `snoozed_until` (cleared by any other status). Writes a STATUS_CHANGED event. Changing to
    the current status (other than a new snooze time) is a no-op without an event.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        previous = locked.status
        if status == previous and status != Interaction.Status.SNOOZED:
            return locked
        if status != previous and status not in ALLOWED_STATUS_CHANGES.get(previous, frozenset()):
            raise InvalidStatusChange
        if status == Interaction.Status.SNOOZED:
            if snoozed_until is None or snoozed_until <= now:
                raise SnoozeNeedsFutureTime
            locked.snoozed_until = snoozed_until
        else:
            locked.snoozed_until = None
        locked.status = status
        locked.closed_at = now if status == Interaction.Status.CLOSED else None
        locked.save(update_fields=["status", "snoozed_until", "closed_at", "updated_at"])
        payload: dict[str, object] = {"from": previous, "to": status}
        if locked.snoozed_until is not None:
            payload["snoozed_until"] = locked.snoozed_until.isoformat()
        _event(locked, kind=InteractionEvent.Kind.STATUS_CHANGED, actor=actor, payload=payload)
    return locked


# A chat left in these states opens again when its buyer writes.
_WOKEN_BY_BUYER = (
    Interaction.Status.CLOSED,
    Interaction.Status.PENDING,
    Interaction.Status.SNOOZED,
)


class ChatNews(NamedTuple):
    """What a sync's new messages of a known chat tell: the buyer's messages since the seller
    last wrote, and whether the seller wrote among them (on the marketplace's own pages)."""

    buyer_messages: int
    seller_wrote: bool


def note_buyer_messages(
    account_id: int, workspace_id: int, news: Mapping[int, ChatNews], *, now: datetime
) -> None:
    """The sync's twin of `change_status` for known chats with new messages (`news` by id).

    The buyer's messages since the seller last wrote are the unread ones (added to the count,
    or replacing it when the seller wrote too). A closed, pending or snoozed chat whose buyer
    has the last word opens again, with a STATUS_CHANGED event (no actor), so no follow-up
    goes unseen. Runs in the caller's transaction, in a constant number of statements.
    """
    reopened: dict[int, str] = {}
    woken = models.Q(status__in=_WOKEN_BY_BUYER)
    for chunk in in_chunks(list(news.items()), lookups=3):
        unread = Case(
            *(
                When(
                    pk=pk,
                    then=Value(n.buyer_messages)
                    if n.seller_wrote
                    else F("unread_count") + Value(n.buyer_messages),
                )
                for pk, n in chunk
            ),
            default=F("unread_count"),
            output_field=models.PositiveIntegerField(),
        )
        Interaction.objects.filter(pk__in=[pk for pk, _n in chunk]).update(
            unread_count=unread, updated_at=now
        )
        waking = [pk for pk, n in chunk if n.buyer_messages]
        if not waking:
            continue
        reopened.update(
            Interaction.objects.filter(woken, pk__in=waking).values_list("id", "status")
        )
        Interaction.objects.filter(woken, pk__in=waking).update(
            status=Interaction.Status.OPEN, closed_at=None, snoozed_until=None, updated_at=now
        )
    insert_rows(
        InteractionEvent,
        [
            {
                "interaction_id": pk,
                "payload": {"from": previous, "to": Interaction.Status.OPEN, "by": "buyer"},
            }
            for pk, previous in reopened.items()
        ],
        now=now,
        constants={
            "workspace_id": workspace_id,
            "account_id": account_id,
            "kind": InteractionEvent.Kind.STATUS_CHANGED,
        },
    )


def assign_interaction(
    interaction: Interaction, *, assignee: User | None, actor: User | None
) -> Interaction:
    """Give the interaction to a member of its workspace (or to nobody, with `None`).

    Raises `AssigneeNotMember` for a user outside the workspace. Writes an ASSIGNED event.
    """
    if (
        assignee is not None
        and not Membership.objects.filter(
            workspace_id=interaction.workspace_id, user=assignee
        ).exists()
    ):
        raise AssigneeNotMember
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        previous_id = locked.assignee_id
        if previous_id == (assignee.pk if assignee else None):
            return locked
        locked.assignee = assignee
        locked.save(update_fields=["assignee", "updated_at"])
        _event(
            locked,
            kind=InteractionEvent.Kind.ASSIGNED,
            actor=actor,
            payload={"from": previous_id, "to": assignee.pk if assignee else None},
        )
    return locked


def add_note(
    interaction: Interaction, *, text: str, actor: User, now: datetime | None = None
) -> Message:
    """Add a private note (never sent to the marketplace) and a NOTE_ADDED event."""
    text = text.strip()
    if not text:
        raise EmptyNote
    now = now or timezone.now()
    with transaction.atomic():
        note = Message.objects.create(
            workspace_id=interaction.workspace_id,
            interaction=interaction,
            direction=Message.Direction.INTERNAL,
            author_type=Message.AuthorType.SELLER,
            author=actor,
            text=text,
            delivery_status=Message.DeliveryStatus.RECEIVED,
            occurred_at=now,
        )
        # Touch the row so list fingerprints notice the change.
        Interaction.objects.filter(pk=interaction.pk).update(updated_at=now)
        _event(
            interaction,
            kind=InteractionEvent.Kind.NOTE_ADDED,
            actor=actor,
            payload={"message_id": note.pk},
        )
    return note


def mark_read(interaction: Interaction, *, actor: User) -> Interaction:
    """Clear the unread counter when a member opens the interaction.

    Writes a READ event with `{"read": n}` only when something was unread, so opening an
    already-read item costs one cheap query and no write.
    """
    if interaction.unread_count == 0:
        return interaction
    with transaction.atomic():
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        unread = locked.unread_count
        if unread == 0:
            return locked
        locked.unread_count = 0
        locked.save(update_fields=["unread_count", "updated_at"])
        _event(locked, kind=InteractionEvent.Kind.READ, actor=actor, payload={"read": unread})
    interaction.unread_count = 0
    return interaction


def close_interactions(interactions: Iterable[Interaction], *, actor: User) -> int:
    """Close each interaction via `change_status`; returns how many changed."""
    closed = 0
    for interaction in interactions:
        if interaction.status == Interaction.Status.CLOSED:
            continue
        change_status(interaction, status=Interaction.Status.CLOSED, actor=actor)
        closed += 1
    return closed
