from datetime import UTC, datetime

import pytest

from inbox.models import Product
from inbox.services.rows import SMALL_INSERT_ROWS, insert_rows, update_rows
from tests.factories import make_account

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(workspace):
    return make_account(workspace=workspace)


def product_rows(count: int) -> list[dict[str, object]]:
    return [
        {"external_id": f"nm{n}", "name": f"Товар {n}", "card_data": {"sizes": ["S", n]}}
        for n in range(count)
    ]


def insert_products(account, rows: list[dict[str, object]]) -> dict[str, int]:
    return insert_rows(
        Product,
        rows,
        now=NOW,
        key="external_id",
        scope={"account": account},
        constants={"workspace_id": account.workspace_id, "account_id": account.pk},
    )


@pytest.mark.parametrize("count", [3, SMALL_INSERT_ROWS + 20])
def test_insert_rows_stores_each_row_with_the_constants_and_returns_their_ids(account, count):
    ids = insert_products(account, product_rows(count))

    stored = {
        p.external_id: (p.pk, p.name, p.card_data, p.workspace_id, p.account_id, p.created_at)
        for p in Product.objects.filter(account=account)
    }
    assert stored == {
        f"nm{n}": (
            ids[f"nm{n}"],
            f"Товар {n}",
            {"sizes": ["S", n]},
            account.workspace_id,
            account.pk,
            NOW,
        )
        for n in range(count)
    }


def test_insert_rows_skips_rows_already_there_and_still_returns_their_ids(account):
    first = insert_products(account, product_rows(2))

    again = insert_products(
        account, [{**row, "name": "Другое имя"} for row in product_rows(SMALL_INSERT_ROWS + 1)]
    )

    assert {k: again[k] for k in first} == first
    assert Product.objects.get(pk=first["nm0"]).name == "Товар 0"
    assert Product.objects.filter(account=account).count() == SMALL_INSERT_ROWS + 1


def test_insert_rows_refuses_a_field_given_per_row_and_as_a_constant(account):
    with pytest.raises(ValueError, match="also constant"):
        insert_rows(
            Product,
            [{**row, "account_id": account.pk} for row in product_rows(SMALL_INSERT_ROWS + 1)],
            now=NOW,
            constants={"workspace_id": account.workspace_id, "account_id": account.pk},
        )

    assert Product.objects.count() == 0


def test_update_rows_rewrites_only_the_named_columns(account):
    ids = insert_products(account, product_rows(2))

    update_rows(
        Product,
        [{"id": ids["nm1"], "card_data": {"sizes": []}, "brand": "Бренд", "name": "ignored"}],
        ["card_data", "brand"],
    )

    assert sorted(
        Product.objects.filter(account=account).values_list(
            "external_id", "name", "brand", "card_data"
        )
    ) == [
        ("nm0", "Товар 0", "", {"sizes": ["S", 0]}),
        ("nm1", "Товар 1", "Бренд", {"sizes": []}),
    ]
