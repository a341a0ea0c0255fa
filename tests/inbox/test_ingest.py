from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.types import ItemData, MalformedItem, MessageData, Page
from inbox.models import (
    Customer,
    Interaction,
    InteractionEvent,
    Message,
    Priority,
    Product,
    SLARule,
    SyncCursor,
)
from inbox.services.ingest import ingest_page
from inbox.services.sla import refresh_sla_deadlines, sla_deadline
from tests.factories import make_account, make_product

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def review(n: int, **overrides: object) -> ItemData:
    fields: dict[str, object] = {
        "channel": "review",
        "external_id": f"r{n}",
        "occurred_at": NOW - timedelta(hours=n),
        "text": f"Отзыв {n}",
        "rating": 5,
        "product_external_id": "1001",
        "product_name": "Футболка",
        "customer_external_id": f"c{n % 3}",
        "customer_name": "Анна",
    }
    fields.update(overrides)
    return ItemData(**fields)  # type: ignore[arg-type]


def page(*items: ItemData, malformed: tuple[MalformedItem, ...] = (), state: int = 1) -> Page:
    return Page(items=items, malformed=malformed, next_state={"n": state}, done=True)


@pytest.fixture
def account(workspace):
    return make_account(workspace=workspace)


def test_ingest_page_twice_creates_the_same_rows(account, django_capture_on_commit_callbacks):
    items = [review(n) for n in range(10)]

    first = ingest_page(account, "review", page(*items), now=NOW)
    second = ingest_page(account, "review", page(*items), now=NOW + timedelta(minutes=5))

    assert (first.created, first.updated, second.created, second.updated) == (10, 0, 0, 0)
    assert second.unchanged == 10
    assert Interaction.objects.filter(account=account).count() == 10
    assert Product.objects.filter(account=account).count() == 1
    assert InteractionEvent.objects.filter(kind="received").count() == 10
    assert InteractionEvent.objects.filter(kind="updated").count() == 0


def test_ingest_page_counts_customer_aggregates_only_for_new_interactions(account):
    items = [review(n, customer_external_id="c1", rating=n % 5 + 1) for n in range(4)]

    ingest_page(account, "review", page(*items), now=NOW)
    ingest_page(account, "review", page(*items), now=NOW)

    customer = Customer.objects.get(external_id="c1")
    assert (customer.interactions_count, customer.reviews_count, customer.rating_sum) == (
        4,
        4,
        1 + 2 + 3 + 4,
    )
    assert customer.first_seen_at == NOW - timedelta(hours=3)
    assert customer.last_seen_at == NOW


def test_ingest_page_updates_changed_item_and_records_updated_event(account):
    ingest_page(account, "review", page(review(1)), now=NOW)

    result = ingest_page(account, "review", page(review(1, text="Исправленный отзыв")), now=NOW)

    interaction = Interaction.objects.get(external_id="r1")
    assert (result.created, result.updated) == (0, 1)
    assert interaction.text == "Исправленный отзыв"
    assert list(interaction.events.values_list("kind", flat=True).order_by("id")) == [
        "received",
        "updated",
    ]


def test_ingest_page_marks_answer_published_elsewhere(account):
    ingest_page(account, "review", page(review(1)), now=NOW)

    ingest_page(
        account,
        "review",
        page(review(1, answer_text="Спасибо за отзыв!", is_answered=True, answer_editable=True)),
        now=NOW + timedelta(hours=1),
    )

    interaction = Interaction.objects.get(external_id="r1")
    assert interaction.is_answered is True
    assert interaction.needs_response is False
    assert interaction.first_response_at == NOW + timedelta(hours=1)
    assert interaction.answer_edits_left == 1
    assert list(interaction.messages.values_list("direction", "text", "delivery_status")) == [
        ("out", "Спасибо за отзыв!", "confirmed")
    ]


def test_ingest_page_keeps_chat_messages_unique(account):
    messages = (
        MessageData("m1", "in", "customer", "Где заказ?", NOW - timedelta(minutes=30)),
        MessageData("m2", "out", "seller", "Уже в пути", NOW - timedelta(minutes=20)),
    )
    chat = ItemData(
        channel="chat", external_id="chat1", occurred_at=NOW - timedelta(hours=1), messages=messages
    )
    more = ItemData(
        channel="chat",
        external_id="chat1",
        occurred_at=NOW - timedelta(hours=1),
        messages=(
            *messages,
            MessageData("m3", "in", "customer", "Спасибо", NOW - timedelta(minutes=5)),
        ),
    )

    ingest_page(account, "chat", page(chat), now=NOW)
    ingest_page(account, "chat", page(chat), now=NOW)
    ingest_page(account, "chat", page(more), now=NOW)

    interaction = Interaction.objects.get(external_id="chat1")
    assert list(
        interaction.messages.order_by("occurred_at").values_list("external_id", flat=True)
    ) == [
        "m1",
        "m2",
        "m3",
    ]
    assert interaction.first_response_at == NOW - timedelta(minutes=20)
    assert interaction.last_message_at == NOW - timedelta(minutes=5)
    assert interaction.needs_response is True
    assert interaction.is_answered is False


