"""Reads for pages and jobs (CONVENTIONS §4)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, F, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from inbox.models import (
    Interaction,
    InteractionEvent,
    InteractionLink,
    MarketplaceAccount,
    Membership,
    Message,
    Product,
    ReplyTemplate,
    SavedView,
    User,
    Workspace,
)


@dataclass(frozen=True, slots=True)
class WorkspaceSummary:
    accounts: int
    open_interactions: int
    awaiting_reply: int
    overdue: int
    new_today: int


def workspace_summary(workspace: Workspace, *, now: datetime) -> WorkspaceSummary:
    """Headline counts for the workspace home page, in one query per table."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    awaiting = Q(needs_response=True, first_response_at__isnull=True) & ~Q(
        status=Interaction.Status.CLOSED
    )
    counts = Interaction.objects.for_workspace(workspace).aggregate(
        open=Count("id", filter=~Q(status=Interaction.Status.CLOSED)),
        awaiting=Count("id", filter=awaiting),
        overdue=Count("id", filter=awaiting & Q(sla_deadline_at__lt=now)),
        new_today=Count("id", filter=Q(occurred_at__gte=day_start)),
    )
    return WorkspaceSummary(
        accounts=MarketplaceAccount.objects.for_workspace(workspace).count(),
        open_interactions=counts["open"],
        awaiting_reply=counts["awaiting"],
        overdue=counts["overdue"],
        new_today=counts["new_today"],
    )


# --- The unified inbox -------------------------------------------------------------------------
# Filters arrive as `InboxFilterForm.cleaned_data` (validated in memory, ids as ints); the
# selectors below turn them into one `Q`, so a list, its fingerprint, saved-view counts and a
# bulk action over "everything matching" can never disagree.

INBOX_PAGE_SIZE = 50
# An open item needing an answer is "at risk" when its deadline is this close.
SLA_AT_RISK = timedelta(hours=1)
# The expression behind the GIN index of migration `interaction_search_index` (PostgreSQL only);
# search must use exactly this SQL for the planner to pick the index.
SEARCH_DOCUMENT_SQL = (
    "to_tsvector('russian'::regconfig, "
    "inbox_interaction.text || ' ' || inbox_interaction.pros || ' ' || "
    "inbox_interaction.cons || ' ' || inbox_interaction.customer_name)"
)
# (field, descending). Ascending sorts put empty values (no deadline, no rating) last.
INBOX_SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("last_message_at", True),
    "sla": ("sla_deadline_at", False),
    "rating": ("rating", False),
}


def _search_condition(text: str) -> Q:
    if connection.vendor == "postgresql":
        # Constant SQL; the user's text travels only as a query parameter.
        match = RawSQL(  # noqa: S611
            f"{SEARCH_DOCUMENT_SQL} @@ websearch_to_tsquery('russian'::regconfig, %s)",
            (text,),
            output_field=BooleanField(),
        )
        return Q(match)
    return (
        Q(text__icontains=text)
        | Q(pros__icontains=text)
        | Q(cons__icontains=text)
        | Q(customer_name__icontains=text)
    )


def inbox_filter_q(filters: Mapping[str, Any], *, user: User, now: datetime) -> Q:
    """One `Q` for the inbox filters (everything except sort and cursor)."""
    q = Q()
    for field in ("marketplace", "channel", "priority", "sentiment", "intent"):
        if filters.get(field):
            q &= Q(**{field: filters[field]})
    status = filters.get("status") or ""
    if status == "":
        q &= ~Q(status=Interaction.Status.CLOSED)
    elif status != "all":
        q &= Q(status=status)
    if filters.get("account"):
        q &= Q(account_id=filters["account"])
    if filters.get("product"):
        q &= Q(product_id=filters["product"])
    if filters.get("rating"):
        q &= Q(rating=filters["rating"])
    assignee = filters.get("assignee") or ""
    if assignee == "me":
        q &= Q(assignee_id=user.pk)
    elif assignee == "none":
        q &= Q(assignee__isnull=True)
    elif assignee:
        q &= Q(assignee_id=int(assignee))
    awaiting = Q(needs_response=True, first_response_at__isnull=True) & ~Q(
        status=Interaction.Status.CLOSED
    )
    if filters.get("needs_response"):
        q &= awaiting
    if filters.get("sla") == "overdue":
        q &= awaiting & Q(sla_deadline_at__lt=now)
    elif filters.get("sla") == "at_risk":
        q &= awaiting & Q(sla_deadline_at__gte=now, sla_deadline_at__lt=now + SLA_AT_RISK)
    if filters.get("q"):
        q &= _search_condition(filters["q"])
    return q


