from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inbox import selectors
from inbox.forms import InboxFilterForm
from inbox.models import Interaction, SavedView
from tests.factories import make_account, make_interaction, make_product

pytestmark = pytest.mark.django_db


def _filters(**values):
    return InboxFilterForm(values).filters()


def _pks(workspace, user, **values):
    qs = selectors.inbox_interactions(workspace, _filters(**values), user=user, now=timezone.now())
    return [row.pk for row in qs]


def test_inbox_interactions_hide_closed_and_other_workspaces(workspace, other_workspace, owner):
    mine = make_interaction(workspace=workspace)
    make_interaction(workspace=workspace, status="closed")
    make_interaction(workspace=other_workspace)

    assert _pks(workspace, owner) == [mine.pk]


def test_inbox_interactions_filter_by_channel_rating_and_sentiment(workspace, owner):
    wanted = make_interaction(workspace=workspace, channel="review", rating=1, sentiment="negative")
    make_interaction(workspace=workspace, channel="review", rating=5, sentiment="positive")
    make_interaction(workspace=workspace, channel="question", rating=None)

    assert _pks(workspace, owner, channel="review", rating="1", sentiment="negative") == [wanted.pk]


def test_inbox_interactions_filter_by_account_product_and_assignee(workspace, owner, agent):
    account = make_account(workspace=workspace)
    product = make_product(workspace=workspace, account=account)
    wanted = make_interaction(workspace=workspace, account=account, product=product, assignee=agent)
    make_interaction(workspace=workspace, account=account)

    values = {"account": str(account.pk), "product": str(product.pk), "assignee": str(agent.pk)}
    qs = selectors.inbox_interactions(workspace, _filters(**values), user=owner, now=timezone.now())
    assert [r.pk for r in qs] == [wanted.pk]


def test_inbox_filter_by_another_workspaces_account_matches_nothing(
    workspace, other_workspace, owner
):
    foreign = make_account(workspace=other_workspace)
    make_interaction(workspace=workspace)
    make_interaction(workspace=other_workspace, account=foreign)

    assert _pks(workspace, owner, account=str(foreign.pk)) == []
    assert _pks(workspace, owner, account="not-an-id") != []  # an invalid value is ignored


def test_filter_choices_keep_a_chosen_product_beyond_the_offered_ones(workspace, monkeypatch):
    monkeypatch.setattr(selectors, "PRODUCT_CHOICES_LIMIT", 1)
    account = make_account(workspace=workspace)
    older = make_product(workspace=workspace, account=account, name="Старый товар")
    make_product(workspace=workspace, account=account, name="Новый товар")

    offered = selectors.inbox_choices(workspace).products
    chosen = selectors.inbox_choices(workspace, product_id=older.pk).products

    assert [label for _pk, label in offered] == ["Новый товар"]
    assert [label for _pk, label in chosen] == ["Новый товар", "Старый товар"]


def test_inbox_interactions_filter_sla_overdue_and_at_risk(workspace, owner):
    now = timezone.now()
    overdue = make_interaction(workspace=workspace, sla_deadline_at=now - timedelta(minutes=5))
    at_risk = make_interaction(workspace=workspace, sla_deadline_at=now + timedelta(minutes=20))
    make_interaction(workspace=workspace, sla_deadline_at=now + timedelta(days=1))
    make_interaction(
        workspace=workspace, sla_deadline_at=now - timedelta(hours=1), first_response_at=now
    )

    assert _pks(workspace, owner, sla="overdue") == [overdue.pk]
    assert _pks(workspace, owner, sla="at_risk") == [at_risk.pk]


def test_inbox_search_uses_russian_stemming(workspace, owner):
    found = make_interaction(workspace=workspace, text="Футболки сели после стирки")
    make_interaction(workspace=workspace, text="Отличные носки")

    assert _pks(workspace, owner, q="футболка") == [found.pk]


def test_inbox_search_follows_edited_text_through_the_stored_document(workspace, owner):
    item = make_interaction(workspace=workspace, text="Отличные носки")
    Interaction.objects.filter(pk=item.pk).update(text="Куртка промокла под дождём")

    assert _pks(workspace, owner, q="куртки") == [item.pk]
    assert _pks(workspace, owner, q="носки") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_interaction_search'")
        (definition,) = cursor.fetchone()
    assert "gin (search_vector)" in definition.lower()


def test_a_text_search_counts_up_to_the_limit_and_says_there_are_more(
    workspace, owner, monkeypatch
):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 3)
    for _ in range(4):
        make_interaction(workspace=workspace, text="Размер не подошёл")
    make_interaction(workspace=workspace, text="Всё отлично")
    now = timezone.now()

    searched = selectors.inbox_page(workspace, _filters(q="размер"), user=owner, now=now)
    everything = selectors.inbox_page(workspace, _filters(), user=owner, now=now)

    assert (searched.total, searched.total_is_lower_bound) == (3, True)
    assert len(searched.rows) == 4
    assert (everything.total, everything.total_is_lower_bound) == (5, False)


