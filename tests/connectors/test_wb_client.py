"""WBClient against the marketplace simulator over real HTTP, with real Redis budgets."""

import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone, translation

from connectors import http
from connectors.exceptions import (
    AnswerNotReadable,
    AuthError,
    MarketplaceError,
    PublishRejected,
    RateLimited,
    TransientMarketplaceError,
)
from connectors.registry import UnsupportedMarketplace, client_for
from connectors.simulator.tokens import make_wb_token
from connectors.types import ItemData, MalformedItem, Page
from connectors.wb.client import WBClient, basket_number
from inbox.models import MarketplaceAccount, Workspace
from tests.conftest import SimulatorFixture
from tests.factories import make_account

FEEDBACKS = "feedbacks-api.wildberries.ru"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Assert on the English msgids: translations are the lead's, and may change."""
    with translation.override("en"):
        yield


def _connect(
    simulator: SimulatorFixture, workspace: Workspace, **options: Any
) -> tuple[MarketplaceAccount, str]:
    handle = simulator.create_wb_account(seed=options.pop("seed", 3), **options)
    account = make_account(
        workspace=workspace, base_url=simulator.url, credentials={"token": handle.token}
    )
    return account, handle.account_id


def _run(
    client: WBClient, channel: str, state: Mapping[str, Any] | None = None, *, max_pages: int = 50
) -> tuple[list[Page], dict[str, Any]]:
    """Fetch pages until `done`, committing (JSON round-trip) the state after each one."""
    pages: list[Page] = []
    current: dict[str, Any] = dict(state or {})
    for _ in range(max_pages):
        page = client.fetch_page(channel, current)
        pages.append(page)
        current = json.loads(json.dumps(page.next_state))
        if page.done:
            return pages, current
    raise AssertionError("the run did not finish")


def _items(pages: list[Page]) -> list[ItemData]:
    return [item for page in pages for item in page.items]


def _ids(pages: list[Page]) -> set[str]:
    return {item.external_id for item in _items(pages)}


# --------------------------------------------------------------------------- reviews
def test_fetch_page_reads_every_review_across_several_pages(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=45, archived_reviews=12)
    client = WBClient(account, page_size=10)

    pages, _state = _run(client, "review")

    truth = simulator.truth(sim_id)["reviews"]
    assert _ids(pages) == set(truth["ids"])
    # 57 reviews in pages of 10; a phase's short last page is gathered with the next phase's.
    assert len(pages) >= 5
    assert all(page.malformed == () for page in pages)
    assert simulator.account_stats(sim_id)["responses_429"] == 0


def test_fetch_page_maps_a_review_to_item_data(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, archived_reviews=0)
    review_id = simulator.generate(sim_id, reviews=1, rating=2)["reviews"][0]
    client = WBClient(account)

    pages, _state = _run(client, "review")

    [item] = _items(pages)
    raw = httpx.get(
        simulator.api_url(FEEDBACKS, "/api/v1/feedback"),
        params={"id": review_id},
        headers={"Authorization": account.credentials["token"]},
    ).json()["data"]
    created = datetime.fromisoformat(raw["createdDate"].replace("Z", "+00:00"))
    product = raw["productDetails"]
    assert (item.channel, item.external_id, item.occurred_at) == ("review", review_id, created)
    assert (item.text, item.pros, item.cons, item.rating) == (
        raw["text"],
        raw["pros"],
        raw["cons"],
        2,
    )
    assert (item.product_external_id, item.product_name, item.product_brand) == (
        str(product["nmId"]),
        product["productName"],
        product["brandName"] or "",
    )
    assert item.product_article == (product["supplierArticle"] or "")
    assert item.customer_name == raw["userName"]
    assert item.order_id == ""
    assert item.extra["last_order_shk_id"] == raw["lastOrderShkId"]
    assert [a["url"] for a in item.attachments if a["type"] == "photo"] == [
        photo["fullSize"] for photo in raw["photoLinks"] or []
    ]
    assert (item.is_answered, item.answer_text, item.answer_editable) == (False, "", False)
    assert item.reply_window_ends_at == created + timedelta(days=30)


