"""Ingest one page of a marketplace channel: idempotent bulk upserts, events and the cursor.

One implementation for PostgreSQL (production) and SQLite (the local demo). Per page, in one
transaction, the number of queries is constant (per table: one SELECT of the page's existing
rows, one bulk INSERT of the missing ones, one bulk UPDATE of the changed ones — COPY through
a staging table on PostgreSQL, see `inbox.services.rows`); what changed is decided in Python,
by the rules below.

Idempotency: every row has a natural key (product/customer/interaction external ids,
message `(interaction, external_id)`), so re-ingesting a page changes nothing, and an
interaction row is rewritten only when something the marketplace shows has changed. New rows
are told from existing ones by the SELECT before the INSERT (one sync per account runs at a
time, under a Redis lock; the unique constraints stay the safety net), so customer aggregates
and `received` events count only newly created interactions.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sentry_sdk
from django.db import connection, models, transaction

from connectors.registry import answer_edits
from connectors.types import ItemData, MalformedItem, MessageData, Page
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
from inbox.services.interactions import ChatNews, note_buyer_messages
from inbox.services.linking import JourneyRow, link_journeys
from inbox.services.rows import in_chunks, insert_rows, matching, update_rows
from inbox.services.sla import refresh_sla_deadlines, sla_deadline, sla_minutes

logger = logging.getLogger(__name__)

# The external id of the one published answer of a review or question (a review has one
# answer; an edit replaces its text). Our own outbox message takes this id once sent, so a
# later sync finds it instead of adding a copy.
ANSWER_EXTERNAL_ID = "answer"


# Interaction columns an update rewrites (plus `updated_at`), in a stable order.
_INTERACTION_UPDATE_FIELDS = (
    "text",
    "pros",
    "cons",
    "rating",
    "attachments",
    "extra",
    "customer_name",
    "order_id",
    "product_id",
    "customer_id",
    "reply_window_ends_at",
    "last_message_at",
    "needs_response",
    "first_response_at",
    "answer_edits_left",
    "is_answered",
)
# Columns loaded to compare an existing interaction with the page's item (`extra` is not
# compared, only rewritten with a change: it is not loaded).
_INTERACTION_LOAD_FIELDS = (
    "id",
    "external_id",
    *(name for name in _INTERACTION_UPDATE_FIELDS if name != "extra"),
)


@dataclass(frozen=True, slots=True)
class IngestResult:
    created: int
    updated: int
    unchanged: int
    malformed: int
    messages: int
    created_ids: tuple[int, ...]


# --- helpers ------------------------------------------------------------------------------------


def _attachments(values: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Attachments as the JSON column gives them back (the parsers build JSON values only)."""
    return [dict(value) for value in values]


# --- the service --------------------------------------------------------------------------------


def ingest_page(
    account: MarketplaceAccount,
    channel: str,
    page: Page,
    *,
    now: datetime,
    sla: Mapping[tuple[str, str], int] | None = None,
) -> IngestResult:
    """Store one fetched page and move the channel's cursor to `page.next_state`, atomically.
    `sla`: the workspace's SLA minutes (`sla_minutes`) when the caller already has them.

    Side effects (all in one transaction): products, customers (+ aggregates for new
    interactions), interactions, messages, `received` / `updated` / `sync_error` events,
    unread counts and reopening of chats whose buyer wrote again, journey links, SLA
    deadlines, the `SyncCursor`; on commit, the AI analysis of the new interactions and of
    those chats is enqueued. Safe to repeat: a page ingested twice changes nothing.
    Precondition: one ingest per account at a time (the sync's Redis lock).
    """
    items = list(
        {item.external_id: item for item in page.items if item.channel == channel}.values()
    )
    with transaction.atomic():
        product_ids = _upsert_products(account, items, now=now)
        customer_ids = _upsert_customers(account, items, now=now)
        created, updated, journeys = _upsert_interactions(
            account,
            channel,
            items,
            product_ids,
            customer_ids,
            now=now,
            sla=sla if sla is not None else sla_minutes(account.workspace_id),
        )
        updated_ids = [pk for pk, _item in updated]
        messages, chat_news = _insert_messages(account, channel, created, updated, now=now)
        _update_customer_aggregates(created, customer_ids, now=now)
        _insert_events(account, created, updated_ids, now=now)
        note_buyer_messages(account.pk, account.workspace_id, chat_news, now=now)
        if updated_ids:
            refresh_sla_deadlines(updated_ids)
        created_ids = [pk for pk, _item in created]
        link_journeys(account.workspace_id, journeys, now=now)
        _record_malformed(account, page.malformed, now=now)
        _save_cursor(account, channel, page, seen=len(items), now=now)
        # A chat whose buyer wrote again is analysed again: its draft answers the new message.
        to_analyse = [*created_ids, *(pk for pk, news in chat_news.items() if news.buyer_messages)]
        if to_analyse:
            transaction.on_commit(lambda: pipeline_hooks.enqueue_interaction_analysis(to_analyse))
    return IngestResult(
        created=len(created_ids),
        updated=len(updated_ids),
        unchanged=len(items) - len(created_ids) - len(updated_ids),
        malformed=len(page.malformed),
        messages=messages,
        created_ids=tuple(created_ids),
    )


