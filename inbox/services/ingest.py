"""Ingest one page of a marketplace channel: idempotent bulk upserts, events and the cursor.

Throughput matters (a first sync brings 100k+ items), so each table is written with ONE
`INSERT … SELECT FROM unnest(arrays) … ON CONFLICT` statement per page, through a psycopg
cursor with server-side binding (arrays travel as binary parameters, not as quoted SQL).
The number of queries per page is constant; per-item Python work is building tuples.

Idempotency: every row has a natural key (product/customer/interaction external ids,
message `(interaction, external_id)`), so re-ingesting a page changes nothing, and an
interaction row is rewritten only when something the marketplace shows has changed
(`WHERE … IS DISTINCT FROM`). `xmax = 0` in RETURNING tells new rows from updated ones, so
customer aggregates and `received` events count only newly created interactions.
"""

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import sentry_sdk
from django.db import connection, models, transaction

from connectors.types import ItemData, MalformedItem, Page
from inbox.models import (
    Channel,
    Customer,
    Interaction,
    InteractionEvent,
    MarketplaceAccount,
    Message,
    Priority,
    Product,
    SyncCursor,
)
from inbox.services import pipeline_hooks
from inbox.services.linking import link_journeys
from inbox.services.sla import refresh_sla_deadlines, sla_deadline, sla_minutes

logger = logging.getLogger(__name__)

# The external id of the one published answer of a review or question (a review has one
# answer; an edit replaces its text). Our own outbox message takes this id once sent, so a
# later sync finds it instead of adding a copy.
ANSWER_EXTERNAL_ID = "answer"

_EMPTY_JSON_LIST = "[]"
_EMPTY_JSON_OBJECT = "{}"

# Ids of all keys of a page: the upserted rows (`up`) plus the ones that were already there
# (the outer SELECT sees the table as it was before the statement).
_PRODUCT_IDS_SQL = f"""
    SELECT id, external_id FROM up UNION ALL
    SELECT id, external_id FROM {Product._meta.db_table}
    WHERE account_id = %(account)s AND external_id = ANY(%(externals)s)
"""  # noqa: S608 - table name from model metadata
_CUSTOMER_IDS_SQL = f"""
    SELECT id, external_id FROM up UNION ALL
    SELECT id, external_id FROM {Customer._meta.db_table}
    WHERE workspace_id = %(ws)s AND marketplace = %(mp)s AND external_id = ANY(%(externals)s)
"""  # noqa: S608 - table name from model metadata


@dataclass(frozen=True, slots=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    malformed: int
    messages: int
    created_ids: tuple[int, ...]


# --- bulk upsert plumbing ---------------------------------------------------------------------


def _array_type(model: type[models.Model], column: str) -> tuple[str, str]:
    """(array element type for the parameter, cast applied in the SELECT) of a column."""
    db_type = model._meta.get_field(column).db_type(connection) or "text"
    if db_type.startswith("varchar") or db_type == "text":
        return "text", ""
    if db_type == "jsonb":
        return "text", "::jsonb"
    return db_type, ""


def _upsert(
    cursor: psycopg.Cursor,
    model: type[models.Model],
    *,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any],
    conflict: str = "",
    set_sql: str = "",
    where_sql: str = "",
    returning: str = "",
    tail_sql: str = "",
    tail_params: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """INSERT rows given column-wise (plus per-page constants) in one statement.

    `conflict` is the ON CONFLICT target; with `set_sql` the conflicting row is updated (only
    `where_sql` true), without it the row is left alone. `tail_sql` may wrap the statement:
    it is appended after `returning` as `WITH up AS (…) <tail_sql>`.
    """
    table = model._meta.db_table
    names = list(columns)
    params: dict[str, Any] = {}
    unnest_args = []
    select_exprs = []
    for index, name in enumerate(names):
        element, cast = _array_type(model, name)
        params[f"a{index}"] = list(columns[name])
        unnest_args.append(f"%(a{index})b::{element}[]")
        select_exprs.append(f"u.c{index}{cast}")
    for index, (name, value) in enumerate(constants.items()):
        params[f"k{index}"] = value
        element, cast = _array_type(model, name)
        select_exprs.append(f"%(k{index})s::{element}{cast}")
    all_names = names + list(constants)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    # Identifiers come from model metadata and code, values are always parameters.
    sql = f"INSERT INTO {table} AS t ({', '.join(all_names)}) SELECT {', '.join(select_exprs)} "
    sql += f"FROM unnest({', '.join(unnest_args)}) AS u({aliases})"
    if conflict:
        sql += f" ON CONFLICT {conflict} "
        sql += f"DO UPDATE SET {set_sql}" if set_sql else "DO NOTHING"
        if set_sql and where_sql:
            sql += f" WHERE {where_sql}"
    if returning:
        sql += f" RETURNING {returning}"
    if tail_sql:
        sql = f"WITH up AS ({sql}) {tail_sql}"
        params.update(tail_params or {})
    cursor.execute(sql, params)
    return cursor.fetchall() if (returning or tail_sql) else []


def _raw_cursor() -> psycopg.Cursor:
    """A server-side-binding cursor on Django's connection (same transaction)."""
    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _json(value: Any, empty: str) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) if value else empty