def test_fetch_page_resumes_after_a_crash_without_losing_items(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=40, archived_reviews=5)
    first_worker = WBClient(account, page_size=8)
    seen: list[ItemData] = []
    state: dict[str, Any] = {}
    for _ in range(2):
        page = first_worker.fetch_page("review", state)
        seen.extend(page.items)
        state = json.loads(json.dumps(page.next_state))
    # While the worker is down, unanswered reviews get answered elsewhere (they leave the
    # list being paged) and new ones arrive.
    unanswered_left = [
        rid
        for rid in simulator.truth(sim_id)["reviews"]["unanswered_ids"]
        if rid not in _ids_of(seen)
    ]
    for review_id in unanswered_left[-3:]:
        first_worker.publish("review", review_id, "Спасибо за отзыв!", idempotency_key=review_id)
    new_ids = simulator.generate(sim_id, reviews=2)["reviews"]

    restarted = WBClient(account, page_size=8)
    pages, _state = _run(restarted, "review", state)

    collected = _ids_of(seen) | _ids(pages)
    truth_ids = set(simulator.truth(sim_id)["reviews"]["ids"])
    assert collected >= truth_ids - set(new_ids)
    assert set(unanswered_left[-3:]) <= collected


def _ids_of(items: list[ItemData]) -> set[str]:
    return {item.external_id for item in items}


def test_next_run_reads_new_and_newly_answered_reviews_only_near_the_watermark(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=30, archived_reviews=10)
    client = WBClient(account, page_size=10)
    _first, state = _run(client, "review")
    old_unanswered = simulator.truth(sim_id)["reviews"]["unanswered_ids"][-1]
    client.publish("review", old_unanswered, "Спасибо, что выбрали нас!", idempotency_key="k1")
    new_ids = simulator.generate(sim_id, reviews=2)["reviews"]

    pages, final_state = _run(client, "review", state)

    items = {item.external_id: item for item in _items(pages)}
    assert set(new_ids) <= items.keys()
    assert items[old_unanswered].is_answered is True
    assert items[old_unanswered].answer_text == "Спасибо, что выбрали нас!"
    assert final_state["watermark"] > state["watermark"]
    assert "run" not in final_state


