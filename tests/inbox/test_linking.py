from datetime import UTC, datetime, timedelta

import pytest

from connectors.types import ItemData, Page
from inbox.models import Customer, Interaction, InteractionLink
from inbox.services.ingest import ingest_page
from tests.factories import make_account

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(workspace):
    return make_account(workspace=workspace)


def ingest(account, *items: ItemData) -> None:
    for item in items:
        ingest_page(
            account,
            item.channel,
            Page(items=(item,), malformed=(), next_state={}, done=True),
            now=NOW,
        )


def links() -> set[tuple[str, str, str]]:
    return {
        (link.source.external_id, link.target.external_id, link.strength)
        for link in InteractionLink.objects.select_related("source", "target")
    }


def item(channel: str, external_id: str, **fields: object) -> ItemData:
    return ItemData(channel=channel, external_id=external_id, occurred_at=NOW, **fields)  # type: ignore[arg-type]


def test_link_same_order_is_certain(account):
    ingest(
        account,
        item("review", "r1", order_id="o-1", customer_external_id="c1"),
        item("chat", "ch1", order_id="o-1", customer_external_id="c1"),
    )

    assert links() == {("r1", "ch1", "certain")}


def test_link_same_customer_is_strong(account):
    ingest(
        account,
        item("review", "r1", customer_external_id="c1"),
        item("question", "q1", customer_external_id="c1"),
        item("chat", "ch1", customer_external_id="c2"),
    )

    assert links() == {("r1", "q1", "strong")}


def test_link_same_name_and_product_within_three_days_is_weak_and_never_merged(account):
    ingest(
        account,
        item("review", "r1", customer_name="Мария", product_external_id="55"),
        ItemData(
            channel="question",
            external_id="q1",
            occurred_at=NOW + timedelta(days=2),
            customer_name="Мария",
            product_external_id="55",
        ),
        ItemData(
            channel="question",
            external_id="q2",
            occurred_at=NOW + timedelta(days=6),
            customer_name="Мария",
            product_external_id="55",
        ),
        item("chat", "ch1", customer_name="Мария", product_external_id="77"),
    )

    assert links() == {("r1", "q1", "weak")}
    assert Customer.objects.count() == 0
    assert set(Interaction.objects.values_list("customer_id", flat=True)) == {None}


def test_link_different_known_customers_with_same_name_are_not_linked(account):
    ingest(
        account,
        item(
            "review",
            "r1",
            customer_name="Мария",
            customer_external_id="c1",
            product_external_id="5",
        ),
        item(
            "review",
            "r2",
            customer_name="Мария",
            customer_external_id="c2",
            product_external_id="5",
        ),
    )

    assert links() == set()


def test_link_in_one_page_is_stored_once_with_the_strongest_reason(account):
    ingest_page(
        account,
        "review",
        Page(
            items=(
                item("review", "r1", order_id="o-9", customer_external_id="c1"),
                item("review", "r2", order_id="o-9", customer_external_id="c1"),
            ),
            malformed=(),
            next_state={},
            done=True,
        ),
        now=NOW,
    )

    assert links() == {("r1", "r2", "certain")}


def maria_on_product_55(channel: str, prefix: str, offsets: list[timedelta]) -> Page:
    """One page of `channel` items by «Мария» about product 55, `offsets` after NOW."""
    items = tuple(
        ItemData(
            channel=channel,
            external_id=f"{prefix}{offset.days or offset.seconds // 3600}",
            occurred_at=NOW + offset,
            customer_name="Мария",
            product_external_id="55",
        )
        for offset in offsets
    )
    return Page(items=items, malformed=(), next_state={}, done=True)


def test_link_weak_uses_each_items_own_window_within_one_page(account):
    days = [timedelta(days=n) for n in (0, 10)]
    ingest_page(account, "review", maria_on_product_55("review", "r", days), now=NOW)
    later = [timedelta(days=n) for n in (1, 5, 11)]

    ingest_page(account, "question", maria_on_product_55("question", "q", later), now=NOW)

    assert links() == {("r0", "q1", "weak"), ("r10", "q11", "weak")}


def test_link_weak_joins_at_most_three_others_the_earliest_first(account):
    hours = [timedelta(hours=n) for n in (5, 1, 4, 2, 3)]
    ingest_page(account, "review", maria_on_product_55("review", "r", hours), now=NOW)

    ingest(account, item("chat", "ch1", customer_name="Мария", product_external_id="55"))

    assert links() == {("r1", "ch1", "weak"), ("r2", "ch1", "weak"), ("r3", "ch1", "weak")}