def test_ingest_page_records_malformed_items_and_skips_them(account, caplog):
    bad = MalformedItem("review", "r9", "rating is not a number", '{"productValuation": "x"}')

    result = ingest_page(account, "review", page(review(1), malformed=(bad,)), now=NOW)

    assert (result.created, result.malformed) == (1, 1)
    event = InteractionEvent.objects.get(kind="sync_error")
    assert (event.account_id, event.interaction_id, event.payload["external_id"]) == (
        account.pk,
        None,
        "r9",
    )
    assert "Malformed marketplace item skipped" in caplog.text


def test_ingest_page_commits_cursor_state(account):
    ingest_page(account, "review", page(review(1), state=7), now=NOW)

    cursor = SyncCursor.objects.get(account=account, channel="review")
    assert (cursor.state, cursor.items_seen) == ({"n": 7}, 1)


def test_ingest_page_does_not_overwrite_refreshed_product_card(account, workspace):
    make_product(
        workspace=workspace,
        account=account,
        external_id="1001",
        name="Футболка хлопковая оверсайз",
        cached_at=NOW,
    )

    ingest_page(account, "review", page(review(1, product_name="Футболка")), now=NOW)

    assert Product.objects.get(account=account, external_id="1001").name == (
        "Футболка хлопковая оверсайз"
    )


def test_ingest_page_runs_a_constant_number_of_queries(account):
    # Creates the cursor row and the product and customers (c0-c2) that both pages refer to.
    ingest_page(account, "review", page(*[review(n) for n in range(1000, 1003)]), now=NOW)
    small = page(*[review(n) for n in range(3)])
    large = page(*[review(n) for n in range(100, 400)])

    with CaptureQueriesContext(connection) as few:
        ingest_page(account, "review", small, now=NOW)
    with CaptureQueriesContext(connection) as many:
        ingest_page(account, "review", large, now=NOW)

    # Savepoint, 3 lookups + SLA rules, interactions, customer counters, events, 3 journey
    # lookups, journey links, cursor, release. A few rows are one INSERT … VALUES each; many
    # go through a staging table (created if missing, COPY — not captured —, INSERT, emptied):
    # a constant number for any page size.
    assert (len(few.captured_queries), len(many.captured_queries)) == (14, 20)


def test_ingest_page_enqueues_analysis_of_new_interactions(
    account, django_capture_on_commit_callbacks
):
    import django_rq

    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_page(account, "review", page(review(1), review(2)), now=NOW)

    jobs = django_rq.get_queue("ai").get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [
        ("intelligence.jobs.analyze_interactions_job", (list(result.created_ids),))
    ]


def test_sla_deadline_comes_from_the_workspace_rule(account, workspace):
    SLARule.objects.for_workspace(workspace).filter(channel="review", priority="normal").update(
        minutes=90
    )

    ingest_page(account, "review", page(review(1)), now=NOW)

    interaction = Interaction.objects.get(external_id="r1")
    assert interaction.sla_deadline_at == interaction.occurred_at + timedelta(minutes=90)


def test_sla_deadline_is_capped_by_the_marketplace_window(account):
    window = NOW + timedelta(minutes=10)

    ingest_page(account, "review", page(review(0, reply_window_ends_at=window)), now=NOW)

    assert Interaction.objects.get(external_id="r0").sla_deadline_at == window


def test_sla_deadline_of_a_chat_starts_at_the_last_inbound_message(account, workspace):
    chat = ItemData(
        channel="chat",
        external_id="chat1",
        occurred_at=NOW - timedelta(days=1),
        messages=(MessageData("m1", "in", "customer", "Здравствуйте", NOW),),
    )

    ingest_page(account, "chat", page(chat), now=NOW)

    minutes = SLARule.objects.get(workspace=workspace, channel="chat", priority="normal").minutes
    assert Interaction.objects.get(external_id="chat1").sla_deadline_at == NOW + timedelta(
        minutes=minutes
    )