# --- the service --------------------------------------------------------------------------------


def ingest_page(
    account: MarketplaceAccount, channel: str, page: Page, *, now: datetime
) -> IngestResult:
    """Store one fetched page and move the channel's cursor to `page.next_state`, atomically.

    Side effects (all in one transaction): products, customers (+ aggregates for new
    interactions), interactions, messages, `received` / `updated` / `sync_error` events,
    journey links, SLA deadlines, the `SyncCursor`; on commit, the AI analysis of the new
    interactions is enqueued. Safe to repeat: a page ingested twice changes nothing.
    """
    items = list(
        {item.external_id: item for item in page.items if item.channel == channel}.values()
    )
    with transaction.atomic():
        cursor = _raw_cursor()
        product_ids = _upsert_products(cursor, account, items, now=now)
        customer_ids = _upsert_customers(cursor, account, items, now=now)
        rows = _upsert_interactions(
            cursor, account, channel, items, product_ids, customer_ids, now=now
        )
        by_external = {item.external_id: item for item in items}
        created = [(pk, by_external[ext]) for pk, ext, inserted in rows if inserted]
        updated_ids = [pk for pk, _ext, inserted in rows if not inserted]
        messages = _insert_messages(cursor, account, channel, rows, by_external, now=now)
        _update_customer_aggregates(cursor, created, customer_ids)
        _insert_events(cursor, account, created, updated_ids, now=now)
        if updated_ids:
            refresh_sla_deadlines(updated_ids)
        created_ids = [pk for pk, _item in created]
        link_journeys(account.workspace_id, created_ids, now=now)
        _record_malformed(account, page.malformed, now=now)
        _save_cursor(account, channel, page, seen=len(items), now=now)
        if created_ids:
            transaction.on_commit(lambda: pipeline_hooks.enqueue_interaction_analysis(created_ids))
    return IngestResult(
        created=len(created_ids),
        updated=len(updated_ids),
        unchanged=len(items) - len(rows),
        malformed=len(page.malformed),
        messages=messages,
        created_ids=tuple(created_ids),
    )