def test_a_text_search_fingerprint_changes_when_a_match_changes(workspace, owner):
    first = make_interaction(workspace=workspace, text="Размер маломерит")
    make_interaction(workspace=workspace, text="Размер большемерит")
    filters = _filters(q="размер")
    now = timezone.now()
    before = selectors.inbox_fingerprint(workspace, filters, user=owner, now=now)
    assert selectors.inbox_fingerprint(workspace, filters, user=owner, now=now) == before

    Interaction.objects.filter(pk=first.pk).update(status="pending", updated_at=timezone.now())

    assert selectors.inbox_fingerprint(workspace, filters, user=owner, now=now) != before


def test_inbox_sort_by_sla_puts_missing_deadlines_last(workspace, owner):
    now = timezone.now()
    late = make_interaction(workspace=workspace, sla_deadline_at=now + timedelta(hours=5))
    none = make_interaction(workspace=workspace, sla_deadline_at=None)
    soon = make_interaction(workspace=workspace, sla_deadline_at=now + timedelta(hours=1))

    assert _pks(workspace, owner, sort="sla") == [soon.pk, late.pk, none.pk]


@pytest.mark.parametrize("sort", ["newest", "sla", "rating"])
def test_inbox_page_keyset_pagination_visits_every_row_once(workspace, owner, sort):
    now = timezone.now()
    for i in range(7):
        make_interaction(
            workspace=workspace,
            now=now - timedelta(minutes=i % 3),
            rating=(i % 2) + 4 if i != 3 else None,
            sla_deadline_at=now + timedelta(hours=i % 3) if i % 4 else None,
        )
    filters = _filters(sort=sort)
    seen, cursor = [], ""
    for _ in range(10):
        page = selectors.inbox_page(workspace, filters, user=owner, now=now, cursor=cursor, limit=3)
        seen += [r.pk for r in page.rows]
        cursor = page.next_cursor
        if not cursor:
            break

    expected = _pks(workspace, owner, sort=sort)
    assert seen == expected
    assert len(seen) == 7


def test_inbox_page_query_has_no_offset(workspace, owner, django_assert_max_num_queries):
    make_interaction(workspace=workspace)
    filters = _filters()
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        selectors.inbox_page(
            workspace, filters, user=owner, now=timezone.now(), cursor="2030-01-01T00:00:00+00:00~5"
        )
    assert all("OFFSET" not in q["sql"] for q in queries.captured_queries)
    assert len(queries.captured_queries) == 2


def test_inbox_fingerprint_changes_only_when_something_changes(workspace, owner):
    item = make_interaction(workspace=workspace)
    now = timezone.now()
    before = selectors.inbox_fingerprint(workspace, _filters(), user=owner, now=now)
    same = selectors.inbox_fingerprint(workspace, _filters(), user=owner, now=now)

    item.priority = "high"
    item.save()
    after = selectors.inbox_fingerprint(workspace, _filters(), user=owner, now=now)

    assert before == same
    assert after != before


def test_saved_view_counts_are_live_and_one_query(workspace, owner, django_assert_num_queries):
    make_interaction(workspace=workspace, rating=5)
    make_interaction(workspace=workspace, rating=1)
    five = SavedView.objects.create(workspace=workspace, owner=owner, name="5", query="rating=5")
    everything = SavedView.objects.create(workspace=workspace, owner=owner, name="all", query="")
    filters = {
        five.pk: _filters(rating="5"),
        everything.pk: _filters(),
    }

    with django_assert_num_queries(1):
        counts = selectors.saved_view_counts(workspace, filters, user=owner, now=timezone.now())

    assert counts == {five.pk: 1, everything.pk: 2}


def test_saved_view_with_a_search_counts_up_to_one_past_the_limit(workspace, owner, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_COUNT_LIMIT", 2)
    for _ in range(4):
        make_interaction(workspace=workspace, text="Пришёл брак")
    view = SavedView.objects.create(workspace=workspace, owner=owner, name="брак", query="q=брак")

    counts = selectors.saved_view_counts(
        workspace, {view.pk: _filters(q="брак")}, user=owner, now=timezone.now()
    )

    assert counts == {view.pk: 3}


def test_outbox_backlog_estimates_minutes_per_account(workspace):
    account = make_account(workspace=workspace, token_info={"replies_per_minute": 2})
    from tests.factories import make_message

    for _ in range(5):
        item = make_interaction(workspace=workspace, account=account)
        make_message(
            interaction=item, direction="out", author_type="seller", delivery_status="queued"
        )

    (row,) = selectors.outbox_backlog(workspace, account_ids=[account.pk])

    assert (row.queued, row.per_minute, row.eta_minutes) == (5, 2, 3)