def test_next_run_without_a_backlog_reads_back_only_to_the_watermark(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(
        simulator, workspace, reviews=30, archived_reviews=0, answered_share=1.0
    )
    client = WBClient(account, page_size=10)
    _first, state = _run(client, "review")
    new_ids = simulator.generate(sim_id, reviews=2)["reviews"]

    pages, _state = _run(client, "review", state)

    items = _items(pages)
    floor = datetime.fromisoformat(state["watermark"]) - timedelta(hours=24)
    assert set(new_ids) <= {item.external_id for item in items}
    assert all(item.occurred_at >= floor - timedelta(seconds=1) for item in items)
    assert len(items) < 30


def test_runs_between_reconciliations_skip_the_backlog_and_the_next_one_finds_old_answers(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=30, archived_reviews=0)
    client = WBClient(account, page_size=10)
    first, state = _run(client, "review")
    floor = datetime.fromisoformat(state["watermark"]) - timedelta(hours=24)
    old = min((item for item in _items(first) if not item.is_answered), key=lambda i: i.occurred_at)
    assert old.occurred_at < floor  # the simulator spreads reviews over months
    client.publish("review", old.external_id, "Ответ из личного кабинета", idempotency_key="k2")

    archive = "feedbacks-api.wildberries.ru/api/v1/feedbacks/archive"
    archive_reads = simulator.account_stats(sim_id)["requests_by_path"][archive]
    quick_pages, quick_state = _run(client, "review", state)
    assert all(item.occurred_at >= floor - timedelta(seconds=1) for item in _items(quick_pages))
    assert quick_state["reconciled_at"] == state["reconciled_at"]
    assert simulator.account_stats(sim_id)["requests_by_path"][archive] == archive_reads

    hour_later = {**quick_state, "reconciled_at": (timezone.now() - timedelta(hours=1)).isoformat()}
    pages, final_state = _run(client, "review", hour_later)
    answered = {item.external_id: item for item in _items(pages)}[old.external_id]
    assert answered.is_answered is True
    assert final_state["reconciled_at"] > state["reconciled_at"]


def test_fetch_page_reports_a_malformed_review_and_keeps_the_rest(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=12, archived_reviews=0)
    simulator.add_fault(sim_id, "malformed", count=1, path_contains="/api/v1/feedbacks")
    client = WBClient(account, page_size=5)

    page = client.fetch_page("review", {})

    assert len(page.items) == 4
    [broken] = page.malformed
    assert isinstance(broken, MalformedItem)
    assert broken.channel == "review"
    assert broken.error in {"id: missing or not a string", "productValuation: expected an integer"}
    assert len(broken.raw_excerpt) <= 300
    assert page.done is False


def test_fetch_page_of_questions_reads_every_question(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, questions=33)
    client = WBClient(account, page_size=7)

    pages, state = _run(client, "question")

    truth = simulator.truth(sim_id)["questions"]
    assert _ids(pages) == set(truth["ids"])
    answered = {item.external_id for item in _items(pages) if item.is_answered}
    assert answered == set(truth["answered_ids"])
    assert len(pages) >= 5
    assert "watermark" in state


def test_has_news_follows_wbs_unseen_flag_once_synced(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, archived_reviews=0, questions=0)
    synced = {"watermark": "2026-01-01T00:00:00+00:00"}

    before = WBClient(account).has_news("review", synced)
    simulator.generate(sim_id, reviews=1)
    client = WBClient(account)  # a client serves one sync run
    after = client.has_news("review", synced)

    assert (before, after) == (False, True)
    assert client.has_news("question", synced) is False
    assert client.has_news("review", {}) is True
    assert client.has_news("chat", synced) is True
    # One request answered for both channels of the run.
    requests = simulator.account_stats(sim_id)["requests_by_path"]
    assert requests["feedbacks-api.wildberries.ru/api/v1/new-feedbacks-questions"] == 2


def test_has_news_of_an_empty_channel_follows_the_flag_after_its_first_run(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, archived_reviews=0, questions=0)
    _pages, state = _run(WBClient(account), "question")

    quiet = WBClient(account).has_news("question", state)
    simulator.generate(sim_id, questions=1)
    news = WBClient(account).has_news("question", state)

    assert "watermark" not in state
    assert (quiet, news) == (False, True)


# --------------------------------------------------------------------------- chat
def test_fetch_page_of_chat_follows_the_events_cursor_to_the_end(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, chats=4)
    simulator.generate(sim_id, chat_messages=150)
    client = WBClient(account)

    pages, state = _run(client, "chat")

    truth = simulator.truth(sim_id)["chats"]
    message_ids = [m.external_id for item in _items(pages) for m in item.messages]
    assert sorted(message_ids) == sorted(truth["event_ids"])
    assert _ids(pages) == set(truth["ids"])
    assert isinstance(state["next"], int)
    requests = simulator.account_stats(sim_id)["requests_by_path"]
    assert requests["buyer-chat-api.wildberries.ru/api/v1/seller/events"] >= 3
    # The chat list (every chat at once) is read once per run, not once per page.
    assert requests["buyer-chat-api.wildberries.ru/api/v1/seller/chats"] == 1


def test_chat_list_is_read_again_when_an_event_names_a_new_chat(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, chats=2)
    client = WBClient(account)
    _pages, state = _run(client, "chat")
    simulator.generate(sim_id, chats=1)

    pages, _state = _run(client, "chat", state)

    [new_chat] = [item for item in _items(pages) if item.external_id not in _ids(_pages)]
    assert new_chat.extra["reply_sign"] != ""
    requests = simulator.account_stats(sim_id)["requests_by_path"]
    assert requests["buyer-chat-api.wildberries.ru/api/v1/seller/chats"] == 2


def test_next_chat_run_reads_only_new_messages(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, chats=3)
    client = WBClient(account)
    _pages, state = _run(client, "chat")
    new_ids = simulator.generate(sim_id, chat_messages=2)["chat_messages"]

    pages, _state = _run(client, "chat", state)

    messages = [m for item in _items(pages) for m in item.messages]
    assert sorted(m.external_id for m in messages) == sorted(new_ids)
    assert {(m.direction, m.author_type) for m in messages} == {("in", "customer")}
    chat = _items(pages)[0]
    assert chat.customer_external_id != ""
    assert chat.customer_name != ""
    assert chat.product_external_id.isdigit()
    assert chat.extra["reply_sign"] != ""


def test_chat_page_with_a_base_token_does_not_wait_an_hour_for_the_chat_list(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, chats=2, token_type="base")
    client = WBClient(account)

    page = client.fetch_page("chat", {})

    assert _ids([page]) == set(simulator.truth(sim_id)["chats"]["ids"])
    assert all(item.customer_name for item in page.items)
    assert simulator.account_stats(sim_id)["requests_by_path"] == {
        "buyer-chat-api.wildberries.ru/api/v1/seller/events": 1
    }


def test_publish_to_chat_sends_a_message_that_comes_back_as_a_seller_event(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, chats=2)
    client = WBClient(account)
    _pages, state = _run(client, "chat")
    chat_id = simulator.truth(sim_id)["chats"]["ids"][0]

    result = client.publish("chat", chat_id, "Здравствуйте! Уже разбираемся.", idempotency_key="m1")
    pages, _state = _run(client, "chat", state)

    [item] = _items(pages)
    [message] = item.messages
    assert (item.external_id, message.direction, message.author_type, message.text) == (
        chat_id,
        "out",
        "seller",
        "Здравствуйте! Уже разбираемся.",
    )
    assert message.occurred_at == result.sent_at


# --------------------------------------------------------------------------- publishing
def test_publish_review_answer_is_read_back_under_moderation(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=5)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    client = WBClient(account)

    client.publish("review", review_id, "Спасибо за отзыв!", idempotency_key="a1")
    state = client.read_answer("review", review_id)

    assert (state.exists, state.text, state.editable, state.moderation_state) == (
        True,
        "Спасибо за отзыв!",
        True,
        "reviewRequired",
    )


def test_a_second_answer_to_a_review_is_rejected(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=5)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    client = WBClient(account)
    client.publish("review", review_id, "Спасибо за отзыв!", idempotency_key="a1")

    with pytest.raises(PublishRejected) as raised:
        client.publish("review", review_id, "Ещё раз спасибо!", idempotency_key="a2")

    assert "Ответ на этот отзыв уже опубликован" in str(raised.value)
    assert client.read_answer("review", review_id).text == "Спасибо за отзыв!"


def test_editing_a_review_answer_works_once(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=5)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    client = WBClient(account)
    client.publish("review", review_id, "Спасибо!", idempotency_key="a1")

    client.publish("review", review_id, "Спасибо за отзыв!", idempotency_key="a2", is_edit=True)
    with pytest.raises(PublishRejected):
        client.publish("review", review_id, "Третий текст", idempotency_key="a3", is_edit=True)

    state = client.read_answer("review", review_id)
    assert (state.text, state.editable) == ("Спасибо за отзыв!", False)


def test_publish_refuses_a_text_over_the_limit_without_calling_wb(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=5)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    client = WBClient(account)

    with pytest.raises(PublishRejected) as raised:
        client.publish("review", review_id, "я" * 5001, idempotency_key="a1")

    assert str(raised.value) == "The answer must be 2 to 5000 characters long; it has 5001."
    assert simulator.answers(sim_id) == []


def test_text_limits_follow_the_contract(simulator: SimulatorFixture, workspace: Workspace) -> None:
    client = WBClient(make_account(workspace=workspace))

    assert [client.text_limits(c) for c in ("review", "question", "chat")] == [
        (2, 5000),
        (2, 5000),
        (1, 1000),
    ]


def test_publish_question_answer_and_refuse_a_second_one_without_editing(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, questions=5)
    question_id = simulator.truth(sim_id)["questions"]["unanswered_ids"][0]
    client = WBClient(account)

    client.publish("question", question_id, "Да, подойдёт на рост 182 см.", idempotency_key="q1")
    with pytest.raises(PublishRejected):
        client.publish("question", question_id, "Другой ответ", idempotency_key="q2")

    state = client.read_answer("question", question_id)
    assert (state.exists, state.text, state.editable, state.moderation_state) == (
        True,
        "Да, подойдёт на рост 182 см.",
        True,
        "wbRu",
    )
    assert [a["kind"] for a in simulator.answers(sim_id)] == ["create"]


def test_answer_to_an_unknown_review_is_caught_by_reading_back(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, reviews=1)
    client = WBClient(account)

    client.publish("review", "NoSuchReview00000000", "Спасибо за отзыв!", idempotency_key="x")

    with pytest.raises(MarketplaceError) as raised:
        client.read_answer("review", "NoSuchReview00000000")
    assert "Невозможно получить отзыв по id" in str(raised.value)


# --------------------------------------------------------------------------- failures
def test_a_429_is_honoured_for_its_retry_header_then_the_read_succeeds(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3, archived_reviews=0)
    simulator.add_fault(sim_id, "429", count=1, path_contains="/api/v1/feedbacks")
    client = WBClient(account)

    started = time.monotonic()
    page = client.fetch_page("review", {})
    elapsed = time.monotonic() - started

    # The page gathers the run's phases: the 429, the unanswered and answered lists, the archive.
    assert len(page.items) == simulator.truth(sim_id)["reviews"]["total"]
    assert elapsed >= 1.0  # the simulator sends X-Ratelimit-Retry: 1
    assert simulator.account_stats(sim_id)["requests_by_path"] == {
        f"{FEEDBACKS}/api/v1/feedbacks": 3,
        f"{FEEDBACKS}/api/v1/feedbacks/archive": 1,
    }


def test_repeated_429s_end_in_rate_limited_with_the_retry_after(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3)
    simulator.add_fault(sim_id, "429", count=3)
    client = WBClient(account)

    with pytest.raises(RateLimited) as raised:
        client.fetch_page("review", {})

    assert raised.value.retry_after == 1.0
    assert simulator.account_stats(sim_id)["requests"] == 3


def test_a_5xx_read_is_retried(simulator: SimulatorFixture, workspace: Workspace) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3, archived_reviews=0)
    simulator.add_fault(sim_id, "500", count=2)
    client = WBClient(account)

    page = client.fetch_page("review", {})

    # Two 500s, then the run's three lists (unanswered, answered, archive) in one page.
    assert len(page.items) == simulator.truth(sim_id)["reviews"]["total"]
    assert simulator.account_stats(sim_id)["requests"] == 5