def _upsert_products(
    cursor: psycopg.Cursor, account: MarketplaceAccount, items: list[ItemData], *, now: datetime
) -> dict[str, int]:
    products: dict[str, ItemData] = {}
    for item in items:
        if item.product_external_id:
            products[item.product_external_id] = item
    if not products:
        return {}
    firsts = list(products.values())
    # A card refreshed from the content API (cached_at set) is richer than the item's fields:
    # only never-refreshed products take names from items.
    rows = _upsert(
        cursor,
        Product,
        columns={
            "external_id": list(products),
            "name": [i.product_name[:500] for i in firsts],
            "brand": [i.product_brand[:200] for i in firsts],
            "article": [i.product_article[:200] for i in firsts],
        },
        constants={
            "workspace_id": account.workspace_id,
            "account_id": account.pk,
            "image_url": "",
            "card_data": _EMPTY_JSON_OBJECT,
            "created_at": now,
            "updated_at": now,
        },
        conflict="(account_id, external_id)",
        set_sql=(
            "name = EXCLUDED.name, brand = EXCLUDED.brand, article = EXCLUDED.article, "
            "updated_at = EXCLUDED.updated_at"
        ),
        where_sql=(
            "t.cached_at IS NULL AND EXCLUDED.name <> '' AND "
            "(t.name, t.brand, t.article) IS DISTINCT FROM "
            "(EXCLUDED.name, EXCLUDED.brand, EXCLUDED.article)"
        ),
        returning="id, external_id",
        tail_sql=_PRODUCT_IDS_SQL,
        tail_params={"account": account.pk, "externals": list(products)},
    )
    return {external: pk for pk, external in rows}


def _upsert_customers(
    cursor: psycopg.Cursor, account: MarketplaceAccount, items: list[ItemData], *, now: datetime
) -> dict[str, int]:
    names: dict[str, str] = {}
    for item in items:
        if item.customer_external_id:
            names[item.customer_external_id] = item.customer_name[:200]
    if not names:
        return {}
    rows = _upsert(
        cursor,
        Customer,
        columns={"external_id": list(names), "display_name": list(names.values())},
        constants={
            "workspace_id": account.workspace_id,
            "marketplace": account.marketplace,
            "interactions_count": 0,
            "reviews_count": 0,
            "rating_sum": 0,
            "created_at": now,
            "updated_at": now,
        },
        conflict="(workspace_id, marketplace, external_id)",
        set_sql="display_name = EXCLUDED.display_name, updated_at = EXCLUDED.updated_at",
        where_sql="EXCLUDED.display_name <> '' AND t.display_name <> EXCLUDED.display_name",
        returning="id, external_id",
        tail_sql=_CUSTOMER_IDS_SQL,
        tail_params={
            "ws": account.workspace_id,
            "mp": account.marketplace,
            "externals": list(names),
        },
    )
    return {external: pk for pk, external in rows}


def _chat_state(item: ItemData) -> tuple[datetime, datetime, datetime | None, bool]:
    """(last_message_at, SLA start, first response, is answered) of a chat from its messages."""
    last_in = None
    first_out = None
    last_direction = ""
    for message in item.messages:
        if message.direction == Message.Direction.INBOUND:
            last_in = message.occurred_at
        elif first_out is None:
            first_out = message.occurred_at
        last_direction = message.direction
    last = item.last_message_at or (
        item.messages[-1].occurred_at if item.messages else item.occurred_at
    )
    answered = last_direction == Message.Direction.OUTBOUND
    return last, last_in or last, first_out, answered