def _upsert_products(
    account: MarketplaceAccount, items: list[ItemData], *, now: datetime
) -> dict[str, int]:
    """Create the page's missing products; refresh names of never-refreshed ones. ext → pk."""
    fields: dict[str, tuple[str, str, str]] = {}
    for item in items:
        if item.product_external_id:
            fields[item.product_external_id] = (
                item.product_name[:500],
                item.product_brand[:200],
                item.product_article[:200],
            )
    if not fields:
        return {}
    ids: dict[str, int] = {}
    changed = []
    externals = list(fields)
    for lookup in matching("external_id", externals):
        for pk, external, name, brand, article, cached_at in Product.objects.filter(
            account=account, **lookup
        ).values_list("id", "external_id", "name", "brand", "article", "cached_at"):
            ids[external] = pk
            new = fields[external]
            # A card refreshed from the content API (cached_at set) is richer than the item's
            # fields: only never-refreshed products take names from items.
            if cached_at is None and new[0] and new != (name, brand, article):
                changed.append(
                    {
                        "id": pk,
                        "name": new[0],
                        "brand": new[1],
                        "article": new[2],
                        "updated_at": now,
                    }
                )
    missing = [
        {"external_id": external, "name": name, "brand": brand, "article": article}
        for external, (name, brand, article) in fields.items()
        if external not in ids
    ]
    ids.update(
        insert_rows(
            Product,
            missing,
            now=now,
            key="external_id",
            scope={"account": account},
            constants={"workspace_id": account.workspace_id, "account_id": account.pk},
        )
    )
    update_rows(Product, changed, ["name", "brand", "article", "updated_at"])
    return ids


def _upsert_customers(
    account: MarketplaceAccount, items: list[ItemData], *, now: datetime
) -> dict[str, int]:
    """Create the page's missing customers; keep display names current. ext → pk."""
    names: dict[str, str] = {}
    for item in items:
        if item.customer_external_id:
            names[item.customer_external_id] = item.customer_name[:200]
    if not names:
        return {}
    ids: dict[str, int] = {}
    changed = []
    scope = {"workspace_id": account.workspace_id, "marketplace": account.marketplace}
    for lookup in matching("external_id", list(names)):
        for pk, external, display_name in Customer.objects.filter(**lookup, **scope).values_list(
            "id", "external_id", "display_name"
        ):
            ids[external] = pk
            new = names[external]
            if new and new != display_name:
                changed.append({"id": pk, "display_name": new, "updated_at": now})
    missing = [
        {"external_id": external, "display_name": name}
        for external, name in names.items()
        if external not in ids
    ]
    ids.update(
        insert_rows(Customer, missing, now=now, key="external_id", scope=scope, constants=scope)
    )
    update_rows(Customer, changed, ["display_name", "updated_at"])
    return ids


def _chat_news(messages: Iterable[MessageData]) -> ChatNews:
    """The buyer's messages after the seller's last one, and whether the seller wrote at all."""
    buyer, seller_wrote = 0, False
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            buyer += 1
        else:
            buyer, seller_wrote = 0, True
    return ChatNews(buyer, seller_wrote=seller_wrote)


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