def test_a_persistent_5xx_ends_in_transient_error(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3)
    simulator.add_fault(sim_id, "500", count=5)
    client = WBClient(account)

    with pytest.raises(TransientMarketplaceError) as raised:
        client.fetch_page("review", {})

    assert type(raised.value) is TransientMarketplaceError
    assert simulator.account_stats(sim_id)["requests"] == http.MAX_ATTEMPTS


def test_a_timed_out_read_is_retried_then_reported_transient(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3)
    simulator.add_fault(sim_id, "timeout", count=3, delay_seconds=1.5)
    client = WBClient(account, timeout=httpx.Timeout(5.0, read=0.5))

    with pytest.raises(TransientMarketplaceError) as raised:
        client.fetch_page("review", {})

    assert str(raised.value) == "The marketplace did not answer in time."
    assert simulator.account_stats(sim_id)["requests"] == 3


def test_a_failed_write_is_not_resent(simulator: SimulatorFixture, workspace: Workspace) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    simulator.add_fault(sim_id, "500", count=1, path_contains="/answer")
    client = WBClient(account)

    with pytest.raises(TransientMarketplaceError):
        client.publish("review", review_id, "Спасибо за отзыв!", idempotency_key="w1")

    assert simulator.account_stats(sim_id)["requests_by_path"] == {
        f"{FEEDBACKS}/api/v1/feedbacks/answer": 1
    }
    assert client.read_answer("review", review_id).exists is False


