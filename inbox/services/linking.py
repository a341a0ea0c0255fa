"""Customer journeys: link a customer's review, question and chat to each other.

Strength, strongest wins for a pair:
- certain: the same order id;
- strong: the same customer (marketplace buyer id);
- weak: the same customer name and the same product within 3 days, across channels (a review
  and a question or chat; two reviews of one product are two buyers). A weak link is a hint for
  the agent only: customers are never merged on it, and two different known buyer ids are
  never weakly linked.

A constant number of queries per call, whatever the number of interactions (the ingest calls
it per page), on PostgreSQL and SQLite alike.
Each new interaction is linked to at most `LINKS_PER_KIND` others per kind (newest first), so a
buyer with hundreds of orders does not produce a quadratic number of rows.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from inbox.models import Channel, Interaction, InteractionLink
from inbox.services.rows import in_chunks, insert_rows, matching, update_rows

WEAK_LINK_DAYS = 3
LINKS_PER_KIND = 20
# First names repeat a lot on a popular product: a weak link joins different channels only
# (a buyer's review and their question or chat), and only a few per item.
WEAK_LINKS_PER_ITEM = 3

# Strongest first: a pair keeps the reason of the lowest rank.
_RANKS: dict[str, tuple[int, str]] = {
    InteractionLink.Strength.CERTAIN.value: (1, "order"),
    InteractionLink.Strength.STRONG.value: (2, "customer"),
    InteractionLink.Strength.WEAK.value: (3, "name_product"),
}
_BY_RANK = {rank: (strength, reason) for strength, (rank, reason) in _RANKS.items()}


class JourneyRow(NamedTuple):
    """What linking needs to know of an interaction."""

    id: int
    channel: str
    order_id: str
    customer_id: int | None
    customer_name: str
    product_id: int | None
    occurred_at: datetime


_ROW_FIELDS = JourneyRow._fields


def link_journeys(workspace_id: int, new: Sequence[JourneyRow], *, now: datetime) -> int:
    """Create (or strengthen) links from these new interactions to others of their journey.

    Returns the number of links created or strengthened. Runs in the caller's transaction,
    with a constant number of queries (one candidate query per kind, the existing links, one
    INSERT, one UPDATE). Pairs are stored once, as (smaller id, larger id).
    """
    if not new:
        return 0
    best: dict[tuple[int, int], int] = {}

    def offer(a: int, others: Iterable[int], rank: int) -> None:
        for b in others:
            pair = (a, b) if a < b else (b, a)
            if rank < best.get(pair, 4):
                best[pair] = rank

    # Indexes: ix_ws_order (workspace, order_id), ix_customer_occurred (customer, occurred_at),
    # ix_product_channel_name (product, channel, customer name, occurred_at).
    by_order = _newest(
        Interaction.objects.filter(workspace_id=workspace_id).exclude(order_id=""),
        "order_id",
        {row.order_id for row in new if row.order_id},
    )
    by_customer = _newest(
        Interaction.objects.all(),
        "customer_id",
        {row.customer_id for row in new if row.customer_id is not None},
    )
    for row in new:
        if row.order_id:
            others = [pk for pk in by_order.get(row.order_id, ()) if pk != row.id]
            offer(row.id, others[:LINKS_PER_KIND], 1)
        if row.customer_id is not None:
            others = [pk for pk in by_customer.get(row.customer_id, ()) if pk != row.id]
            offer(row.id, others[:LINKS_PER_KIND], 2)
    for row, others in _weak_candidates(new):
        offer(row.id, others, 3)
    if not best:
        return 0
    return _store_links(workspace_id, best, [row.id for row in new], now=now)


def _newest(queryset: QuerySet[Interaction], column: str, keys: set[Any]) -> dict[Any, list[int]]:
    """key → ids of the newest interactions with that `column` value (newest first).

    One more than `LINKS_PER_KIND` per key: the interaction itself may be among them.
    """
    found: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    for lookup in matching(column, sorted(keys)):
        rows = (
            queryset.filter(**lookup)
            .annotate(
                newest=Window(RowNumber(), partition_by=F(column), order_by=F("occurred_at").desc())
            )
            .filter(newest__lte=LINKS_PER_KIND + 1)
            .values_list(column, "newest", "id")
        )
        for key, rank, pk in rows:
            found[key].append((rank, pk))
    return {key: [pk for _rank, pk in sorted(ranked)] for key, ranked in found.items()}


def _weak_candidates(new: Sequence[JourneyRow]) -> Iterable[tuple[JourneyRow, list[int]]]:
    """(interaction, others): up to `WEAK_LINKS_PER_ITEM` interactions of another channel with
    the same customer name and product within the window (oldest first), never of another
    known buyer."""
    rows = [row for row in new if row.customer_name and row.product_id is not None]
    if not rows:
        return []
    window = timedelta(days=WEAK_LINK_DAYS)
    if connection.vendor == "postgresql":
        return _weak_candidates_by_row(rows, window)
    return _weak_candidates_by_page(rows, window)


def _weak_candidates_by_row(
    rows: Sequence[JourneyRow], window: timedelta
) -> list[tuple[JourneyRow, list[int]]]:
    """PostgreSQL: one query over the rows, which are stored already (their ids are the only
    parameter); each probes ix_product_channel_name per other channel within its own window
    and stops at the first `WEAK_LINKS_PER_ITEM` matches (a popular product has hundreds of
    buyers with the same first name within a few days)."""
    table = Interaction._meta.db_table
    others: dict[int, list[int]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.id, near.id "  # noqa: S608 - the table name comes from the model
            f"FROM {table} AS w CROSS JOIN unnest(%s::varchar[]) AS c(channel) "
            # One probe per other channel: all its conditions are index conditions, even
            # before the planner has statistics of a table that a first sync fills.
            "CROSS JOIN LATERAL (SELECT i.id, i.occurred_at "
            f"FROM {table} AS i "
            "WHERE i.product_id = w.product_id AND i.customer_name = w.customer_name "
            "AND i.channel = c.channel "
            "AND i.occurred_at BETWEEN w.occurred_at - make_interval(secs => %s) "
            "AND w.occurred_at + make_interval(secs => %s) "
            "AND (i.customer_id IS NULL OR w.customer_id IS NULL "
            "OR i.customer_id = w.customer_id) "
            "ORDER BY i.occurred_at, i.id LIMIT %s) AS near "
            "WHERE w.id = ANY(%s::bigint[]) AND c.channel <> w.channel "
            "ORDER BY w.id, near.occurred_at, near.id",
            [
                Channel.values,
                window.total_seconds(),
                window.total_seconds(),
                WEAK_LINKS_PER_ITEM,
                [row.id for row in rows],
            ],
        )
        for pk, other in cursor.fetchall():
            if len(others[pk]) < WEAK_LINKS_PER_ITEM:
                others[pk].append(other)
    return [(row, others[row.id]) for row in rows]


def _weak_candidates_by_page(
    rows: Sequence[JourneyRow], window: timedelta
) -> Iterable[tuple[JourneyRow, list[int]]]:
    """Elsewhere (SQLite): the page's (product, name) pairs over its whole time span, in
    chunks, then each row's window in Python."""
    start = min(row.occurred_at for row in rows) - window
    end = max(row.occurred_at for row in rows) + window
    groups: dict[tuple[int | None, str], list[JourneyRow]] = defaultdict(list)
    pairs = sorted({(row.product_id, row.customer_name) for row in rows})
    # A page holds one channel: its own channel is never a candidate (most rows of a
    # product are reviews of other buyers with the same first name).
    channels = {row.channel for row in rows}
    candidates = Interaction.objects.filter(occurred_at__range=(start, end))
    if len(channels) == 1:
        candidates = candidates.exclude(channel=next(iter(channels)))
    for chunk in in_chunks(pairs, lookups=2):
        wanted = set(chunk)
        for other in (
            candidates.filter(
                product_id__in={product for product, _name in chunk},
                customer_name__in={name for _product, name in chunk},
            )
            .order_by("occurred_at", "id")
            .values_list(*_ROW_FIELDS)
        ):
            candidate = JourneyRow(*other)
            key = (candidate.product_id, candidate.customer_name)
            if key in wanted:
                groups[key].append(candidate)
    for row in rows:
        others = []
        for other in groups.get((row.product_id, row.customer_name), ()):
            if (
                other.channel != row.channel
                and abs(other.occurred_at - row.occurred_at) <= window
                and not (
                    other.customer_id is not None
                    and row.customer_id is not None
                    and other.customer_id != row.customer_id
                )
            ):
                others.append(other.id)
                if len(others) == WEAK_LINKS_PER_ITEM:
                    break
        yield row, others