def _item_values(
    item: ItemData,
    *,
    is_chat: bool,
    minutes: int | None,
    edits_left: int,
    product_ids: dict[str, int],
    customer_ids: dict[str, int],
    now: datetime,
) -> dict[str, Any]:
    """The interaction columns the item shows (as a new row would store them)."""
    if is_chat:
        last, sla_start, first_out, answered = _chat_state(item)
        unread = _chat_news(item.messages).buyer_messages
    else:
        last, sla_start = item.last_message_at or item.occurred_at, item.occurred_at
        answered = item.is_answered or bool(item.answer_text)
        first_out = now if answered else None
        unread = 0
    rating = item.rating
    return {
        "external_id": item.external_id,
        "product_id": product_ids.get(item.product_external_id),
        "customer_id": customer_ids.get(item.customer_external_id),
        "customer_name": item.customer_name[:200],
        "order_id": item.order_id[:128],
        "rating": rating if rating and 1 <= rating <= 5 else None,
        "text": item.text,
        "pros": item.pros,
        "cons": item.cons,
        "attachments": _attachments(item.attachments),
        "extra": dict(item.extra),
        "needs_response": not answered,
        "sla_deadline_at": sla_deadline(
            start_at=sla_start, minutes=minutes, window_ends_at=item.reply_window_ends_at
        ),
        "reply_window_ends_at": item.reply_window_ends_at,
        "first_response_at": first_out,
        "occurred_at": item.occurred_at,
        "last_message_at": last,
        "is_answered": answered,
        "answer_edits_left": edits_left if answered and item.answer_editable else 0,
        # A new chat's buyer messages since the seller last wrote (a later sync adds to it).
        "unread_count": unread,
    }


def _merged(old: dict[str, Any], new: dict[str, Any], *, is_chat: bool) -> dict[str, Any] | None:
    """The updated columns of an existing interaction, or None when nothing shown changed.

    Chats: the marketplace's state decides "answered" (who wrote last). Reviews/questions: once
    answered stays answered (our own answer may still be in moderation when the sync runs).
    """
    was_answered, answered = old["is_answered"], new["is_answered"]
    answered_changed = was_answered != answered if is_chat else answered and not was_answered
    newer = new["last_message_at"] > old["last_message_at"]
    if not (
        newer
        or answered_changed
        or new["text"] != old["text"]
        or new["pros"] != old["pros"]
        or new["cons"] != old["cons"]
        or new["rating"] != old["rating"]
        or new["order_id"] != old["order_id"]
        or new["customer_name"] != old["customer_name"]
        or new["reply_window_ends_at"] != old["reply_window_ends_at"]
        or new["attachments"] != old["attachments"]
    ):
        return None
    if not answered:
        edits_left = old["answer_edits_left"]
    elif was_answered:
        edits_left = min(old["answer_edits_left"], new["answer_edits_left"])
    else:
        edits_left = new["answer_edits_left"]
    return {
        "text": new["text"],
        "pros": new["pros"],
        "cons": new["cons"],
        "rating": new["rating"],
        "attachments": new["attachments"],
        "extra": new["extra"],
        "customer_name": new["customer_name"],
        "order_id": new["order_id"],
        "product_id": new["product_id"] if new["product_id"] is not None else old["product_id"],
        "customer_id": old["customer_id"] if old["customer_id"] is not None else new["customer_id"],
        "reply_window_ends_at": new["reply_window_ends_at"],
        "last_message_at": new["last_message_at"] if newer else old["last_message_at"],
        "needs_response": (
            new["needs_response"] if newer or answered_changed else old["needs_response"]
        ),
        "first_response_at": old["first_response_at"] or new["first_response_at"],
        "answer_edits_left": edits_left,
        "is_answered": answered if is_chat else was_answered or answered,
    }


def _upsert_interactions(
    account: MarketplaceAccount,
    channel: str,
    items: list[ItemData],
    product_ids: dict[str, int],
    customer_ids: dict[str, int],
    *,
    now: datetime,
    sla: Mapping[tuple[str, str], int],
) -> tuple[list[tuple[int, ItemData]], list[tuple[int, ItemData]], list[JourneyRow]]:
    """Insert new interactions, rewrite changed ones.

    Returns ([(pk, item)] created, [(pk, item)] updated, the created ones for linking).
    """
    if not items:
        return [], [], []
    is_chat = channel == Channel.CHAT
    scope = {"account": account, "channel": channel}
    existing: dict[str, dict[str, Any]] = {}
    for lookup in matching("external_id", [item.external_id for item in items]):
        for row in Interaction.objects.filter(**lookup, **scope).values(*_INTERACTION_LOAD_FIELDS):
            existing[row["external_id"]] = row
    minutes = sla.get((channel, Priority.NORMAL))  # new interactions start at normal priority
    edits_left = answer_edits(account.marketplace).edits
    new_rows: list[tuple[dict[str, Any], ItemData]] = []
    updated: list[tuple[int, ItemData]] = []
    changes: list[dict[str, Any]] = []
    changed_fields: set[str] = set()
    constants = {
        "workspace_id": account.workspace_id,
        "account_id": account.pk,
        "marketplace": account.marketplace,
        "channel": channel,
        "status": Interaction.Status.NEW,
        "priority": Priority.NORMAL,
    }
    for item in items:
        values = _item_values(
            item,
            is_chat=is_chat,
            minutes=minutes,
            edits_left=edits_left,
            product_ids=product_ids,
            customer_ids=customer_ids,
            now=now,
        )
        old = existing.get(item.external_id)
        if old is None:
            new_rows.append((values, item))
            continue
        merged = _merged(old, values, is_chat=is_chat)
        if merged is None:
            continue
        changed_fields.update(
            name for name, value in merged.items() if name == "extra" or value != old[name]
        )
        changes.append({"id": old["id"], "updated_at": now, **merged})
        updated.append((old["id"], item))
    created_ids = insert_rows(
        Interaction,
        [row for row, _item in new_rows],
        now=now,
        key="external_id",
        scope=scope,
        constants=constants,
    )
    fields = [name for name in _INTERACTION_UPDATE_FIELDS if name in changed_fields]
    update_rows(Interaction, changes, [*fields, "updated_at"])
    created = [(created_ids[item.external_id], item) for _row, item in new_rows]
    journeys = [
        JourneyRow(pk, channel, *(row[name] for name in JourneyRow._fields[2:]))
        for (pk, _item), (row, _item) in zip(created, new_rows, strict=True)
    ]
    return created, updated, journeys