def test_a_revoked_token_raises_auth_error_without_the_token_in_it(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3)
    simulator.add_fault(sim_id, "revoked")
    client = WBClient(account)

    with pytest.raises(AuthError) as raised:
        client.fetch_page("review", {})

    message = str(raised.value)
    assert message == (
        "The marketplace rejected the credentials (HTTP 401): token problem; token is revoked"
    )
    assert account.credentials["token"] not in message
    assert simulator.account_stats(sim_id)["requests"] == 1


def test_a_read_only_token_cannot_publish(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=3, read_only=True)
    review_id = simulator.truth(sim_id)["reviews"]["unanswered_ids"][0]
    client = WBClient(account)

    with pytest.raises(AuthError):
        client.publish("review", review_id, "Спасибо за отзыв!", idempotency_key="r1")

    assert client.read_answer("review", review_id).exists is False


# --------------------------------------------------------------------------- products
def test_fetch_products_reads_cards_from_the_content_api(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, products=5)
    nm_ids = [str(nm) for nm in simulator.truth(sim_id)["products"]["nm_ids"][:3]]
    client = WBClient(account)

    cards = client.fetch_products([*nm_ids, "999999999"])

    assert [card.external_id for card in cards] == nm_ids
    assert all(card.name and card.brand and card.article for card in cards)
    assert {card.card_data["source"] for card in cards} == {"content_api"}