def _upsert_interactions(
    cursor: psycopg.Cursor,
    account: MarketplaceAccount,
    channel: str,
    items: list[ItemData],
    product_ids: dict[str, int],
    customer_ids: dict[str, int],
    *,
    now: datetime,
) -> list[tuple[int, str, bool]]:
    if not items:
        return []
    minutes = _normal_minutes(account, channel)
    is_chat = channel == Channel.CHAT
    edits_left = 1 if account.marketplace == "wb" else 0
    cols: dict[str, list[Any]] = {
        name: []
        for name in (
            "external_id",
            "product_id",
            "customer_id",
            "customer_name",
            "order_id",
            "rating",
            "text",
            "pros",
            "cons",
            "attachments",
            "needs_response",
            "sla_deadline_at",
            "reply_window_ends_at",
            "first_response_at",
            "occurred_at",
            "last_message_at",
            "is_answered",
            "answer_edits_left",
            "extra",
        )
    }
    c_ext, c_prod, c_cust, c_name, c_order, c_rating, c_text, c_pros, c_cons = (
        cols["external_id"].append,
        cols["product_id"].append,
        cols["customer_id"].append,
        cols["customer_name"].append,
        cols["order_id"].append,
        cols["rating"].append,
        cols["text"].append,
        cols["pros"].append,
        cols["cons"].append,
    )
    for item in items:
        c_ext(item.external_id)
        c_prod(product_ids.get(item.product_external_id))
        c_cust(customer_ids.get(item.customer_external_id))
        c_name(item.customer_name[:200])
        c_order(item.order_id[:128])
        c_rating(item.rating if item.rating and 1 <= item.rating <= 5 else None)
        c_text(item.text)
        c_pros(item.pros)
        c_cons(item.cons)
        cols["attachments"].append(_json(list(item.attachments), _EMPTY_JSON_LIST))
        cols["extra"].append(_json(dict(item.extra), _EMPTY_JSON_OBJECT))
        if is_chat:
            last, sla_start, first_out, answered = _chat_state(item)
            needs = not answered
        else:
            last, sla_start = item.last_message_at or item.occurred_at, item.occurred_at
            answered = item.is_answered or bool(item.answer_text)
            first_out = now if answered else None
            needs = not answered
        cols["needs_response"].append(needs)
        cols["sla_deadline_at"].append(
            sla_deadline(
                start_at=sla_start, minutes=minutes, window_ends_at=item.reply_window_ends_at
            )
        )
        cols["reply_window_ends_at"].append(item.reply_window_ends_at)
        cols["first_response_at"].append(first_out)
        cols["occurred_at"].append(item.occurred_at)
        cols["last_message_at"].append(last)
        cols["is_answered"].append(answered)
        cols["answer_edits_left"].append(edits_left if answered and item.answer_editable else 0)

    # Chats: the marketplace's state decides "answered" (who wrote last). Reviews/questions: once
    # answered stays answered (our own answer may still be in moderation when the sync runs).
    answered_sql = "EXCLUDED.is_answered" if is_chat else "t.is_answered OR EXCLUDED.is_answered"
    answered_changed = (
        "t.is_answered IS DISTINCT FROM EXCLUDED.is_answered"
        if is_chat
        else "(EXCLUDED.is_answered AND NOT t.is_answered)"
    )
    set_sql = f"""
        text = EXCLUDED.text, pros = EXCLUDED.pros, cons = EXCLUDED.cons,
        rating = EXCLUDED.rating, attachments = EXCLUDED.attachments, extra = EXCLUDED.extra,
        customer_name = EXCLUDED.customer_name, order_id = EXCLUDED.order_id,
        product_id = COALESCE(EXCLUDED.product_id, t.product_id),
        customer_id = COALESCE(t.customer_id, EXCLUDED.customer_id),
        reply_window_ends_at = EXCLUDED.reply_window_ends_at,
        last_message_at = GREATEST(t.last_message_at, EXCLUDED.last_message_at),
        needs_response = CASE
            WHEN EXCLUDED.last_message_at > t.last_message_at OR ({answered_changed})
            THEN EXCLUDED.needs_response ELSE t.needs_response END,
        first_response_at = COALESCE(t.first_response_at, EXCLUDED.first_response_at),
        answer_edits_left = CASE
            WHEN NOT EXCLUDED.is_answered THEN t.answer_edits_left
            WHEN t.is_answered THEN LEAST(t.answer_edits_left, EXCLUDED.answer_edits_left)
            ELSE EXCLUDED.answer_edits_left END,
        is_answered = {answered_sql},
        updated_at = EXCLUDED.updated_at
    """
    where_sql = f"""
        (t.text, t.pros, t.cons, t.rating, t.order_id, t.customer_name,
         t.reply_window_ends_at, t.attachments)
        IS DISTINCT FROM
        (EXCLUDED.text, EXCLUDED.pros, EXCLUDED.cons, EXCLUDED.rating, EXCLUDED.order_id,
         EXCLUDED.customer_name, EXCLUDED.reply_window_ends_at, EXCLUDED.attachments)
        OR EXCLUDED.last_message_at > t.last_message_at
        OR ({answered_changed})
    """
    return _upsert(
        cursor,
        Interaction,
        columns=cols,
        constants={
            "workspace_id": account.workspace_id,
            "account_id": account.pk,
            "marketplace": account.marketplace,
            "channel": channel,
            "status": Interaction.Status.NEW,
            "priority": Priority.NORMAL,
            "sentiment": "",
            "intent": "",
            "unread_count": 0,
            "ai_analysis": _EMPTY_JSON_OBJECT,
            "draft": "",
            "created_at": now,
            "updated_at": now,
        },
        conflict="(account_id, channel, external_id)",
        set_sql=set_sql,
        where_sql=where_sql,
        returning="id, external_id, (xmax = 0)",
    )