def _store_links(
    workspace_id: int, best: dict[tuple[int, int], int], ids: list[int], *, now: datetime
) -> int:
    """Insert new pairs and strengthen weaker stored ones; the number of rows written."""
    stored: dict[tuple[int, int], tuple[int, str]] = {}
    for chunk in in_chunks(ids, lookups=2):
        for pk, source, target, strength in InteractionLink.objects.filter(
            Q(source_id__in=chunk) | Q(target_id__in=chunk)
        ).values_list("id", "source_id", "target_id", "strength"):
            stored[(source, target)] = (pk, strength)
    created: list[dict[str, Any]] = []
    strengthened: list[dict[str, Any]] = []
    for (source, target), rank in best.items():
        strength, reason = _BY_RANK[rank]
        known = stored.get((source, target))
        if known is None:
            created.append(
                {"source_id": source, "target_id": target, "strength": strength, "reason": reason}
            )
        elif rank < _RANKS[known[1]][0]:
            strengthened.append(
                {"id": known[0], "strength": strength, "reason": reason, "updated_at": now}
            )
    insert_rows(InteractionLink, created, now=now, constants={"workspace_id": workspace_id})
    update_rows(InteractionLink, strengthened, ["strength", "reason", "updated_at"])
    return len(created) + len(strengthened)
