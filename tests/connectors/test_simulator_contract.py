"""Every WB endpoint of the simulator, success and error, validated against WB's own OpenAPI documents.

The documents are read in place from ``../shared/specs/upstream`` (never copied into this repository).
Both the request we send and the simulator's response are validated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from connectors.simulator.data import basket_host, card_base_path
from connectors.simulator.tokens import make_wb_token
from tests.conftest import SimulatorFixture

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_CANDIDATES = (
    REPO_ROOT / ".." / "shared" / "specs" / "upstream",
    Path("/work/shared/specs/upstream"),
)
UPSTREAM = next((path for path in UPSTREAM_CANDIDATES if path.is_dir()), None)

pytestmark = pytest.mark.skipif(
    UPSTREAM is None, reason="official OpenAPI documents are not available"
)

FEEDBACKS = "feedbacks-api.wildberries.ru"
CHAT = "buyer-chat-api.wildberries.ru"
CONTENT = "content-api.wildberries.ru"
COMMON = "common-api.wildberries.ru"
DOCUMENT_BY_HOST = {
    FEEDBACKS: "09-communications.yaml",
    CHAT: "09-communications.yaml",
    CONTENT: "02-products.yaml",
    COMMON: "01-general.yaml",
}


@dataclass(frozen=True, slots=True)
class Contract:
    documents: dict[str, OpenAPI]
    simulator: SimulatorFixture
    http: httpx.Client

    def call(
        self,
        method: str,
        host: str,
        path: str,
        *,
        token: str | None,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
        content_type: str | None = None,
        spec_path: str | None = None,
        path_args: dict[str, str] | None = None,
        validate_request: bool = True,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = token
        body = raw_body
        if json_body is not None:
            body = httpx.Request("POST", "http://x", json=json_body).content
            content_type = content_type or "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = self.http.request(
            method, self.simulator.api_url(host, path), params=params, content=body, headers=headers
        )
        # /ping is documented once (common-api); its schema is the same on every host.
        document_host = COMMON if path == "/ping" else host
        openapi = self.documents[DOCUMENT_BY_HOST[document_host]]
        request = MockRequest(
            f"https://{document_host}",
            method.lower(),
            path,
            path_pattern=spec_path,
            args=params or {},
            view_args=path_args,
            headers=headers,
            data=body or b"",
            content_type=content_type or "application/json",
        )
        if validate_request:
            openapi.validate_request(request)
        mock_response = MockResponse(
            response.content,
            response.status_code,
            headers=dict(response.headers),
            content_type=response.headers.get("content-type", "application/json").split(";")[0],
        )
        openapi.validate_response(request, mock_response)
        return response


@pytest.fixture(scope="session")
def wb_documents() -> dict[str, OpenAPI]:
    assert UPSTREAM is not None
    # WB documents the chat 400 as application/problem+json, which is JSON.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return {
        name: OpenAPI.from_dict(
            yaml.safe_load((UPSTREAM / name).read_text(encoding="utf-8")), config=config
        )
        for name in set(DOCUMENT_BY_HOST.values())
    }


@pytest.fixture
def contract(wb_documents: dict[str, OpenAPI], simulator: SimulatorFixture) -> Contract:
    return Contract(wb_documents, simulator, httpx.Client(timeout=30))


@pytest.fixture
def wb(simulator: SimulatorFixture) -> tuple[str, str]:
    handle = simulator.create_wb_account(
        seed=7, reviews=30, archived_reviews=5, questions=12, chats=4, limits=False
    )
    return handle.account_id, handle.token


def test_feedbacks_list_matches_contract(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb
    params = {"isAnswered": "false", "take": "10", "skip": "0", "order": "dateDesc"}

    response = contract.call("GET", FEEDBACKS, "/api/v1/feedbacks", token=token, params=params)

    body = response.json()
    assert response.status_code == 200
    assert (body["error"], body["errorText"], body["additionalErrors"]) == (False, "", None)
    assert len(body["data"]["feedbacks"]) == 10


def test_feedbacks_list_bad_take_is_documented_400(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb
    params = {"isAnswered": "false", "take": "5001", "skip": "0"}

    response = contract.call("GET", FEEDBACKS, "/api/v1/feedbacks", token=token, params=params)

    assert response.status_code == 400
    assert response.json()["error"] is True


def test_feedbacks_archive_matches_contract(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb

    response = contract.call(
        "GET",
        FEEDBACKS,
        "/api/v1/feedbacks/archive",
        token=token,
        params={"take": "100", "skip": "0"},
    )

    assert response.status_code == 200
    assert len(response.json()["data"]["feedbacks"]) == 5


def test_feedbacks_counts_match_contract(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb

    unanswered = contract.call("GET", FEEDBACKS, "/api/v1/feedbacks/count-unanswered", token=token)
    count = contract.call(
        "GET", FEEDBACKS, "/api/v1/feedbacks/count", token=token, params={"isAnswered": "false"}
    )
    news = contract.call("GET", FEEDBACKS, "/api/v1/new-feedbacks-questions", token=token)

    assert unanswered.json()["data"]["countUnanswered"] == count.json()["data"]
    assert set(news.json()["data"]) == {"hasNewQuestions", "hasNewFeedbacks"}


def test_feedbacks_count_bad_date_is_documented_400(
    contract: Contract, wb: tuple[str, str]
) -> None:
    _, token = wb

    response = contract.call(
        "GET",
        FEEDBACKS,
        "/api/v1/feedbacks/count",
        token=token,
        params={"dateFrom": "вчера"},
        validate_request=False,
    )

    assert (response.status_code, response.json()["errorText"]) == (400, "Плохой формат dateFrom")


def test_feedback_by_id_and_unknown_id(
    contract: Contract, simulator: SimulatorFixture, wb: tuple[str, str]
) -> None:
    account_id, token = wb
    review_id = simulator.truth(account_id)["reviews"]["ids"][0]

    found = contract.call(
        "GET", FEEDBACKS, "/api/v1/feedback", token=token, params={"id": review_id}
    )
    missing = contract.call(
        "GET", FEEDBACKS, "/api/v1/feedback", token=token, params={"id": "nope"}
    )

    assert found.json()["data"]["id"] == review_id
    assert (missing.status_code, missing.json()["errorText"]) == (
        422,
        "Невозможно получить отзыв по id",
    )


def test_feedback_answer_create_edit_and_errors(
    contract: Contract, simulator: SimulatorFixture, wb: tuple[str, str]
) -> None:
    account_id, token = wb
    review_id = simulator.truth(account_id)["reviews"]["unanswered_ids"][0]

    created = contract.call(
        "POST",
        FEEDBACKS,
        "/api/v1/feedbacks/answer",
        token=token,
        json_body={"id": review_id, "text": "Спасибо!"},
    )
    edited = contract.call(
        "PATCH",
        FEEDBACKS,
        "/api/v1/feedbacks/answer",
        token=token,
        json_body={"id": review_id, "text": "Благодарим!"},
    )
    no_type = contract.call(
        "POST",
        FEEDBACKS,
        "/api/v1/feedbacks/answer",
        token=token,
        raw_body=b'{"id": "x", "text": "ok ok"}',
        validate_request=False,
    )

    assert (created.status_code, created.content) == (204, b"")
    assert (edited.status_code, edited.content) == (204, b"")
    assert (no_type.status_code, no_type.json()["detail"]) == (
        400,
        "content-type header not specified",
    )


def test_questions_endpoints_match_contract(
    contract: Contract, simulator: SimulatorFixture, wb: tuple[str, str]
) -> None:
    account_id, token = wb
    question_id = simulator.truth(account_id)["questions"]["unanswered_ids"][0]

    listed = contract.call(
        "GET",
        FEEDBACKS,
        "/api/v1/questions",
        token=token,
        params={"isAnswered": "false", "take": "5", "skip": "0"},
    )
    too_far = contract.call(
        "GET",
        FEEDBACKS,
        "/api/v1/questions",
        token=token,
        params={"isAnswered": "false", "take": "5000", "skip": "6000"},
    )
    counts = contract.call("GET", FEEDBACKS, "/api/v1/questions/count-unanswered", token=token)
    count = contract.call(
        "GET", FEEDBACKS, "/api/v1/questions/count", token=token, params={"isAnswered": "true"}
    )
    one = contract.call(
        "GET", FEEDBACKS, "/api/v1/question", token=token, params={"id": question_id}
    )
    unknown = contract.call(
        "GET", FEEDBACKS, "/api/v1/question", token=token, params={"id": "nope"}
    )
    viewed = contract.call(
        "PATCH",
        FEEDBACKS,
        "/api/v1/questions",
        token=token,
        json_body={"id": question_id, "wasViewed": True},
    )
    answered = contract.call(
        "PATCH",
        FEEDBACKS,
        "/api/v1/questions",
        token=token,
        json_body={"id": question_id, "answer": {"text": "Да, подойдёт."}, "state": "wbRu"},
    )
    not_found = contract.call(
        "PATCH",
        FEEDBACKS,
        "/api/v1/questions",
        token=token,
        json_body={"id": "nope", "answer": {"text": "Да, подойдёт."}, "state": "wbRu"},
    )

    assert len(listed.json()["data"]["questions"]) == 5
    assert too_far.status_code == 400
    assert counts.json()["data"]["countUnanswered"] == 12 - count.json()["data"]
    assert one.json()["data"]["id"] == question_id
    assert unknown.status_code == 422
    assert viewed.json() == {
        "data": None,
        "error": False,
        "errorText": "",
        "additionalErrors": None,
    }
    assert answered.json()["error"] is False
    assert (not_found.status_code, not_found.json()["errorText"]) == (404, "Не найден отзыв")


def test_chat_endpoints_match_contract(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb

    chats = contract.call("GET", CHAT, "/api/v1/seller/chats", token=token)
    events = contract.call("GET", CHAT, "/api/v1/seller/events", token=token)
    bad_next = contract.call(
        "GET", CHAT, "/api/v1/seller/events", token=token, params={"next": "0"}
    )
    reply_sign = chats.json()["result"][0]["replySign"]
    sent = contract.call(
        "POST",
        CHAT,
        "/api/v1/seller/message",
        token=token,
        raw_body=_multipart({"replySign": reply_sign, "message": "Здравствуйте! Уже разбираемся."}),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        validate_request=False,
    )
    bad_sign = contract.call(
        "POST",
        CHAT,
        "/api/v1/seller/message",
        token=token,
        raw_body=_multipart({"replySign": "forged", "message": "Здравствуйте!"}),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        validate_request=False,
    )
    download = contract.call(
        "GET",
        CHAT,
        "/api/v1/seller/download/unknown",
        token=token,
        spec_path="/api/v1/seller/download/{id}",
        path_args={"id": "unknown"},
    )

    assert len(chats.json()["result"]) == 4
    assert events.json()["result"]["totalEvents"] > 0
    assert (bad_next.status_code, bad_next.json()["detail"]) == (400, 'Invalid value for "next"')
    assert sent.json()["result"]["chatID"] == chats.json()["result"][0]["chatID"]
    assert (bad_sign.status_code, bad_sign.json()["detail"]) == (400, "Invalid signature")
    assert (download.status_code, download.json()["title"]) == (400, "invalid fileID")


def test_content_cards_list_matches_contract(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb
    first_body = {"settings": {"cursor": {"limit": 3}, "filter": {"withPhoto": -1}}}

    first = contract.call(
        "POST", CONTENT, "/content/v2/get/cards/list", token=token, json_body=first_body
    )
    cursor = first.json()["cursor"]
    second_body = {
        "settings": {
            "cursor": {"limit": 3, "updatedAt": cursor["updatedAt"], "nmID": cursor["nmID"]},
            "filter": {"withPhoto": -1},
        }
    }
    second = contract.call(
        "POST", CONTENT, "/content/v2/get/cards/list", token=token, json_body=second_body
    )
    too_big = contract.call(
        "POST",
        CONTENT,
        "/content/v2/get/cards/list",
        token=token,
        json_body={"settings": {"cursor": {"limit": 1000}, "filter": {"withPhoto": -1}}},
    )

    first_ids = [card["nmID"] for card in first.json()["cards"]]
    second_ids = [card["nmID"] for card in second.json()["cards"]]
    assert (len(first_ids), len(second_ids), set(first_ids) & set(second_ids)) == (3, 3, set())
    assert too_big.status_code == 400


def test_common_api_seller_info_and_ping(contract: Contract, wb: tuple[str, str]) -> None:
    _, token = wb

    info = contract.call("GET", COMMON, "/api/v1/seller-info", token=token)
    pings = [
        contract.call("GET", host, "/ping", token=token)
        for host in (FEEDBACKS, CHAT, CONTENT, COMMON)
    ]

    assert set(info.json()) == {"name", "sid", "tradeMark"}
    assert [ping.json()["Status"] for ping in pings] == ["OK"] * 4


def test_unknown_token_gets_gateway_401(contract: Contract, simulator: SimulatorFixture) -> None:
    stranger = make_wb_token(seller_id="00000000-0000-4000-8000-000000000000")

    response = contract.call(
        "GET",
        FEEDBACKS,
        "/api/v1/feedbacks",
        token=stranger,
        params={"isAnswered": "false", "take": "1", "skip": "0"},
    )

    assert (response.status_code, response.json()["status"], response.json()["title"]) == (
        401,
        401,
        "unauthorized",
    )


def test_rate_limited_request_gets_documented_429(
    contract: Contract, simulator: SimulatorFixture
) -> None:
    handle = simulator.create_wb_account(seed=3, reviews=3, limits=True)
    statuses = [
        contract.call(
            "GET", FEEDBACKS, "/api/v1/feedbacks/count-unanswered", token=handle.token
        ).status_code
        for _ in range(7)
    ]

    assert statuses == [200] * 6 + [429]


def test_public_card_json_is_served_on_the_computed_basket_host(
    simulator: SimulatorFixture, wb: tuple[str, str]
) -> None:
    account_id, _ = wb
    nm_id = simulator.truth(account_id)["products"]["nm_ids"][0]

    response = httpx.get(
        simulator.api_url(basket_host(nm_id), f"{card_base_path(nm_id)}/info/ru/card.json")
    )
    wrong_host = httpx.get(
        simulator.api_url("basket-99.wbbasket.ru", f"{card_base_path(nm_id)}/info/ru/card.json")
    )

    assert (response.status_code, response.json()["nm_id"]) == (200, nm_id)
    assert wrong_host.status_code == 404


BOUNDARY = "simulator-test-boundary"


def _multipart(fields: dict[str, str]) -> bytes:
    chunks = []
    for name, value in fields.items():
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)