def _normal_minutes(account: MarketplaceAccount, channel: str) -> int | None:
    """New interactions start at normal priority; the AI may re-prioritise them later."""
    return sla_minutes(account.workspace_id).get((channel, Priority.NORMAL))


def _insert_messages(
    cursor: psycopg.Cursor,
    account: MarketplaceAccount,
    channel: str,
    rows: list[tuple[int, str, bool]],
    by_external: dict[str, ItemData],
    *,
    now: datetime,
) -> int:
    """Chat messages (new ones only) and review/question answers (text kept current)."""
    cols: dict[str, list[Any]] = {
        "interaction_id": [],
        "external_id": [],
        "direction": [],
        "author_type": [],
        "text": [],
        "attachments": [],
        "delivery_status": [],
        "occurred_at": [],
    }
    is_chat = channel == Channel.CHAT
    for pk, external, _inserted in rows:
        item = by_external[external]
        if is_chat:
            for message in item.messages:
                inbound = message.direction == Message.Direction.INBOUND
                cols["interaction_id"].append(pk)
                cols["external_id"].append(
                    message.external_id
                    or f"t:{message.occurred_at.isoformat()}:{message.direction}"
                )
                cols["direction"].append(message.direction)
                cols["author_type"].append(message.author_type)
                cols["text"].append(message.text)
                cols["attachments"].append(_json(list(message.attachments), _EMPTY_JSON_LIST))
                cols["delivery_status"].append(
                    Message.DeliveryStatus.RECEIVED if inbound else Message.DeliveryStatus.CONFIRMED
                )
                cols["occurred_at"].append(message.occurred_at)
        elif item.answer_text:
            cols["interaction_id"].append(pk)
            cols["external_id"].append(ANSWER_EXTERNAL_ID)
            cols["direction"].append(Message.Direction.OUTBOUND)
            cols["author_type"].append(Message.AuthorType.SELLER)
            cols["text"].append(item.answer_text)
            cols["attachments"].append(_EMPTY_JSON_LIST)
            cols["delivery_status"].append(Message.DeliveryStatus.CONFIRMED)
            cols["occurred_at"].append(now)
    if not cols["interaction_id"]:
        return 0
    _upsert(
        cursor,
        Message,
        columns=cols,
        constants={
            "workspace_id": account.workspace_id,
            "is_edit": False,
            "attempts": 0,
            "failure_reason": "",
            "idempotency_key": "",
            "created_at": now,
            "updated_at": now,
        },
        conflict="(interaction_id, external_id) WHERE external_id <> ''",
        # A review's answer can be edited on the marketplace: keep its text current.
        set_sql="" if is_chat else "text = EXCLUDED.text, updated_at = EXCLUDED.updated_at",
        where_sql="" if is_chat else "t.text IS DISTINCT FROM EXCLUDED.text",
    )
    return cursor.rowcount


