"""Reads for pages and jobs (CONVENTIONS §4)."""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

from inbox.models import (
    Channel,
    Interaction,
    InteractionEvent,
    InteractionLink,
    Marketplace,
    MarketplaceAccount,
    Membership,
    Message,
    Priority,
    Product,
    ReplyTemplate,
    SavedView,
    User,
    Workspace,
    awaiting_answer_q,
)

_T = TypeVar("_T")


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
    awaiting = awaiting_answer_q()
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

# About two screens of rows; the next ones load as the list scrolls (keyset, no OFFSET).
INBOX_PAGE_SIZE = 30
# An open item needing an answer is "at risk" when its deadline is this close.
SLA_AT_RISK = timedelta(hours=1)
# The stored Russian search document of migration 0005 (PostgreSQL only, GIN-indexed).
SEARCH_VECTOR_SQL = "inbox_interaction.search_vector"
# A text search counts its matches up to this many and then says "more than": an exact count
# of a frequent word would read every match in the workspace on each refresh.
SEARCH_COUNT_LIMIT = 1000
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
            f"{SEARCH_VECTOR_SQL} @@ websearch_to_tsquery('russian'::regconfig, %s)",
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
    awaiting = awaiting_answer_q()
    if filters.get("needs_response"):
        q &= awaiting
    if filters.get("sla") == "overdue":
        q &= awaiting & Q(sla_deadline_at__lt=now)
    elif filters.get("sla") == "at_risk":
        q &= awaiting & Q(sla_deadline_at__gte=now, sla_deadline_at__lt=now + SLA_AT_RISK)
    if filters.get("q"):
        q &= _search_condition(filters["q"])
    return q


def _sort(filters: Mapping[str, Any]) -> tuple[str, bool]:
    return INBOX_SORTS.get(filters.get("sort") or "newest", INBOX_SORTS["newest"])


def _order(field: str, descending: bool) -> list[Any]:
    if descending:
        return [F(field).desc(), F("id").desc()]
    return [F(field).asc(nulls_last=True), F("id").asc()]


def inbox_interactions(
    workspace: Workspace, filters: Mapping[str, Any], *, user: User, now: datetime
) -> QuerySet[Interaction]:
    """The workspace's interactions matching the filters, sorted."""
    field, descending = _sort(filters)
    return (
        Interaction.objects.for_workspace(workspace)
        .filter(inbox_filter_q(filters, user=user, now=now))
        .order_by(*_order(field, descending))
    )


# The columns a list row needs: not the analysis, draft or card data of a page of items.
ROW_FIELDS = (
    "id", "workspace_id", "marketplace", "channel", "external_id", "customer_name", "rating",
    "text", "pros", "status", "priority", "needs_response", "sla_deadline_at",
    "first_response_at", "last_message_at", "unread_count", "updated_at", "is_answered",
    "product__name", "product__external_id", "assignee__full_name", "assignee__email",
)  # fmt: skip
ROW_SNIPPET_CHARS = 140
ROW_PRODUCT_CHARS = 40


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class InboxRow:
    """What one list row shows, computed once in Python; the template only prints it."""

    pk: str  # text: the template prints it without number formatting
    url: str
    marketplace: str
    marketplace_label: str
    channel_label: str
    stars: str
    stars_label: str
    unread_count: str  # "" when everything is read
    sla_badge: str  # "", "overdue", "risk" or "sla"
    sla_text: str
    name: str
    select_label: str
    product_name: str
    snippet: str
    status_label: str
    answered_label: str  # "" until the seller's answer is on the marketplace
    urgent_label: str
    assignee_name: str
    last_message_iso: str
    last_message_label: str  # "dd.mm HH:MM" in the workspace's time zone