def test_refresh_sla_deadlines_follows_a_new_priority(account, workspace):
    ingest_page(account, "review", page(review(1)), now=NOW)
    interaction = Interaction.objects.get(external_id="r1")
    Interaction.objects.filter(pk=interaction.pk).update(priority=Priority.URGENT)

    refresh_sla_deadlines([interaction.pk])

    interaction.refresh_from_db()
    minutes = SLARule.objects.get(workspace=workspace, channel="review", priority="urgent").minutes
    assert interaction.sla_deadline_at == sla_deadline(
        start_at=interaction.occurred_at, minutes=minutes, window_ends_at=None
    )


def test_ingest_page_stores_messages_for_answered_question(account):
    question = ItemData(
        channel="question",
        external_id="q1",
        occurred_at=NOW,
        text="Какой размер?",
        answer_text="Размер M",
        is_answered=True,
    )

    ingest_page(account, "question", page(question), now=NOW)
    ingest_page(account, "question", page(question), now=NOW)

    assert Message.objects.filter(interaction__external_id="q1").count() == 1


def _chat(*messages: MessageData) -> ItemData:
    return ItemData(
        channel="chat", external_id="chat1", occurred_at=NOW - timedelta(hours=1), messages=messages
    )


def test_a_new_chat_counts_the_buyer_messages_since_the_seller_last_wrote(account):
    ingest_page(
        account,
        "chat",
        page(
            _chat(
                MessageData("m1", "in", "customer", "Здравствуйте", NOW - timedelta(minutes=50)),
                MessageData("m2", "out", "seller", "Добрый день!", NOW - timedelta(minutes=40)),
                MessageData("m3", "in", "customer", "Где заказ?", NOW - timedelta(minutes=30)),
                MessageData("m4", "in", "customer", "Ау?", NOW - timedelta(minutes=20)),
            )
        ),
        now=NOW,
    )

    assert Interaction.objects.get(external_id="chat1").unread_count == 2


def test_a_closed_chat_whose_buyer_writes_again_reopens_unread_and_awaiting_an_answer(
    account, django_capture_on_commit_callbacks
):
    import django_rq

    from inbox.models import awaiting_answer_q
    from inbox.services.interactions import change_status

    first = (
        MessageData("m1", "in", "customer", "Где заказ?", NOW - timedelta(minutes=50)),
        MessageData("m2", "out", "seller", "Уже в пути", NOW - timedelta(minutes=40)),
    )
    ingest_page(account, "chat", page(_chat(*first)), now=NOW)
    chat = Interaction.objects.get(external_id="chat1")
    change_status(chat, status=Interaction.Status.CLOSED, actor=None, now=NOW)
    assert not Interaction.objects.filter(awaiting_answer_q(), pk=chat.pk).exists()
    follow_up = (
        *first,
        MessageData("m3", "in", "customer", "Пришёл не тот цвет", NOW - timedelta(minutes=5)),
        MessageData("m4", "in", "customer", "Что делать?", NOW - timedelta(minutes=4)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        ingest_page(account, "chat", page(_chat(*follow_up), state=2), now=NOW)
        ingest_page(account, "chat", page(_chat(*follow_up), state=3), now=NOW)  # a rerun

    chat.refresh_from_db()
    assert (chat.status, chat.closed_at, chat.unread_count) == ("open", None, 2)
    assert Interaction.objects.filter(awaiting_answer_q(), pk=chat.pk).exists()
    reopened = InteractionEvent.objects.filter(
        interaction=chat, kind=InteractionEvent.Kind.STATUS_CHANGED, actor=None
    ).order_by("-id")[0]
    assert reopened.payload == {"from": "closed", "to": "open", "by": "buyer"}
    jobs = django_rq.get_queue("ai").get_jobs()
    assert [job.args for job in jobs] == [([chat.pk],)]


def test_a_seller_reply_on_the_marketplace_leaves_only_later_buyer_messages_unread(account):
    first = (MessageData("m1", "in", "customer", "Здравствуйте", NOW - timedelta(minutes=50)),)
    ingest_page(account, "chat", page(_chat(*first)), now=NOW)
    answered = (
        *first,
        MessageData("m2", "in", "customer", "Где заказ?", NOW - timedelta(minutes=40)),
        MessageData("m3", "out", "seller", "Уже в пути", NOW - timedelta(minutes=30)),
    )
    ingest_page(account, "chat", page(_chat(*answered), state=2), now=NOW)
    chat = Interaction.objects.get(external_id="chat1")
    assert chat.unread_count == 0

    again = (*answered, MessageData("m4", "in", "customer", "Спасибо!", NOW))
    ingest_page(account, "chat", page(_chat(*again), state=3), now=NOW)

    chat.refresh_from_db()
    assert chat.unread_count == 1