def _insert_messages(
    account: MarketplaceAccount,
    channel: str,
    created: list[tuple[int, ItemData]],
    updated: list[tuple[int, ItemData]],
    *,
    now: datetime,
) -> tuple[int, dict[int, ChatNews]]:
    """Chat messages (new ones only) and review/question answers (text kept current).

    Returns the number of messages inserted or rewritten, and what the updated chats' new
    messages tell (`ChatNews` by chat id).
    """
    is_chat = channel == Channel.CHAT
    # Messages already stored for the updated interactions: (interaction, external id) → (pk, text).
    stored: dict[tuple[int, str], tuple[int, str]] = {}
    # Our chat messages without a marketplace id (WB answers a sent chat message without
    # one): the chat's events bring them back, and they are found here, not added again.
    ours: dict[int, list[_OurMessage]] = {}
    updated_ids = [pk for pk, item in updated if item.messages or item.answer_text]
    for lookup in matching("interaction_id", updated_ids):
        query = Message.objects.filter(**lookup)
        if not is_chat:
            query = query.filter(external_id=ANSWER_EXTERNAL_ID)
        for pk, interaction_id, external, text, status, at in query.values_list(
            "id", "interaction_id", "external_id", "text", "delivery_status", "sent_at"
        ):
            if external:
                stored[(interaction_id, external)] = (pk, text)
            elif is_chat and status in _AWAITING_ITS_ID:
                ours.setdefault(interaction_id, []).append(_OurMessage(pk, text, at))
    new: list[dict[str, Any]] = []
    edited: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    followed = {pk for pk, _item in updated}
    fresh: dict[int, list[MessageData]] = {}  # the updated chats' new messages
    for pk, item in [*created, *updated]:
        if is_chat:
            for message in item.messages:
                key = (
                    pk,
                    message.external_id
                    or f"t:{message.occurred_at.isoformat()}:{message.direction}",
                )
                if key in stored:
                    continue
                stored[key] = (0, message.text)  # a repeated id within the item is stored once
                inbound = message.direction == Message.Direction.INBOUND
                if pk in followed:
                    fresh.setdefault(pk, []).append(message)
                mine = None if inbound else _take_ours(ours.get(pk), message)
                if mine is not None:
                    found.append(
                        {
                            "id": mine,
                            "external_id": key[1],
                            "delivery_status": Message.DeliveryStatus.CONFIRMED,
                            "updated_at": now,
                        }
                    )
                    continue
                new.append(
                    {
                        "interaction_id": pk,
                        "external_id": key[1],
                        "direction": message.direction,
                        "author_type": message.author_type,
                        "text": message.text,
                        "attachments": _attachments(message.attachments),
                        "delivery_status": Message.DeliveryStatus.RECEIVED
                        if inbound
                        else Message.DeliveryStatus.CONFIRMED,
                        "occurred_at": message.occurred_at,
                    }
                )
        elif item.answer_text:
            known = stored.get((pk, ANSWER_EXTERNAL_ID))
            if known is None:
                new.append(
                    {
                        "interaction_id": pk,
                        "external_id": ANSWER_EXTERNAL_ID,
                        "direction": Message.Direction.OUTBOUND,
                        "author_type": Message.AuthorType.SELLER,
                        "text": item.answer_text,
                        "delivery_status": Message.DeliveryStatus.CONFIRMED,
                        "occurred_at": now,
                    }
                )
            elif known[1] != item.answer_text:
                # A review's answer can be edited on the marketplace: keep its text current.
                edited.append({"id": known[0], "text": item.answer_text, "updated_at": now})
    # The unique (interaction, external_id) constraint stays the safety net.
    insert_rows(Message, new, now=now, constants={"workspace_id": account.workspace_id})
    update_rows(Message, edited, ["text", "updated_at"])
    # Seen in the chat: our message reached the buyer (its receipt, where no read-back exists).
    update_rows(Message, found, ["external_id", "delivery_status", "updated_at"])
    return len(new) + len(edited), {pk: _chat_news(messages) for pk, messages in fresh.items()}