def _labels(choices: Sequence[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


_URL_PK_PLACEHOLDER = 987654321987


def inbox_rows(
    interactions: Sequence[Interaction], *, now: datetime, link_query: str
) -> list[InboxRow]:
    """The rows of a list page (`inbox_page(...).rows`), ready to print; each links to its
    conversation with the list's filters (`link_query`, "" or "?...")."""
    marketplaces = _labels(Marketplace.choices)
    channels = _labels(Channel.choices)
    statuses = _labels(Interaction.Status.choices)
    urgent = _labels([c for c in Priority.choices if c[0] in (Priority.URGENT, Priority.HIGH)])
    overdue, buyer, answered = _("Overdue"), _("Buyer"), _("Answered")
    # one URL resolution for the page, not one per row
    url_pattern = reverse("inbox:interaction-detail", args=[_URL_PK_PLACEHOLDER])
    rows = []
    for row in interactions:
        sla_badge = sla_text = ""
        deadline = row.sla_deadline_at
        if (
            deadline is not None
            and row.needs_response
            and row.first_response_at is None
            and row.status != Interaction.Status.CLOSED
        ):
            if deadline < now:
                sla_badge, sla_text = "overdue", overdue
            elif deadline < now + SLA_AT_RISK:
                sla_badge = "risk"
                sla_text = _("%(left)s left") % {"left": timeuntil(deadline, now)}
            else:
                sla_badge, sla_text = "sla", timeuntil(deadline, now)
        last = timezone.localtime(row.last_message_at) if row.last_message_at else None
        rows.append(
            InboxRow(
                pk=str(row.pk),
                url=url_pattern.replace(str(_URL_PK_PLACEHOLDER), str(row.pk)) + link_query,
                marketplace=row.marketplace,
                marketplace_label=marketplaces.get(row.marketplace, row.marketplace),
                channel_label=channels.get(row.channel, row.channel),
                stars="★" * (row.rating or 0),
                stars_label=_("Rating %(n)s of 5") % {"n": row.rating} if row.rating else "",
                unread_count=str(row.unread_count) if row.unread_count else "",
                sla_badge=sla_badge,
                sla_text=sla_text,
                name=row.customer_name or buyer,
                select_label=_("Select item from %(name)s")
                % {"name": row.customer_name or row.external_id},
                product_name=_shorten(row.product.name, ROW_PRODUCT_CHARS) if row.product else "",
                snippet=_shorten(row.text or row.pros, ROW_SNIPPET_CHARS),
                status_label=statuses.get(row.status, row.status),
                answered_label=answered if row.is_answered else "",
                urgent_label=urgent.get(row.priority, ""),
                assignee_name=row.assignee.get_full_name() if row.assignee else "",
                last_message_iso=last.isoformat() if last else "",
                last_message_label=last.strftime("%d.%m %H:%M") if last else "",
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[Interaction]
    next_cursor: str
    fingerprint: str
    total: int
    total_is_lower_bound: bool = False  # a text search with more than `total` matches


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
) -> tuple[str, int, bool]:
    """(fingerprint, total, whether the total stopped at `SEARCH_COUNT_LIMIT`) in one query."""
    matching = Interaction.objects.for_workspace(workspace).filter(
        inbox_filter_q(filters, user=user, now=now)
    )
    if not filters.get("q"):
        stats = matching.aggregate(n=Count("*"), latest=Max("updated_at"))
        latest = stats["latest"].timestamp() if stats["latest"] else 0
        return f"{stats['n']}-{latest:.6f}", stats["n"], False
    # A text search: the first matches in list order, which is what the list can show.
    in_order = inbox_interactions(workspace, filters, user=user, now=now)
    seen = list(in_order.values_list("id", "updated_at")[: SEARCH_COUNT_LIMIT + 1])
    digest = hashlib.blake2b(
        ";".join(f"{pk}@{changed.timestamp():.6f}" for pk, changed in seen).encode(),
        digest_size=12,
    ).hexdigest()
    total = min(len(seen), SEARCH_COUNT_LIMIT)
    return f"{total}-{digest}", total, len(seen) > SEARCH_COUNT_LIMIT


def inbox_fingerprint(
    workspace: Workspace, filters: Mapping[str, Any], *, user: User, now: datetime
) -> str:
    """A cheap token that changes when anything matching the filters changes: the count and
    newest `updated_at` over the filter; for a text search, the first matches in list order."""
    return _fingerprint_and_total(workspace, filters, user=user, now=now)[0]


def inbox_page(
    workspace: Workspace,
    filters: Mapping[str, Any],
    *,
    user: User,
    now: datetime,
    cursor: str = "",
    limit: int = INBOX_PAGE_SIZE,
    with_total: bool = True,
) -> InboxPage:
    """One page of the inbox by keyset (no OFFSET), plus the total and fingerprint of the
    whole filter (unless `with_total` is false: more rows of a list already shown)."""
    field, descending = _sort(filters)
    qs = (
        inbox_interactions(workspace, filters, user=user, now=now)
        .select_related("product", "assignee")
        .only(*ROW_FIELDS)
    )
    condition = _cursor_condition(cursor, field, descending) if cursor else None
    if condition is not None:
        qs = qs.filter(condition)
    rows = list(qs[: limit + 1])
    next_cursor = _encode_cursor(rows[limit - 1], field) if len(rows) > limit else ""
    fingerprint, total, more = (
        _fingerprint_and_total(workspace, filters, user=user, now=now)
        if with_total
        else ("", 0, False)
    )
    return InboxPage(
        rows=rows[:limit],
        next_cursor=next_cursor,
        fingerprint=fingerprint,
        total=total,
        total_is_lower_bound=more,
    )


def saved_view_counts(
    workspace: Workspace,
    filters_by_view: Mapping[int, Mapping[str, Any]],
    *,
    user: User,
    now: datetime,
) -> dict[int, int]:
    """How many interactions each saved view matches right now: one query for all views
    without a text search, one capped count (at most `SEARCH_COUNT_LIMIT + 1`) per view with one."""
    interactions = Interaction.objects.for_workspace(workspace)
    plain = {pk: filters for pk, filters in filters_by_view.items() if not filters.get("q")}
    counts: dict[int, int] = {}
    if plain:
        totals = interactions.aggregate(
            **{
                f"view_{view_id}": Count("id", filter=inbox_filter_q(filters, user=user, now=now))
                for view_id, filters in plain.items()
            }
        )
        counts = {view_id: totals[f"view_{view_id}"] for view_id in plain}
    for view_id, filters in filters_by_view.items():
        if view_id not in plain:
            matching = interactions.filter(inbox_filter_q(filters, user=user, now=now))
            counts[view_id] = matching[: SEARCH_COUNT_LIMIT + 1].count()
    return counts


def visible_saved_views(workspace: Workspace, *, user: User) -> list[SavedView]:
    """The member's own views and the team's shared ones, by name (the workspace's views are
    cached)."""
    every = _cached(
        f"saved-views:{workspace.pk}",
        lambda: list(SavedView.objects.for_workspace(workspace).order_by("name", "id")),
    )
    return [view for view in every if view.owner_id == user.pk or view.is_shared]


def forget_saved_views(workspace_id: int) -> None:
    """A view was saved or deleted."""
    _forget(f"saved-views:{workspace_id}")


@dataclass(frozen=True, slots=True)
class InboxChoices:
    accounts: list[MarketplaceAccount]
    products: list[tuple[int, str]]  # (id, label)
    members: list[tuple[int, str]]  # (user id, name): `member_choices`


# The product filter lists at most this many products (most recently updated first).
PRODUCT_CHOICES_LIMIT = 300
# New accounts, products and members appear in the filter controls within this time.
CHOICES_CACHE_SECONDS = 30


def workspace_members(workspace: Workspace) -> list[Membership]:
    return list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def _cached(key: str, load: Callable[[], _T]) -> _T:
    """`load()`, kept for `CHOICES_CACHE_SECONDS`; the services that change it `_forget` it."""
    value: _T | None = cache.get(key)
    if value is None:
        value = load()
        cache.set(key, value, CHOICES_CACHE_SECONDS)
    return value


def _forget(key: str) -> None:
    """After the transaction that made the change, so a reader cannot re-cache the old value."""
    transaction.on_commit(lambda: cache.delete(key))


def member_choices(workspace: Workspace) -> list[tuple[int, str]]:
    """(user id, name) of the workspace's members by name, for the assignee pickers (cached)."""
    return _cached(
        f"member-choices:{workspace.pk}",
        lambda: [(m.user_id, m.user.get_full_name()) for m in workspace_members(workspace)],
    )


def forget_member_choices(workspace_id: int) -> None:
    """A member joined or left."""
    _forget(f"member-choices:{workspace_id}")


def inbox_choices(workspace: Workspace, *, product_id: int | None = None) -> InboxChoices:
    """What the filter controls offer: accounts, the most recently updated products and the
    members, cached for `CHOICES_CACHE_SECONDS` (three queries on a miss); a chosen product
    that is not among those offered is added."""
    key = f"inbox-choices:{workspace.pk}"
    choices: InboxChoices | None = cache.get(key)
    if choices is None:
        choices = InboxChoices(
            accounts=list(
                MarketplaceAccount.objects.for_workspace(workspace)
                .only("id", "name", "marketplace")  # not the credentials
                .order_by("name", "id")
            ),
            products=_product_choices(
                Product.objects.for_workspace(workspace).order_by("-updated_at", "id")[
                    :PRODUCT_CHOICES_LIMIT
                ]
            ),
            members=member_choices(workspace),
        )
        cache.set(key, choices, CHOICES_CACHE_SECONDS)
    return replace(choices, products=_with_chosen(workspace, choices.products, product_id))


def _with_chosen(
    workspace: Workspace, products: list[tuple[int, str]], chosen: int | None
) -> list[tuple[int, str]]:
    """`products`, plus the chosen one when it is not among them."""
    if chosen is None or any(pk == chosen for pk, _label in products):
        return products
    return products + _product_choices(Product.objects.for_workspace(workspace).filter(pk=chosen))


PRODUCT_SEARCH_LIMIT = 50


def product_search(
    workspace: Workspace, query: str, *, chosen: int | None = None
) -> list[tuple[int, str]]:
    """Products whose name, brand, article or marketplace id contains `query`, by name
    (at most `PRODUCT_SEARCH_LIMIT`; the chosen one is kept): the product filter can reach any
    product of the shop."""
    query = query.strip()
    products = Product.objects.for_workspace(workspace)
    if query:
        products = products.filter(
            Q(name__icontains=query)
            | Q(brand__icontains=query)
            | Q(article__icontains=query)
            | Q(external_id__icontains=query)
        )
    found = _product_choices(products.order_by("name", "id")[:PRODUCT_SEARCH_LIMIT])
    return _with_chosen(workspace, found, chosen)


def _product_choices(products: QuerySet[Product]) -> list[tuple[int, str]]:
    return [
        (pk, (name or external_id)[:80])
        for pk, name, external_id in products.values_list("id", "name", "external_id")
    ]


@dataclass(frozen=True, slots=True)
class JourneyStep:
    interaction: Interaction
    strength: str
    strength_label: str
    reason: str


JOURNEY_FIELDS = ("id", "workspace_id", "channel", "occurred_at", "text")


def customer_journey(interaction: Interaction) -> list[JourneyStep]:
    """Interactions linked to this one (both directions), strongest and newest first."""
    links = (
        InteractionLink.objects.for_workspace(interaction.workspace_id)
        .filter(Q(source=interaction) | Q(target=interaction))
        .select_related("source", "target")
        .only(  # what a journey step shows, not the analysis and drafts of both ends
            "strength",
            "reason",
            "source_id",
            "target_id",
            *(f"{end}__{field}" for end in ("source", "target") for field in JOURNEY_FIELDS),
        )
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
    """One interaction with what the conversation pane shows beside its messages: its account
    (without the credentials: decrypting them is not free) and product."""
    interaction = get_object_or_404(
        Interaction.objects.for_workspace(workspace)
        .select_related("account", "product")
        .defer("account__credentials"),
        pk=pk,
    )
    interaction.workspace = workspace
    return interaction


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
    """The templates for `channel` (and for every channel) by name (cached)."""
    every = _cached(
        f"reply-templates:{workspace.pk}",
        lambda: list(ReplyTemplate.objects.for_workspace(workspace).order_by("name")),
    )
    return [template for template in every if template.channel in ("", channel)]


def forget_reply_templates(workspace_id: int) -> None:
    """A template was added, changed or deleted."""
    _forget(f"reply-templates:{workspace_id}")


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
