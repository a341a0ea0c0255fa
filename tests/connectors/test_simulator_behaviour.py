"""Behaviour of the WB simulator: pagination, limits, faults, stats, answers and token checks."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.simulator import data
from connectors.simulator.tokens import decode_wb_token, make_wb_token
from tests.conftest import SimulatorFixture

FEEDBACKS = "feedbacks-api.wildberries.ru"
CHAT = "buyer-chat-api.wildberries.ru"
CONTENT = "content-api.wildberries.ru"


def _get(
    simulator: SimulatorFixture, token: str, host: str, path: str, **params: object
) -> httpx.Response:
    return httpx.get(
        simulator.api_url(host, path), params=params, headers={"Authorization": token}, timeout=30
    )


def _answer(
    simulator: SimulatorFixture, token: str, review_id: str, text: str, method: str = "POST"
) -> httpx.Response:
    return httpx.request(
        method,
        simulator.api_url(FEEDBACKS, "/api/v1/feedbacks/answer"),
        json={"id": review_id, "text": text},
        headers={"Authorization": token},
        timeout=30,
    )


def _unanswered_feedbacks(
    simulator: SimulatorFixture, token: str, *, take: int = 5000, skip: int = 0, **params: object
) -> list[dict]:
    return _get(
        simulator,
        token,
        FEEDBACKS,
        "/api/v1/feedbacks",
        isAnswered="false",
        take=take,
        skip=skip,
        **params,
    ).json()["data"]["feedbacks"]


def _chat_events(
    simulator: SimulatorFixture, token: str, cursor: int | None = None
) -> tuple[list[dict], int | None]:
    """Every chat event after `cursor`, and the cursor to go on from."""
    events: list[dict] = []
    while True:
        params = {} if cursor is None else {"next": cursor}
        result = _get(simulator, token, CHAT, "/api/v1/seller/events", **params).json()["result"]
        if result["totalEvents"] == 0:
            return events, cursor
        events.extend(result["events"])
        cursor = result["next"]


def _all_unanswered_ids(
    simulator: SimulatorFixture, token: str, take: int, **params: object
) -> list[str]:
    ids: list[str] = []
    skip = 0
    while True:
        page = _unanswered_feedbacks(simulator, token, take=take, skip=skip, **params)
        ids.extend(item["id"] for item in page)
        if len(page) < take:
            return ids
        skip += take


def test_make_wb_token_round_trips_claims() -> None:
    expires_at = datetime(2030, 1, 1, tzinfo=UTC)

    claims = decode_wb_token(
        make_wb_token(
            seller_id="sid-1",
            token_type="service",
            categories=(7, 9),
            read_only=True,
            expires_at=expires_at,
        )
    )

    assert (
        claims.seller_id,
        claims.token_type.name,
        claims.categories,
        claims.is_read_only,
        claims.expires_at,
    ) == (
        "sid-1",
        "SERVICE",
        frozenset({7, 9, 30}),
        True,
        expires_at,
    )


def test_account_creation_is_idempotent_per_token(simulator: SimulatorFixture) -> None:
    token = make_wb_token(seller_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")

    first = simulator.create_wb_account(token=token, reviews=3)
    second = simulator.create_wb_account(token=token, reviews=3)

    assert (second.account_id, second.created) == (first.account_id, False)


def test_same_seed_gives_same_data(simulator: SimulatorFixture) -> None:
    first = simulator.create_wb_account(seed=42, reviews=20, questions=5, chats=2)
    second = simulator.create_wb_account(seed=42, reviews=20, questions=5, chats=2)

    first_ids = simulator.truth(first.account_id)["reviews"]["ids"]
    second_ids = simulator.truth(second.account_id)["reviews"]["ids"]

    assert first_ids == second_ids


def test_review_texts_speak_of_their_products_kind_of_goods(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=11, reviews=400, limits=False)
    topic_of_name = {
        name: data.CATEGORY_TOPICS.get(category.code)
        for category in data.CATEGORIES
        for name in category.names
    }

    page = _unanswered_feedbacks(simulator, handle.token)

    texts = [
        (topic_of_name[item["productDetails"]["productName"]], item["text"])
        for item in page
        if item["text"]
    ]
    assert len(texts) > 200
    assert all(data.text_topic(text) in (None, topic) for topic, text in texts)
    assert {topic for topic, text in texts if topic and data.text_topic(text) == topic} == set(
        data.TEXT_TOPICS
    )


def test_questions_ask_about_size_only_of_what_is_worn(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=11, questions=200, limits=False)
    worn = {name: c.has_size_fit for c in data.CATEGORIES for name in c.names}

    questions = _get(
        simulator,
        handle.token,
        FEEDBACKS,
        "/api/v1/questions",
        isAnswered="false",
        take=500,
        skip=0,
    ).json()["data"]["questions"]

    sizes = [
        worn[q["productDetails"]["productName"]]
        for q in questions
        if re.search(r"размер|рост|стирать", q["text"])
    ]
    assert sizes and all(sizes)


def test_feedback_pages_cover_every_unanswered_review_once(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=230, limits=False)
    truth = simulator.truth(handle.account_id)

    ids = _all_unanswered_ids(simulator, handle.token, 50, order="dateAsc")

    assert sorted(ids) == sorted(truth["reviews"]["unanswered_ids"])
    assert len(ids) == len(set(ids))


def test_feedback_date_window_filters_by_created_date(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=100, limits=False)
    date_from = int((datetime.now(UTC) - timedelta(days=7)).timestamp())

    page = _unanswered_feedbacks(simulator, handle.token, dateFrom=date_from)

    created = [datetime.fromisoformat(item["createdDate"]).timestamp() for item in page]
    assert created == sorted(created, reverse=True)
    assert all(stamp >= date_from for stamp in created)


def test_generated_reviews_appear_first_with_requested_rating(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=10, limits=False)

    new_ids = simulator.generate(handle.account_id, reviews=3, rating=1, with_text=False)["reviews"]
    page = _unanswered_feedbacks(simulator, handle.token, take=3, order="dateDesc")

    assert [item["id"] for item in page] == new_ids[::-1]
    assert {
        (item["productValuation"], item["text"], item["pros"], item["cons"]) for item in page
    } == {(1, "", "", "")}


def test_answer_moves_review_and_second_answer_is_refused(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=10, limits=False, moderation_seconds=0)
    review_id = simulator.truth(handle.account_id)["reviews"]["unanswered_ids"][0]

    first = _answer(simulator, handle.token, review_id, "Спасибо за отзыв!")
    second = _answer(simulator, handle.token, review_id, "Спасибо за отзыв!")
    review = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedback", id=review_id).json()[
        "data"
    ]
    stats = simulator.account_stats(handle.account_id)

    assert (first.status_code, second.status_code) == (204, 400)
    assert review["answer"] == {"text": "Спасибо за отзыв!", "state": "wbRu", "editable": True}
    assert (stats["answers_received"], stats["duplicate_answers"]) == ({review_id: 2}, 1)
    assert review_id not in simulator.truth(handle.account_id)["reviews"]["unanswered_ids"]


def test_answer_is_under_moderation_until_the_delay_passes(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=5, limits=False, moderation_seconds=60)
    review_id = simulator.truth(handle.account_id)["reviews"]["unanswered_ids"][0]

    _answer(simulator, handle.token, review_id, "Спасибо!")
    review = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedback", id=review_id).json()[
        "data"
    ]

    assert (review["state"], review["answer"]["state"]) == ("wbRu", "reviewRequired")


def test_answer_edit_is_allowed_once(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=5, limits=False)
    review_id = simulator.truth(handle.account_id)["reviews"]["unanswered_ids"][0]
    _answer(simulator, handle.token, review_id, "Спасибо!")

    first_edit = _answer(simulator, handle.token, review_id, "Благодарим!", method="PATCH")
    second_edit = _answer(simulator, handle.token, review_id, "Ещё раз!", method="PATCH")

    assert (first_edit.status_code, second_edit.status_code) == (204, 400)
    assert second_edit.json()["errorText"] == "Ответ нельзя отредактировать"


@pytest.mark.parametrize(
    ("text", "status"), [("a", 400), ("ok", 204), ("я" * 5000, 204), ("я" * 5001, 400)]
)
def test_answer_length_limits(simulator: SimulatorFixture, text: str, status: int) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)
    review_id = simulator.truth(handle.account_id)["reviews"]["unanswered_ids"][0]

    response = _answer(simulator, handle.token, review_id, text)

    assert response.status_code == status


def test_question_answer_can_be_edited_once(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, questions=5, limits=False)
    question_id = simulator.truth(handle.account_id)["questions"]["unanswered_ids"][0]
    url = simulator.api_url(FEEDBACKS, "/api/v1/questions")
    headers = {"Authorization": handle.token}

    statuses = [
        httpx.patch(
            url,
            json={"id": question_id, "answer": {"text": text}, "state": "wbRu"},
            headers=headers,
        ).status_code
        for text in ("Первый ответ", "Исправленный ответ", "Третий ответ")
    ]
    question = _get(simulator, handle.token, FEEDBACKS, "/api/v1/question", id=question_id).json()[
        "data"
    ]

    assert statuses == [200, 200, 400]
    assert (question["state"], question["answer"]["text"], question["answer"]["editable"]) == (
        "wbRu",
        "Исправленный ответ",
        False,
    )


def test_rate_limit_429_carries_documented_headers_and_counts_overrun(
    simulator: SimulatorFixture,
) -> None:
    # A Base token's bucket (5 per hour, burst 1) cannot refill between two requests,
    # however slow the machine is: the second request is always an overrun.
    handle = simulator.create_wb_account(seed=5, reviews=3, token_type="base")

    first = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")
    limited = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")

    assert (first.status_code, first.headers.get("X-Ratelimit-Remaining")) == (200, "0")
    assert limited.status_code == 429
    assert limited.json()["status"] == 429
    assert (limited.headers["X-Ratelimit-Retry"], limited.headers["X-Ratelimit-Limit"]) == (
        "720",
        "1",
    )
    assert "X-Ratelimit-Remaining" not in limited.headers
    assert int(limited.headers["X-Ratelimit-Reset"]) >= 1
    stats = simulator.account_stats(handle.account_id)
    assert (stats["responses_429"], stats["rate_limit_overruns"]) == (1, 1)


def test_base_token_gets_base_limits(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, token_type="base")

    statuses = [
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered").status_code
        for _ in range(2)
    ]

    assert statuses == [200, 429]


def test_limits_off_never_limits(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)

    statuses = {
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered").status_code
        for _ in range(20)
    }

    assert statuses == {200}


def test_injected_429_and_500_hit_only_matching_requests(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)
    simulator.add_fault(handle.account_id, "429", count=1, path_contains="/questions")
    simulator.add_fault(handle.account_id, "500", count=1)

    statuses = [
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/questions/count-unanswered").status_code,
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered").status_code,
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered").status_code,
    ]
    stats = simulator.account_stats(handle.account_id)

    assert statuses == [429, 500, 200]
    assert (stats["responses_429"], stats["rate_limit_overruns"]) == (1, 0)


def test_malformed_fault_corrupts_one_item_of_next_page(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=5, limits=False, answered_share=0)
    simulator.add_fault(handle.account_id, "malformed", count=1)

    corrupted = _get(
        simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks", isAnswered="false", take=5, skip=0
    )
    clean = _get(
        simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks", isAnswered="false", take=5, skip=0
    )

    first = corrupted.json()["data"]["feedbacks"][0]
    assert "id" not in first or not isinstance(first["productValuation"], int)
    assert all(
        isinstance(item["productValuation"], int) and "id" in item
        for item in clean.json()["data"]["feedbacks"]
    )


def test_slow_fault_delays_the_response(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)
    simulator.add_fault(handle.account_id, "slow", count=1, delay_seconds=0.5)

    started = time.monotonic()
    response = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.5


def test_timeout_fault_makes_the_client_time_out(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)
    simulator.add_fault(handle.account_id, "timeout", count=1, delay_seconds=1.0)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            simulator.api_url(FEEDBACKS, "/api/v1/feedbacks/count-unanswered"),
            headers={"Authorization": handle.token},
            timeout=0.3,
        )


def test_revoked_token_is_refused_until_restored(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)
    simulator.add_fault(handle.account_id, "revoked")

    revoked = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")
    simulator.restore_token(handle.account_id)
    restored = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")

    assert (revoked.status_code, restored.status_code) == (401, 200)


def test_token_category_must_match_host(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, chats=1, categories=[7], limits=False)

    feedbacks = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")
    chats = _get(simulator, handle.token, CHAT, "/api/v1/seller/chats")

    assert (feedbacks.status_code, chats.status_code) == (200, 401)


def test_read_only_token_cannot_answer(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, read_only=True, limits=False)
    review_id = simulator.truth(handle.account_id)["reviews"]["unanswered_ids"][0]

    read = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedback", id=review_id)
    write = _answer(simulator, handle.token, review_id, "Спасибо!")

    assert (read.status_code, write.status_code) == (200, 401)


def test_expired_token_is_refused(simulator: SimulatorFixture) -> None:
    token = make_wb_token(seller_id="sid-expired", expires_at=datetime.now(UTC) - timedelta(days=1))
    simulator.create_wb_account(token=token, reviews=1, limits=False)

    response = _get(simulator, token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")

    assert (response.status_code, response.json()["detail"]) == (
        401,
        "token problem; token is expired",
    )


def test_test_token_works_only_on_sandbox(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=2, token_type="test", limits=False)

    production = _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")
    sandbox = _get(
        simulator,
        handle.token,
        "feedbacks-api-sandbox.wildberries.ru",
        "/api/v1/feedbacks/count-unanswered",
    )

    assert (production.status_code, sandbox.status_code) == (401, 200)


def test_chat_events_cursor_reaches_new_messages_exactly_once(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, chats=3, limits=False)
    truth_before = simulator.truth(handle.account_id)["chats"]["event_ids"]
    seen: list[str] = []
    cursor: int | None = None
    for _ in range(2):
        events, cursor = _chat_events(simulator, handle.token, cursor)
        seen.extend(event["eventID"] for event in events)
        if len(seen) == len(truth_before):
            new = simulator.generate(handle.account_id, chat_messages=2)["chat_messages"]

    assert seen == truth_before + new


def test_chat_history_answers_the_buyers_first_message(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, chats=40, limits=False)
    by_chat: dict[str, list[str]] = {}
    events, _cursor = _chat_events(simulator, handle.token)
    for event in events:
        by_chat.setdefault(event["chatID"], []).append(event["message"]["text"])

    answers = dict(data.CHAT_OPENINGS)
    talks = [texts for texts in by_chat.values() if len(texts) >= 2]
    assert len(talks) > 10
    assert all(texts[1] == answers[texts[0]] for texts in talks)


def test_chat_send_appears_as_seller_event_and_counts_answers(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, chats=1, limits=False)
    chat = _get(simulator, handle.token, CHAT, "/api/v1/seller/chats").json()["result"][0]
    url = simulator.api_url(CHAT, "/api/v1/seller/message")
    text = "Здравствуйте! Отправили замену."
    # (None, value) parts make httpx send multipart/form-data without files, as the contract requires.
    form = {"replySign": (None, chat["replySign"]), "message": (None, text)}
    headers = {"Authorization": handle.token}

    sent = [httpx.post(url, files=form, headers=headers).status_code for _ in range(2)]
    too_long = httpx.post(url, files={**form, "message": (None, "я" * 1001)}, headers=headers)
    answers = simulator.answers(handle.account_id)
    stats = simulator.account_stats(handle.account_id)

    assert sent == [200, 200]
    assert (too_long.status_code, too_long.json()["detail"]) == (400, 'Invalid value for "message"')
    assert [(a["channel"], a["item_id"], a["text"]) for a in answers] == [
        ("chat", chat["chatID"], text)
    ] * 2
    assert stats["duplicate_answers"] == 1


def test_chat_file_upload_is_downloadable(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, chats=1, limits=False)
    chat = _get(simulator, handle.token, CHAT, "/api/v1/seller/chats").json()["result"][0]

    httpx.post(
        simulator.api_url(CHAT, "/api/v1/seller/message"),
        data={"replySign": chat["replySign"]},
        files={"file": ("act.pdf", b"%PDF-1.4 test", "application/pdf")},
        headers={"Authorization": handle.token},
    )
    events = _get(simulator, handle.token, CHAT, "/api/v1/seller/events").json()["result"]["events"]
    download_id = events[-1]["message"]["attachments"]["files"][0]["downloadID"]
    downloaded = _get(simulator, handle.token, CHAT, f"/api/v1/seller/download/{download_id}")

    assert (downloaded.status_code, downloaded.content) == (200, b"%PDF-1.4 test")


def test_arrivals_add_reviews_over_time(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(
        seed=5, reviews=0, archived_reviews=0, arrival_per_minute={"review": 600}
    )

    time.sleep(0.3)
    _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")

    assert simulator.truth(handle.account_id)["reviews"]["total"] >= 2


def test_ozon_arrivals_add_reviews_and_questions_over_time(simulator: SimulatorFixture) -> None:
    handle = simulator.create_ozon_account(
        seed=5,
        reviews=0,
        questions=0,
        chats=0,
        limits=False,
        arrival_per_minute={"review": 600, "question": 600},
    )

    time.sleep(0.3)
    response = httpx.post(
        simulator.api_url("api-seller.ozon.ru", "/v1/question/count"),
        headers={"Client-Id": handle.client_id, "Api-Key": handle.api_key},
        json={},
    )

    assert response.status_code == 200
    truth = simulator.truth(handle.account_id)
    assert truth["reviews"]["total"] >= 2
    assert truth["questions"]["total"] >= 2


def test_stats_count_requests_by_path(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=3, limits=False)

    for _ in range(3):
        _get(simulator, handle.token, FEEDBACKS, "/api/v1/feedbacks/count-unanswered")
    stats = simulator.stats()

    assert stats["accounts"][handle.account_id]["requests_by_path"] == {
        f"{FEEDBACKS}/api/v1/feedbacks/count-unanswered": 3
    }
    assert stats["total_requests"] == 3


def test_unknown_path_is_gateway_404(simulator: SimulatorFixture) -> None:
    handle = simulator.create_wb_account(seed=5, reviews=1)

    response = _get(simulator, handle.token, CONTENT, "/content/v9/nothing")

    assert (response.status_code, response.json()["title"]) == (404, "path not found")
