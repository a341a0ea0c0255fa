"""Every Ozon endpoint of the simulator, success and error, validated against Ozon's own swagger.

``ozon-seller-api.json`` is read in place from ``../shared/specs/upstream`` (never copied into
this repository). Both the request we send and the simulator's response are validated.

The official document does not pass an OpenAPI 3.0 validator as published, so it is loaded with
spec validation off and three mechanical repairs made in memory (the file is not changed):
- ``servers`` is protocol-relative (``//api-seller.ozon.ru``): matched as ``https://…``;
- a few schemas declare types OpenAPI does not have (``timestamp``, ``enum``, ``null``,
  ``array of strings`` …, e.g. the questions' ``published_at``/``status``): those nodes are
  left unconstrained by type, everything else about them still applies;
- statuses the swagger does not declare for a method (401 for an unknown key, 429 — both
  **unverified** in the contract) are checked against the document's own ``rpcStatus`` schema.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

from connectors.simulator.client import SimOzonAccountHandle
from tests.conftest import SimulatorFixture

REPO_ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_CANDIDATES = (
    REPO_ROOT / ".." / "shared" / "specs" / "upstream",
    Path("/work/shared/specs/upstream"),
)
UPSTREAM = next(
    (path for path in UPSTREAM_CANDIDATES if (path / "ozon-seller-api.json").is_file()), None
)

pytestmark = pytest.mark.skipif(
    UPSTREAM is None, reason="the official Ozon swagger is not available"
)

OZON = "api-seller.ozon.ru"
OPENAPI_TYPES = {"object", "array", "string", "integer", "number", "boolean"}


def _repair(node: Any) -> Any:
    """Drop `type` values OpenAPI 3.0 does not define (examples are left alone)."""
    if isinstance(node, dict):
        repaired = {}
        for key, value in node.items():
            if key in ("example", "examples"):
                repaired[key] = value
            elif key == "type" and not (isinstance(value, str) and value in OPENAPI_TYPES):
                continue
            else:
                repaired[key] = _repair(value)
        return repaired
    if isinstance(node, list):
        return [_repair(item) for item in node]
    return node


@dataclass(frozen=True, slots=True)
class OzonDocument:
    openapi: OpenAPI
    raw: dict[str, Any]

    def error_schema(self, *, string_details: bool) -> dict[str, Any]:
        schemas = self.raw["components"]["schemas"]
        status = dict(schemas["rpcStatus"])
        properties = dict(status["properties"])
        if string_details:
            properties["details"] = {"type": "string"}
        else:
            properties["details"] = {"type": "array", "items": schemas["protobufAny"]}
        status["properties"] = properties
        status["required"] = ["code", "message", "details"]
        return status


@pytest.fixture(scope="session")
def ozon_document() -> OzonDocument:
    assert UPSTREAM is not None
    raw = json.loads((UPSTREAM / "ozon-seller-api.json").read_text(encoding="utf-8"))
    repaired = _repair(raw)
    repaired["servers"] = [{"url": f"https://{OZON}"}]
    openapi = OpenAPI.from_dict(repaired, config=Config(spec_validator_cls=None))
    return OzonDocument(openapi, repaired)


@dataclass(frozen=True, slots=True)
class Contract:
    document: OzonDocument
    simulator: SimulatorFixture
    http: httpx.Client

    def call(
        self,
        path: str,
        body: Any,
        *,
        account: SimOzonAccountHandle | None,
        api_key: str | None = None,
        validate_request: bool = True,
        string_details: bool = False,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if account is not None:
            headers["Client-Id"] = account.client_id
            headers["Api-Key"] = api_key if api_key is not None else account.api_key
        content = json.dumps(body, ensure_ascii=False).encode()
        response = self.http.post(
            self.simulator.api_url(OZON, path), content=content, headers=headers
        )
        request = MockRequest(
            f"https://{OZON}",
            "post",
            path,
            headers=headers,
            data=content,
            content_type="application/json",
        )
        if validate_request:
            self.document.openapi.validate_request(request)
        mock_response = MockResponse(
            response.content,
            response.status_code,
            headers=dict(response.headers),
            content_type=response.headers.get("content-type", "application/json").split(";")[0],
        )
        try:
            self.document.openapi.validate_response(request, mock_response)
        except ResponseNotFound:
            # A status this method does not declare (401 / 429): the document's rpcStatus.
            assert response.status_code >= 400
            jsonschema.validate(
                response.json(), self.document.error_schema(string_details=string_details)
            )
        return response


@pytest.fixture
def contract(ozon_document: OzonDocument, simulator: SimulatorFixture) -> Contract:
    return Contract(ozon_document, simulator, httpx.Client(timeout=30))


@pytest.fixture
def ozon(simulator: SimulatorFixture) -> SimOzonAccountHandle:
    return simulator.create_ozon_account(
        seed=11, reviews=45, questions=25, chats=4, products=6, limits=False, moderation_seconds=0
    )


def test_roles_match_contract(contract: Contract, ozon: SimOzonAccountHandle) -> None:
    response = contract.call("/v1/roles", {}, account=ozon)

    body = response.json()
    assert response.status_code == 200
    assert [role["name"] for role in body["roles"]] == ["Admin"]
    assert "/v2/review/list" in body["roles"][0]["methods"]


def test_review_list_v2_pages_match_contract(
    contract: Contract, ozon: SimOzonAccountHandle
) -> None:
    first = contract.call("/v2/review/list", {"limit": 20, "sort_dir": "ASC"}, account=ozon)
    second = contract.call(
        "/v2/review/list",
        {"limit": 20, "sort_dir": "ASC", "last_id": first.json()["last_id"]},
        account=ozon,
    )
    third = contract.call(
        "/v2/review/list",
        {"limit": 20, "sort_dir": "ASC", "last_id": second.json()["last_id"]},
        account=ozon,
    )
    filtered = contract.call(
        "/v2/review/list",
        {"limit": 100, "filters": {"status": "NEW", "order_status": "ALL", "skus": []}},
        account=ozon,
    )

    pages = [first.json(), second.json(), third.json()]
    ids = [review["id"] for page in pages for review in page["reviews"]]
    assert [len(page["reviews"]) for page in pages] == [20, 20, 5]
    assert [page["has_next"] for page in pages] == [True, True, False]
    assert len(set(ids)) == 45
    assert {review["status"] for review in filtered.json()["reviews"]} == {"NEW"}


def test_review_list_v2_bad_limit_is_rpc_400(
    contract: Contract, ozon: SimOzonAccountHandle
) -> None:
    response = contract.call("/v2/review/list", {"limit": 5}, account=ozon, validate_request=False)

    assert (response.status_code, response.json()["code"]) == (400, 3)
    assert response.json()["message"] == "invalid request payload: limit must be in range [20, 100]"


def test_review_info_count_and_status_v2_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    review_id = simulator.truth(ozon.account_id)["reviews"]["new_ids"][0]

    info = contract.call("/v2/review/info", {"review_id": review_id}, account=ozon)
    missing = contract.call("/v2/review/info", {"review_id": "nope"}, account=ozon)
    changed = contract.call(
        "/v2/review/change-status", {"review_ids": [review_id], "status": "VIEWED"}, account=ozon
    )
    count = contract.call("/v2/review/count", {}, account=ozon)

    assert info.json()["id"] == review_id
    assert (missing.status_code, missing.json()["code"]) == (404, 5)
    assert changed.status_code == 200
    counts = count.json()
    assert counts["total"] == counts["new"] + counts["viewed"] + counts["processed"] == 45


def test_review_v1_legacy_methods_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    review_id = simulator.truth(ozon.account_id)["reviews"]["new_ids"][0]

    listed = contract.call("/v1/review/list", {"limit": 50, "status": "UNPROCESSED"}, account=ozon)
    info = contract.call("/v1/review/info", {"review_id": review_id}, account=ozon)
    count = contract.call("/v1/review/count", {}, account=ozon)
    changed = contract.call(
        "/v1/review/change-status",
        {"review_ids": [review_id], "status": "PROCESSED"},
        account=ozon,
    )

    assert {review["status"] for review in listed.json()["reviews"]} == {"UNPROCESSED"}
    assert info.json()["status"] == "UNPROCESSED"
    assert count.json()["total"] == count.json()["processed"] + count.json()["unprocessed"]
    assert changed.status_code == 200


def test_review_comments_create_list_delete_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    truth = simulator.truth(ozon.account_id)["reviews"]
    review_id = truth["unanswered_ids"][0]
    sku = truth["skus"][review_id]

    created = contract.call(
        "/v1/review/comment/create",
        {"review_id": review_id, "text": "Спасибо за отзыв!", "mark_review_as_processed": True},
        account=ozon,
    )
    listed = contract.call(
        "/v1/review/comment/list",
        # The swagger's oneOf needs `filter` present (without `sku`) next to `review_id`.
        {"review_id": review_id, "filter": {}, "limit": 20, "offset": 0},
        account=ozon,
    )
    deleted = contract.call(
        "/v2/review/comment/delete",
        {"comment_id": created.json()["comment_id"], "sku": sku},
        account=ozon,
    )
    deleted_again = contract.call(
        "/v1/review/comment/delete", {"comment_id": created.json()["comment_id"]}, account=ozon
    )

    comments = listed.json()["comments"]
    assert [(c["id"], c["text"], c["is_owner"]) for c in comments] == [
        (created.json()["comment_id"], "Спасибо за отзыв!", True)
    ]
    assert listed.json()["offset"] == 1
    assert deleted.status_code == 200
    assert (deleted_again.status_code, deleted_again.json()["code"]) == (404, 5)


def test_questions_methods_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    first = contract.call("/v1/question/list", {"limit": 100, "last_id": ""}, account=ozon)
    second = contract.call(
        "/v1/question/list", {"limit": 100, "last_id": first.json()["last_id"]}, account=ozon
    )
    question = first.json()["questions"][0]
    info = contract.call("/v1/question/info", {"question_id": question["id"]}, account=ozon)
    missing = contract.call(
        "/v1/question/info", {"question_id": "nope"}, account=ozon, string_details=True
    )
    count = contract.call("/v1/question/count", {}, account=ozon)
    changed = contract.call(
        "/v1/question/change-status",
        {"question_ids": [question["id"]], "status": "VIEWED"},
        account=ozon,
    )
    top = contract.call("/v1/question/top-sku", {"limit": 3}, account=ozon)

    assert [len(first.json()["questions"]), first.json()["has_next"]] == [10, True]
    assert {q["id"] for q in first.json()["questions"]} & {
        q["id"] for q in second.json()["questions"]
    } == set()
    assert info.json()["id"] == question["id"]
    assert (missing.status_code, missing.json()["details"]) == (404, "")
    assert count.json()["all"] == 25
    assert changed.status_code == 200
    assert len(top.json()["sku"]) in {1, 2, 3}


def test_question_answers_create_list_delete_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    question_id = simulator.truth(ozon.account_id)["questions"]["unanswered_ids"][0]
    sku = contract.call("/v1/question/info", {"question_id": question_id}, account=ozon).json()[
        "sku"
    ]
    text = "Здравствуйте! Да, можно стирать при 40 градусах."

    created = contract.call(
        "/v1/question/answer/create",
        {"question_id": question_id, "sku": sku, "text": text},
        account=ozon,
    )
    too_short = contract.call(
        "/v1/question/answer/create",
        {"question_id": question_id, "sku": sku, "text": "Д"},
        account=ozon,
        string_details=True,
    )
    listed = contract.call(
        "/v1/question/answer/list",
        {"question_id": question_id, "sku": sku, "last_id": ""},
        account=ozon,
    )
    deleted = contract.call(
        "/v1/question/answer/delete",
        {"answer_id": created.json()["answer_id"], "sku": sku},
        account=ozon,
    )

    assert [(a["id"], a["text"]) for a in listed.json()["answers"]] == [
        (created.json()["answer_id"], text)
    ]
    assert (too_short.status_code, too_short.json()["code"]) == (400, 3)
    assert deleted.status_code == 200


def test_chat_methods_match_contract(
    contract: Contract, ozon: SimOzonAccountHandle, simulator: SimulatorFixture
) -> None:
    new_chat = simulator.generate(ozon.account_id, chats=1)["chats"][0]

    first = contract.call(
        "/v3/chat/list", {"limit": 2, "filter": {"chat_status": "OPENED"}}, account=ozon
    )
    second = contract.call(
        "/v3/chat/list", {"limit": 100, "cursor": first.json()["cursor"]}, account=ozon
    )
    history = contract.call(
        "/v3/chat/history",
        {"chat_id": new_chat, "direction": "Backward", "limit": 50},
        account=ozon,
    )
    last_id = history.json()["messages"][0]["message_id"]
    forward = contract.call(
        "/v3/chat/history",
        {"chat_id": new_chat, "direction": "Forward", "from_message_id": last_id, "limit": 10},
        account=ozon,
    )
    sent = contract.call(
        "/v1/chat/send/message",
        {"chat_id": new_chat, "text": "Здравствуйте! Уже разбираемся."},
        account=ozon,
    )
    file_sent = contract.call(
        "/v1/chat/send/file",
        {
            "chat_id": new_chat,
            "name": "чек.png",
            "base64_content": base64.b64encode(b"png").decode(),
        },
        account=ozon,
    )
    read = contract.call(
        "/v2/chat/read", {"chat_id": new_chat, "from_message_id": last_id}, account=ozon
    )
    unknown = contract.call(
        "/v1/chat/send/message", {"chat_id": "nope", "text": "Привет"}, account=ozon
    )

    listed = first.json()["chats"] + second.json()["chats"]
    assert first.json()["has_next"] is True
    assert len({c["chat"]["chat_id"] for c in listed}) == len(listed) == 6  # 4 + new + support
    assert history.json()["messages"][0]["user"]["type"] == "Customer"
    assert [m["message_id"] for m in forward.json()["messages"]] == [last_id]
    assert (sent.json(), file_sent.json()) == ({"result": "success"}, {"result": "success"})
    assert read.json() == {"unread_count": 0}
    assert (unknown.status_code, unknown.json()["code"]) == (404, 5)


def test_chat_send_outside_reply_window_is_refused(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    truth = simulator.truth(ozon.account_id)["chats"]
    closed = next(c for c in truth["ids"] if c not in truth["open_for_reply_ids"])

    response = contract.call(
        "/v1/chat/send/message", {"chat_id": closed, "text": "Добрый день!"}, account=ozon
    )

    assert (response.status_code, response.json()["code"]) == (400, 9)


def test_product_methods_match_contract(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    products = simulator.truth(ozon.account_id)["products"]
    sku, product_id = products["skus"][0], products["product_ids"][0]

    info = contract.call("/v3/product/info/list", {"sku": [str(sku), "1"]}, account=ozon)
    description = contract.call(
        "/v1/product/info/description", {"product_id": product_id}, account=ozon
    )
    attributes = contract.call(
        "/v4/product/info/attributes", {"filter": {"sku": [str(sku)]}, "limit": 10}, account=ozon
    )
    listed = contract.call(
        "/v3/product/list", {"filter": {"visibility": "ALL"}, "limit": 4}, account=ozon
    )
    rest = contract.call(
        "/v3/product/list",
        {
            "filter": {"visibility": "ALL"},
            "limit": 4,
            "last_id": listed.json()["result"]["last_id"],
        },
        account=ozon,
    )
    missing = contract.call("/v1/product/info/description", {"product_id": 1}, account=ozon)

    assert [item["sku"] for item in info.json()["items"]] == [sku]
    assert description.json()["result"]["id"] == product_id
    assert [item["sku"] for item in attributes.json()["result"]] == [str(sku)]
    assert len(listed.json()["result"]["items"]) + len(rest.json()["result"]["items"]) == 6
    assert (missing.status_code, missing.json()["code"]) == (404, 5)


def test_unknown_key_gets_rpc_401(contract: Contract, ozon: SimOzonAccountHandle) -> None:
    response = contract.call("/v2/review/count", {}, account=ozon, api_key="not-a-key")

    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        401,
        16,
        "Invalid Api-Key, please check the key and try again",
    )


def test_missing_subscription_gets_rpc_403_per_method_group(
    contract: Contract, simulator: SimulatorFixture
) -> None:
    account = simulator.create_ozon_account(
        seed=5, reviews=3, questions=3, chats=1, subscription="none", limits=False
    )

    reviews = contract.call("/v2/review/list", {"limit": 20}, account=account)
    questions = contract.call(
        "/v1/question/list", {"limit": 10}, account=account, string_details=True
    )
    chats = contract.call("/v3/chat/list", {"limit": 10}, account=account)

    assert (reviews.status_code, reviews.json()["code"]) == (403, 7)
    assert (questions.status_code, questions.json()["details"]) == (403, "")
    assert chats.status_code == 200


def test_premium_plus_reads_reviews_through_v1_only(
    contract: Contract, simulator: SimulatorFixture
) -> None:
    account = simulator.create_ozon_account(
        seed=5, reviews=3, subscription="premium_plus", limits=False
    )

    v2 = contract.call("/v2/review/list", {"limit": 20}, account=account)
    v1 = contract.call("/v1/review/list", {"limit": 20}, account=account)

    assert (v2.status_code, v1.status_code, len(v1.json()["reviews"])) == (403, 200, 3)


def test_rate_limited_request_gets_rpc_429(contract: Contract, simulator: SimulatorFixture) -> None:
    # One request per second: the second request in a row is an overrun on any machine.
    account = simulator.create_ozon_account(seed=3, reviews=1, limits=True, requests_per_second=1)

    first = contract.call("/v1/roles", {}, account=account)
    limited = contract.call("/v1/roles", {}, account=account)

    assert first.status_code == 200
    assert (limited.status_code, limited.json()["code"], limited.headers["Retry-After"]) == (
        429,
        8,
        "1",
    )
    assert simulator.account_stats(account.account_id)["rate_limit_overruns"] == 1


def test_injected_server_error_and_revoked_key_use_rpc_status(
    contract: Contract, simulator: SimulatorFixture, ozon: SimOzonAccountHandle
) -> None:
    simulator.add_fault(ozon.account_id, "500", path_contains="/v2/review/count")

    failed = contract.call("/v2/review/count", {}, account=ozon)
    simulator.add_fault(ozon.account_id, "revoked")
    revoked = contract.call("/v2/review/count", {}, account=ozon)

    assert (failed.status_code, failed.json()["code"]) == (500, 13)
    assert (revoked.status_code, revoked.json()["message"]) == (
        403,
        "Api-key is deactivated, use another one or generate a new one",
    )