def test_fetch_products_walks_the_card_list_for_many_ids(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, products=130)
    nm_ids = [str(nm) for nm in simulator.truth(sim_id)["products"]["nm_ids"]][-15:]
    client = WBClient(account)

    cards = client.fetch_products(nm_ids)

    assert [card.external_id for card in cards] == nm_ids
    paths = simulator.account_stats(sim_id)["requests_by_path"]
    assert paths["content-api.wildberries.ru/content/v2/get/cards/list"] <= 2


def test_fetch_products_without_content_scope_uses_the_storefront_card(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, reviews=0, products=3, categories=[7, 9])
    nm_id = simulator.truth(sim_id)["products"]["nm_ids"][0]
    client = WBClient(account)

    [card] = client.fetch_products([str(nm_id)])

    assert card.external_id == str(nm_id)
    assert card.name != ""
    assert card.card_data["source"] == "card_json"
    assert card.image_url.startswith(
        f"https://basket-{basket_number(nm_id // 100_000):02d}.wbbasket.ru/"
    )
    assert (
        "content-api.wildberries.ru/content/v2/get/cards/list"
        not in (simulator.account_stats(sim_id)["requests_by_path"])
    )


@pytest.mark.parametrize(
    ("vol", "number"), [(0, 1), (143, 1), (144, 2), (719, 4), (2189, 14), (2190, 15), (3918, 23)]
)
def test_basket_number_follows_the_contract_table(vol: int, number: int) -> None:
    assert basket_number(vol) == number


# --------------------------------------------------------------------------- connection check
def test_check_connection_accepts_a_service_token(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, token_type="service")

    report = WBClient(account).check_connection()

    assert (report.ok, report.token_type, report.error, report.warnings) == (
        True,
        "service",
        "",
        (),
    )
    assert [(c.channel, c.available, c.message) for c in report.channels] == [
        ("review", True, ""),
        ("question", True, ""),
        ("chat", True, ""),
        ("product", True, ""),
    ]
    assert report.suggested_interval_seconds == 5


def test_check_connection_warns_about_a_base_tokens_hourly_limits(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, token_type="base")

    report = WBClient(account).check_connection()

    assert report.ok is True
    assert report.token_type == "base"
    assert report.warnings == (
        "This is a Base token: Wildberries allows it only 5 requests per hour for reviews and "
        "questions and 1 request per hour for chats, so new items will arrive about once an "
        "hour. For a live inbox use a Service token.",
    )
    assert report.suggested_interval_seconds == 3600


def test_check_connection_warns_that_personal_tokens_are_not_for_cloud_services(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, token_type="personal")

    report = WBClient(account).check_connection()

    assert report.ok is True
    assert report.warnings == (
        "This is a Personal token: Wildberries rules forbid using personal tokens in cloud "
        "services such as AgentIQ. Create a Service or Base token instead.",
    )