def inbox_interactions(
    workspace: Workspace, filters: Mapping[str, Any], *, user: User, now: datetime
) -> QuerySet[Interaction]:
    """The workspace's interactions matching the filters, sorted, with what a row shows."""
    field, descending = INBOX_SORTS.get(filters.get("sort") or "newest", INBOX_SORTS["newest"])
    order = (
        [F(field).desc(), F("id").desc()]
        if descending
        else [F(field).asc(nulls_last=True), F("id").asc()]
    )
    return (
        Interaction.objects.for_workspace(workspace)
        .filter(inbox_filter_q(filters, user=user, now=now))
        .select_related("account", "product", "assignee")
        .order_by(*order)
    )


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[Interaction]
    next_cursor: str
    fingerprint: str
    total: int


def _encode_cursor(row: Interaction, field: str) -> str:
    value = getattr(row, field)
    if value is None:
        return f"~{row.pk}"
    if isinstance(value, datetime):
        return f"{value.isoformat()}~{row.pk}"
    return f"{value}~{row.pk}"


def _cursor_condition(cursor: str, field: str, descending: bool) -> Q | None:
    """The keyset condition "after this row" for a `value~id` cursor; None when malformed."""
    raw_value, _sep, raw_id = cursor.rpartition("~")
    try:
        last_id = int(raw_id)
        value: datetime | int | None
        if raw_value == "":
            value = None
        elif field == "rating":
            value = int(raw_value)
        else:
            value = datetime.fromisoformat(raw_value)
    except ValueError:
        return None
    if descending:
        if value is None:
            return None
        return Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": last_id})
    if value is None:
        return Q(**{f"{field}__isnull": True, "id__gt": last_id})
    return (
        Q(**{f"{field}__gt": value})
        | Q(**{field: value, "id__gt": last_id})
        | Q(**{f"{field}__isnull": True})
    )


def _fingerprint_and_total(
    workspace: Workspace, filters: Mapping[str, Any], *, user: User, now: datetime
) -> tuple[str, int]:
    stats = (
        Interaction.objects.for_workspace(workspace)
        .filter(inbox_filter_q(filters, user=user, now=now))
        .aggregate(n=Count("*"), latest=Max("updated_at"))
    )
    latest = stats["latest"].timestamp() if stats["latest"] else 0
    return f"{stats['n']}-{latest:.6f}", stats["n"]


def inbox_fingerprint(
    workspace: Workspace, filters: Mapping[str, Any], *, user: User, now: datetime
) -> str:
    """A cheap token that changes when anything matching the filters changes (one query:
    count and newest `updated_at` over the filter)."""
    return _fingerprint_and_total(workspace, filters, user=user, now=now)[0]


def inbox_page(
    workspace: Workspace,
    filters: Mapping[str, Any],
    *,
    user: User,
    now: datetime,
    cursor: str = "",
    limit: int = INBOX_PAGE_SIZE,
) -> InboxPage:
    """One page of the inbox by keyset (no OFFSET), plus the fingerprint of the whole filter."""
    field, descending = INBOX_SORTS.get(filters.get("sort") or "newest", INBOX_SORTS["newest"])
    qs = inbox_interactions(workspace, filters, user=user, now=now)
    condition = _cursor_condition(cursor, field, descending) if cursor else None
    if condition is not None:
        qs = qs.filter(condition)
    rows = list(qs[: limit + 1])
    next_cursor = _encode_cursor(rows[limit - 1], field) if len(rows) > limit else ""
    fingerprint, total = _fingerprint_and_total(workspace, filters, user=user, now=now)
    return InboxPage(
        rows=rows[:limit], next_cursor=next_cursor, fingerprint=fingerprint, total=total
    )


def saved_view_counts(
    workspace: Workspace,
    filters_by_view: Mapping[int, Mapping[str, Any]],
    *,
    user: User,
    now: datetime,
) -> dict[int, int]:
    """How many interactions each saved view matches right now, in one query."""
    if not filters_by_view:
        return {}
    counts = Interaction.objects.for_workspace(workspace).aggregate(
        **{
            f"view_{view_id}": Count("id", filter=inbox_filter_q(filters, user=user, now=now))
            for view_id, filters in filters_by_view.items()
        }
    )
    return {view_id: counts[f"view_{view_id}"] for view_id in filters_by_view}