def _update_customer_aggregates(
    cursor: psycopg.Cursor, created: list[tuple[int, ItemData]], customer_ids: dict[str, int]
) -> None:
    """Add the NEW interactions to their customers' counters (re-syncs never double-count)."""
    aggregates: dict[int, list[Any]] = {}
    for _pk, item in created:
        customer = customer_ids.get(item.customer_external_id)
        if customer is None:
            continue
        agg = aggregates.get(customer)
        if agg is None:
            agg = aggregates[customer] = [0, 0, 0, item.occurred_at, item.occurred_at]
        agg[0] += 1
        if item.channel == Channel.REVIEW and item.rating and 1 <= item.rating <= 5:
            agg[1] += 1
            agg[2] += item.rating
        agg[3] = min(agg[3], item.occurred_at)
        agg[4] = max(agg[4], item.occurred_at)
    if not aggregates:
        return
    values = list(aggregates.values())
    cursor.execute(
        f"""
        UPDATE {Customer._meta.db_table} AS c SET
            interactions_count = c.interactions_count + v.n,
            reviews_count = c.reviews_count + v.r,
            rating_sum = c.rating_sum + v.rs,
            first_seen_at = LEAST(c.first_seen_at, v.f),
            last_seen_at = GREATEST(c.last_seen_at, v.l)
        FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[],
                    %s::timestamptz[], %s::timestamptz[]) AS v(id, n, r, rs, f, l)
        WHERE c.id = v.id
        """,  # noqa: S608 - table name from model metadata
        [list(aggregates), *([v[i] for v in values] for i in range(5))],
    )


def _insert_events(
    cursor: psycopg.Cursor,
    account: MarketplaceAccount,
    created: list[tuple[int, ItemData]],
    updated_ids: list[int],
    *,
    now: datetime,
) -> None:
    ids = [pk for pk, _item in created] + updated_ids
    if not ids:
        return
    kinds = [InteractionEvent.Kind.RECEIVED.value] * len(created) + [
        InteractionEvent.Kind.UPDATED.value
    ] * len(updated_ids)
    _upsert(
        cursor,
        InteractionEvent,
        columns={"interaction_id": ids, "kind": kinds},
        constants={
            "workspace_id": account.workspace_id,
            "account_id": account.pk,
            "payload": '{"source": "sync"}',
            "created_at": now,
            "updated_at": now,
        },
    )


def _record_malformed(
    account: MarketplaceAccount, malformed: Iterable[MalformedItem], *, now: datetime
) -> None:
    events = []
    for bad in malformed:
        # Logs and Sentry get the id and the error only, never the customer's text.
        logger.warning(
            "Malformed marketplace item skipped",
            extra={
                "workspace_id": account.workspace_id,
                "account_id": account.pk,
                "channel": bad.channel,
                "external_id": bad.external_id,
                "error": bad.error,
            },
        )
        sentry_sdk.capture_message(
            f"Malformed {bad.channel} item from {account.marketplace}: {bad.error}",
            level="warning",
        )
        events.append(
            InteractionEvent(
                workspace_id=account.workspace_id,
                account=account,
                interaction=None,
                kind=InteractionEvent.Kind.SYNC_ERROR,
                payload={
                    "channel": bad.channel,
                    "external_id": bad.external_id,
                    "error": bad.error,
                    "raw_excerpt": bad.raw_excerpt[:300],
                },
            )
        )
    if events:
        InteractionEvent.objects.bulk_create(events)


def _save_cursor(
    account: MarketplaceAccount, channel: str, page: Page, *, seen: int, now: datetime
) -> None:
    updated = SyncCursor.objects.filter(account=account, channel=channel).update(
        state=dict(page.next_state),
        last_run_at=now,
        items_seen=models.F("items_seen") + seen,
        updated_at=now,
    )
    if not updated:
        SyncCursor.objects.create(
            workspace_id=account.workspace_id,
            account=account,
            channel=channel,
            state=dict(page.next_state),
            last_run_at=now,
            items_seen=seen,
        )