def test_check_connection_says_a_read_only_token_cannot_answer(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, token_type="service", read_only=True)

    report = WBClient(account).check_connection()

    note = (
        "The token is read-only: items are synced, but answers cannot be published. Create a "
        "token without the read-only option to answer from AgentIQ."
    )
    assert report.ok is True
    assert report.warnings == (note,)
    assert [(c.channel, c.available, c.message) for c in report.channels[:3]] == [
        ("review", True, note),
        ("question", True, note),
        ("chat", True, note),
    ]


def test_check_connection_explains_missing_categories(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, token_type="service", categories=[7])

    report = WBClient(account).check_connection()

    assert report.ok is True
    assert [(c.channel, c.available) for c in report.channels] == [
        ("review", True),
        ("question", True),
        ("chat", False),
        ("product", False),
    ]
    assert report.channels[2].message == (
        "The token has no access to the «Buyers chat» category: chats cannot be synced. Add "
        "this category to the token."
    )
    # Pings go only to the hosts the token may reach.
    assert set(simulator.account_stats(sim_id)["requests_by_path"]) == {f"{FEEDBACKS}/ping"}


def test_check_connection_fails_without_any_inbox_category(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, _sim_id = _connect(simulator, workspace, token_type="service", categories=[1])

    report = WBClient(account).check_connection()

    assert report.ok is False
    assert (
        report.error == "The token gives no access to reviews, questions or chats on Wildberries."
    )


def test_check_connection_reports_a_revoked_token_per_channel(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    account, sim_id = _connect(simulator, workspace, token_type="service")
    simulator.add_fault(sim_id, "revoked")

    report = WBClient(account).check_connection()

    assert report.ok is False
    assert report.channels[0].message == (
        "The marketplace rejected the credentials (HTTP 401): token problem; token is revoked"
    )


def test_check_connection_warns_about_a_token_expiring_soon(
    simulator: SimulatorFixture, workspace: Workspace
) -> None:
    now = datetime.now(UTC)
    token = make_wb_token(
        seller_id="s-1", token_type="service", expires_at=now + timedelta(days=10, hours=1)
    )
    simulator.create_wb_account(token=token, reviews=0)
    account = make_account(
        workspace=workspace, base_url=simulator.url, credentials={"token": token}
    )

    report = WBClient(account).check_connection(now=now)

    expiry = (now + timedelta(days=10, hours=1)).date().isoformat()
    assert report.warnings == (
        f"The token expires in 10 days ({expiry}). Create a new one in time.",
    )


def test_check_connection_refuses_expired_test_and_garbage_tokens(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    expired = make_wb_token(seller_id="s", expires_at=now - timedelta(days=1))
    test_token = make_wb_token(seller_id="s", token_type="test")

    reports = [
        WBClient(make_account(workspace=workspace, credentials={"token": token})).check_connection(
            now=now
        )
        for token in (expired, test_token, "garbage", "")
    ]

    assert [report.ok for report in reports] == [False, False, False, False]
    assert reports[0].error.startswith("The token expired on ")
    assert reports[1].error.startswith("This is a test token")
    assert reports[2].error == (
        "This is not a Wildberries API token. Copy the whole token from the seller portal."
    )
    assert reports[3].error == "No token is set for this account."


# --------------------------------------------------------------------------- registry
def test_client_for_returns_a_wb_client_for_a_wb_account(workspace: Workspace) -> None:
    assert isinstance(client_for(make_account(workspace=workspace, marketplace="wb")), WBClient)


def test_client_for_refuses_an_unknown_marketplace(workspace: Workspace) -> None:
    # Unsaved: the database would refuse a marketplace it does not know.
    account = MarketplaceAccount(workspace=workspace, marketplace="yandex", name="Маркет")

    with pytest.raises(UnsupportedMarketplace):
        client_for(account)


def test_read_answer_of_a_chat_is_not_supported(workspace: Workspace) -> None:
    client = WBClient(make_account(workspace=workspace))

    with pytest.raises(AnswerNotReadable):
        client.read_answer("chat", "1:7c2a0e5b-3f1d-4a77-9a0e-5d2b8f6c1e90")