def visible_saved_views(workspace: Workspace, *, user: User) -> QuerySet[SavedView]:
    """The member's own views and the team's shared ones."""
    return (
        SavedView.objects.for_workspace(workspace)
        .filter(Q(owner=user) | Q(is_shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


@dataclass(frozen=True, slots=True)
class InboxChoices:
    accounts: list[MarketplaceAccount]
    products: list[Product]
    members: list[Membership]


# The product filter lists at most this many products (most recently updated first).
PRODUCT_CHOICES_LIMIT = 300


def inbox_choices(workspace: Workspace) -> InboxChoices:
    """What the filter and assign controls offer (three queries)."""
    return InboxChoices(
        accounts=list(MarketplaceAccount.objects.for_workspace(workspace).order_by("name", "id")),
        products=list(
            Product.objects.for_workspace(workspace)
            .only("id", "name", "external_id")  # not the card data
            .order_by("-updated_at", "id")[:PRODUCT_CHOICES_LIMIT]
        ),
        members=list(
            Membership.objects.filter(workspace=workspace)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        ),
    )


@dataclass(frozen=True, slots=True)
class JourneyStep:
    interaction: Interaction
    strength: str
    strength_label: str
    reason: str


def customer_journey(interaction: Interaction) -> list[JourneyStep]:
    """Interactions linked to this one (both directions), strongest and newest first."""
    links = (
        InteractionLink.objects.for_workspace(interaction.workspace_id)
        .filter(Q(source=interaction) | Q(target=interaction))
        .select_related("source", "target")
    )
    rank = {s: i for i, s in enumerate(InteractionLink.Strength.values)}
    steps = [
        JourneyStep(
            interaction=link.target if link.source_id == interaction.pk else link.source,
            strength=link.strength,
            strength_label=link.get_strength_display(),
            reason=link.reason,
        )
        for link in links
    ]
    return sorted(
        steps, key=lambda s: (rank.get(s.strength, 9), -s.interaction.occurred_at.timestamp())
    )


def interaction_for_page(workspace: Workspace, pk: int) -> Interaction:
    """One interaction with everything the conversation pane shows beside its messages."""
    return get_object_or_404(
        Interaction.objects.for_workspace(workspace).select_related(
            "workspace", "account", "product", "customer", "assignee"
        ),
        pk=pk,
    )


def conversation_messages(interaction: Interaction) -> list[Message]:
    return list(
        Message.objects.for_workspace(interaction.workspace_id)
        .filter(interaction=interaction)
        .select_related("author")
        .order_by("occurred_at", "id")
    )


def interaction_timeline(interaction: Interaction, *, limit: int = 30) -> list[InteractionEvent]:
    return list(
        InteractionEvent.objects.for_workspace(interaction.workspace_id)
        .filter(interaction=interaction)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def reply_templates(workspace: Workspace, *, channel: str) -> list[ReplyTemplate]:
    return list(
        ReplyTemplate.objects.for_workspace(workspace)
        .filter(Q(channel="") | Q(channel=channel))
        .order_by("name")
    )


@dataclass(frozen=True, slots=True)
class AccountBacklog:
    account: MarketplaceAccount
    queued: int
    per_minute: int
    eta_minutes: int


# Conservative publishing rates when the account's token check did not report one.
DEFAULT_REPLIES_PER_MINUTE = {"wb": 60, "ozon": 30}
OUTBOX_PENDING = ("scheduled", "queued", "sending")


def outbox_backlog(workspace: Workspace, *, account_ids: Sequence[int]) -> list[AccountBacklog]:
    """Replies still waiting to be published per account, and roughly how long they'll take."""
    if not account_ids:
        return []
    accounts = MarketplaceAccount.objects.for_workspace(workspace).filter(pk__in=account_ids)
    queued = dict(
        Message.objects.for_workspace(workspace)
        .filter(interaction__account_id__in=account_ids, delivery_status__in=OUTBOX_PENDING)
        .values_list("interaction__account_id")
        .annotate(n=Count("id"))
        .values_list("interaction__account_id", "n")
    )
    result = []
    for account in accounts.order_by("name", "id"):
        rate = int(
            account.token_info.get("replies_per_minute")
            or DEFAULT_REPLIES_PER_MINUTE.get(account.marketplace, 30)
        )
        n = queued.get(account.pk, 0)
        result.append(
            AccountBacklog(
                account=account, queued=n, per_minute=rate, eta_minutes=-(-n // max(rate, 1))
            )
        )
    return result


def delivery_summary(workspace: Workspace, *, message_ids: Sequence[int]) -> dict[str, int]:
    """How many of these outbound messages are in each delivery state (one query)."""
    return dict(
        Message.objects.for_workspace(workspace)
        .filter(pk__in=message_ids)
        .values_list("delivery_status")
        .annotate(n=Count("id"))
        .values_list("delivery_status", "n")
    )


def latest_outbound(interaction: Interaction) -> Message | None:
    return (
        Message.objects.for_workspace(interaction.workspace_id)
        .filter(interaction=interaction, direction=Message.Direction.OUTBOUND)
        .order_by("-occurred_at", "-id")
        .first()
    )