@dataclass(frozen=True, slots=True)
class _OurMessage:
    pk: int
    text: str
    sent_at: datetime | None


# Our chat messages that a sync may find: sent, or sending when a worker died after the send.
_AWAITING_ITS_ID = (Message.DeliveryStatus.SENDING, Message.DeliveryStatus.SENT)
# How far the marketplace's time of our message may be from the time we recorded.
_OURS_WINDOW = timedelta(minutes=10)


def _take_ours(candidates: list[_OurMessage] | None, message: MessageData) -> int | None:
    """The pk of our message that `message` (a seller message of the chat) is, taken from
    `candidates`: the same text, sent within `_OURS_WINDOW` of it (or not yet marked sent)."""
    if not candidates:
        return None
    text = " ".join(message.text.split())
    for candidate in candidates:
        near = candidate.sent_at is None or (
            abs(candidate.sent_at - message.occurred_at) <= _OURS_WINDOW
        )
        if near and " ".join(candidate.text.split()) == text:
            candidates.remove(candidate)
            return candidate.pk
    return None


def _update_customer_aggregates(
    created: list[tuple[int, ItemData]], customer_ids: dict[str, int], *, now: datetime
) -> None:
    """Add the NEW interactions to their customers' counters (re-syncs never double-count).

    Counters are incremented in SQL, so a concurrent sync of another account of the
    same workspace and marketplace cannot lose an increment.
    """
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
    table = Customer._meta.db_table
    postgresql = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if postgresql else ("MIN", "MAX")

    def update(source: str) -> str:
        """The statement for `source`, a row set v(id, interactions, reviews, stars, first_at,
        last_at); its first parameter is `now`."""
        return (
            f"UPDATE {table} SET "  # noqa: S608 - the table name comes from the model
            "interactions_count = interactions_count + v.interactions, "
            "reviews_count = reviews_count + v.reviews, "
            "rating_sum = rating_sum + v.stars, "
            f"first_seen_at = {least}(COALESCE(first_seen_at, v.first_at), v.first_at), "
            f"last_seen_at = {greatest}(COALESCE(last_seen_at, v.last_at), v.last_at), "
            f"updated_at = %s FROM {source} WHERE {table}.id = v.id"
        )

    with connection.cursor() as cursor:
        if postgresql:
            # Arrays: the statement's text (and psycopg's parse of it) is the same every page.
            columns = zip(*((pk, *agg) for pk, agg in aggregates.items()), strict=True)
            cursor.execute(
                update(
                    "unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::timestamptz[], "
                    "%s::timestamptz[]) AS v(id, interactions, reviews, stars, first_at, last_at)"
                ),
                [now, *(list(column) for column in columns)],
            )
            return
        when = connection.ops.adapt_datetimefield_value
        rows = [
            (pk, count, reviews, stars, when(first), when(last))
            for pk, (count, reviews, stars, first, last) in aggregates.items()
        ]
        for chunk in in_chunks(rows, lookups=6):
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                update(
                    "(SELECT column1 AS id, column2 AS interactions, column3 AS reviews, "  # noqa: S608
                    "column4 AS stars, column5 AS first_at, column6 AS last_at "
                    f"FROM (VALUES {values})) AS v"
                ),
                [when(now), *(value for row in chunk for value in row)],
            )


def _insert_events(
    account: MarketplaceAccount,
    created: list[tuple[int, ItemData]],
    updated_ids: list[int],
    *,
    now: datetime,
) -> None:
    for kind, ids in (
        (InteractionEvent.Kind.RECEIVED, [pk for pk, _item in created]),
        (InteractionEvent.Kind.UPDATED, updated_ids),
    ):
        insert_rows(
            InteractionEvent,
            [{"interaction_id": pk} for pk in ids],
            now=now,
            constants={
                "workspace_id": account.workspace_id,
                "account_id": account.pk,
                "kind": kind,
                "payload": {"source": "sync"},
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
