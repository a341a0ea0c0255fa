"""WB seller API as served by the simulator: routing, auth, limits, faults and every method's behaviour."""

from __future__ import annotations

import json
import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, cast

from connectors.simulator import data
from connectors.simulator.core import (
    JSON_CONTENT_TYPE,
    FaultKind,
    LimitRule,
    Record,
    SimRequest,
    SimResponse,
    TokenBucket,
    dumps,
    json_response,
    now_us,
    request_id,
)
from connectors.simulator.registry import Registry
from connectors.simulator.tokens import (
    CATEGORY_BUYER_CHAT,
    CATEGORY_CONTENT,
    CATEGORY_FEEDBACKS,
    CATEGORY_PROMOTION,
    InvalidTokenError,
    WbTokenType,
    decode_wb_token,
)
from connectors.simulator.wb_data import StoredFile, WbAccount, moscow_midnight_us

logger = logging.getLogger(__name__)

FEEDBACKS_HOST = "feedbacks-api.wildberries.ru"
FEEDBACKS_SANDBOX_HOST = "feedbacks-api-sandbox.wildberries.ru"
CHAT_HOST = "buyer-chat-api.wildberries.ru"
CONTENT_HOST = "content-api.wildberries.ru"
COMMON_HOST = "common-api.wildberries.ru"
WB_API_HOSTS = frozenset(
    {FEEDBACKS_HOST, FEEDBACKS_SANDBOX_HOST, CHAT_HOST, CONTENT_HOST, COMMON_HOST}
)
BASKET_HOST_RE = re.compile(r"^basket-(\d{2,3})\.wbbasket\.ru$")
CARD_PATH_RE = re.compile(r"^/vol(\d+)/part(\d+)/(\d+)/info/ru/card\.json$")

REVIEW_TAKE_MAX = 5000
REVIEW_SKIP_MAX = 199_990
QUESTION_WINDOW_MAX = 10_000
ANSWER_MIN = 2
ANSWER_MAX = 5000
CHAT_MESSAGE_MAX = 1000
REPLY_SIGN_MAX = 255
CHAT_FILE_MAX = 5 * 1024 * 1024
CHAT_FILES_TOTAL_MAX = 30 * 1024 * 1024
CHAT_FILE_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
EVENTS_BATCH = 100
CARDS_LIMIT_MAX = 100
TIMEOUT_DEFAULT_DELAY = 30.0
MOSCOW_TZ = timedelta(hours=3)

FULL_RULES = {
    "feedbacks": LimitRule(3, 1.0, 6),
    "chat": LimitRule(10, 10.0, 10),
}
BASE_RULES = {
    "feedbacks": LimitRule(5, 3600.0, 1),
    "chat": LimitRule(1, 3600.0, 1),
}
SHARED_RULES = {
    "content": LimitRule(100, 60.0, 5),
    "ping": LimitRule(3, 30.0, 3),
    "seller-info": LimitRule(1, 60.0, 10),
}


@dataclass(frozen=True, slots=True)
class Route:
    handler: str
    bucket: str
    is_write: bool = False


FEEDBACK_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v1/feedbacks"): Route("feedbacks_list", "feedbacks"),
    ("GET", "/api/v1/feedbacks/archive"): Route("feedbacks_archive", "feedbacks"),
    ("GET", "/api/v1/feedbacks/count-unanswered"): Route("feedbacks_count_unanswered", "feedbacks"),
    ("GET", "/api/v1/feedbacks/count"): Route("feedbacks_count", "feedbacks"),
    ("GET", "/api/v1/feedback"): Route("feedback_by_id", "feedbacks"),
    ("POST", "/api/v1/feedbacks/answer"): Route(
        "feedback_answer_create", "feedbacks", is_write=True
    ),
    ("PATCH", "/api/v1/feedbacks/answer"): Route(
        "feedback_answer_edit", "feedbacks", is_write=True
    ),
    ("GET", "/api/v1/new-feedbacks-questions"): Route("new_feedbacks_questions", "feedbacks"),
    ("GET", "/api/v1/questions"): Route("questions_list", "feedbacks"),
    ("GET", "/api/v1/questions/count-unanswered"): Route("questions_count_unanswered", "feedbacks"),
    ("GET", "/api/v1/questions/count"): Route("questions_count", "feedbacks"),
    ("GET", "/api/v1/question"): Route("question_by_id", "feedbacks"),
    ("PATCH", "/api/v1/questions"): Route("question_patch", "feedbacks", is_write=True),
    ("GET", "/ping"): Route("ping", "ping"),
}
ROUTES: dict[str, dict[tuple[str, str], Route]] = {
    FEEDBACKS_HOST: FEEDBACK_ROUTES,
    FEEDBACKS_SANDBOX_HOST: FEEDBACK_ROUTES,
    CHAT_HOST: {
        ("GET", "/api/v1/seller/chats"): Route("chats_list", "chat"),
        ("GET", "/api/v1/seller/events"): Route("chat_events", "chat"),
        ("POST", "/api/v1/seller/message"): Route("chat_send", "chat", is_write=True),
        ("GET", "/api/v1/seller/download"): Route("chat_download", "chat"),
        ("GET", "/ping"): Route("ping", "ping"),
    },
    CONTENT_HOST: {
        ("POST", "/content/v2/get/cards/list"): Route("cards_list", "content"),
        ("GET", "/ping"): Route("ping", "ping"),
    },
    COMMON_HOST: {
        ("GET", "/api/v1/seller-info"): Route("seller_info", "seller-info"),
        ("GET", "/ping"): Route("ping", "ping"),
    },
}
DOWNLOAD_PREFIX = "/api/v1/seller/download/"


class BadParam(ValueError):
    """A query parameter failed validation; the message is the errorText to return."""


# --------------------------------------------------------------------------- error bodies
def gateway_error(status: int, title: str, detail: str) -> SimResponse:
    status_text = {
        401: "Unauthorized",
        404: "Not Found",
        429: "Too Many Requests",
        500: "Internal Server Error",
    }
    return json_response(
        status,
        {
            "title": title,
            "detail": detail,
            "code": f"{request_id()[:8]}-{request_id()[:12]}",
            "requestId": request_id(),
            "origin": "s2s-api-auth-catalog",
            "status": status,
            "statusText": status_text.get(status, "Error"),
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )


def unauthorized(detail: str) -> SimResponse:
    return gateway_error(401, "unauthorized", detail)


def envelope_error(status: int, text: str) -> SimResponse:
    return json_response(
        status,
        {
            "data": None,
            "error": True,
            "errorText": text,
            "additionalErrors": None,
            "requestId": request_id(),
        },
    )


def envelope_ok(payload: bytes) -> SimResponse:
    return SimResponse(
        200, b'{"data":' + payload + b',"error":false,"errorText":"","additionalErrors":null}'
    )


def fbapi_error(detail: str) -> SimResponse:
    return json_response(
        400,
        {"title": "bad request", "requestId": request_id(), "origin": "fbapi", "detail": detail},
    )


def chat_error(detail: str, *, problem: bool = False) -> SimResponse:
    return json_response(
        400,
        {
            "status": 400,
            "title": "Bad Request",
            "origin": "proxy-chats",
            "detail": detail,
            "requestId": request_id(),
            "error": detail,
        },
        content_type="application/problem+json" if problem else JSON_CONTENT_TYPE,
    )


def too_many_requests(bucket_name: str, *, retry: int, limit: int, reset: int) -> SimResponse:
    response = gateway_error(429, "too many requests", f"limited by {bucket_name}")
    return response.with_headers(
        ("X-Ratelimit-Retry", str(retry)),
        ("X-Ratelimit-Limit", str(limit)),
        ("X-Ratelimit-Reset", str(reset)),
    )


# --------------------------------------------------------------------------- parameter parsing
def parse_bool(value: str | None, name: str, *, default: bool | None = None) -> bool:
    if value is None:
        if default is None:
            raise BadParam(f"Плохой формат {name}")
        return default
    if value == "true":
        return True
    if value == "false":
        return False
    raise BadParam(f"Плохой формат {name}")


def parse_int(value: str | None, name: str, *, required: bool = False) -> int | None:
    if value is None or value == "":
        if required:
            raise BadParam(f"Плохой формат {name}")
        return None
    try:
        return int(value)
    except ValueError:
        raise BadParam(f"Плохой формат {name}") from None


def parse_order(value: str | None) -> bool:
    """True for newest first. The default when ``order`` is absent is newest first."""
    if value is None or value == "dateDesc":
        return True
    if value == "dateAsc":
        return False
    raise BadParam("Плохой формат order")


def seconds_to_us(value: int | None) -> int | None:
    return None if value is None else value * 1_000_000


def join_records(fragments: list[bytes]) -> bytes:
    return b"[" + b",".join(fragments) + b"]"


def corrupt(
    payload: dict[str, Any], variant: int, *, drop_key: str, retype_key: str, bad_value: Any
) -> bytes:
    damaged = dict(payload)
    if variant % 2:
        damaged.pop(drop_key, None)
    else:
        damaged[retype_key] = bad_value
    return dumps(damaged)


CORRUPTION: dict[str, tuple[str, str, Any]] = {
    "review": ("id", "productValuation", "пять"),
    "question": ("id", "createdDate", 1_717_228_800),
    "chat": ("chatID", "lastMessage", "нет"),
    "event": ("eventID", "addTimestamp", "вчера"),
    "card": ("nmID", "nmID", "412345678a"),
}


# --------------------------------------------------------------------------- the API
class WbApi:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def handle(self, request: SimRequest) -> SimResponse:
        if BASKET_HOST_RE.match(request.host):
            return self.card_json(request)
        routes = ROUTES[request.host]
        path = request.path
        if path.startswith(DOWNLOAD_PREFIX) and request.host == CHAT_HOST:
            path = DOWNLOAD_PREFIX.rstrip("/")
        route = routes.get((request.method, path))
        if route is None:
            return gateway_error(
                404,
                "path not found",
                "Please consult the https://dev.wildberries.ru/openapi/api-information",
            )
        token = (request.header("authorization") or "").strip()
        if token.startswith("Bearer "):
            token = token[len("Bearer ") :]
        if not token:
            return unauthorized("empty Authorization header")
        account = self.registry.wb_account_for_token(token)
        if account is None:
            try:
                decode_wb_token(token)
            except InvalidTokenError as error:
                return unauthorized(f"token problem; token is malformed: {error}")
            return unauthorized("token problem; token is not valid: unknown token")
        wb = cast(WbAccount, account)
        delay = 0.0
        with wb.lock:
            verdict = self._gate(wb, request, route)
            if isinstance(verdict, SimResponse):
                return verdict
            delay, remaining = verdict
        if delay < 0:
            time.sleep(-delay)
            return SimResponse(0, drop_connection=True)
        if delay > 0:
            time.sleep(delay)
        with wb.lock:
            wb.tick()
            handler: Callable[[WbAccount, SimRequest], SimResponse] = getattr(self, route.handler)
            response = handler(wb, request)
        if remaining is not None and response.status != 429:
            response = response.with_headers(("X-Ratelimit-Remaining", str(remaining)))
        return response

    def _gate(
        self, wb: WbAccount, request: SimRequest, route: Route
    ) -> SimResponse | tuple[float, int | None]:
        """Account-level checks in gateway order. Returns a response to send, or (delay, remaining)."""
        stats = wb.stats
        stats.requests += 1
        stats.requests_by_path[request.route_key] += 1
        if wb.is_revoked:
            return unauthorized("token problem; token is revoked")
        claims = wb.claims
        if claims.is_expired(datetime.now(UTC)):
            return unauthorized("token problem; token is expired")
        host = request.host
        is_test = claims.token_type is WbTokenType.TEST
        if host == FEEDBACKS_SANDBOX_HOST and not is_test:
            return unauthorized("token problem; only a test token is accepted by the sandbox")
        if host != FEEDBACKS_SANDBOX_HOST and is_test:
            return unauthorized("token problem; a test token is accepted by the sandbox only")
        if not self._category_allows(host, claims.categories):
            return unauthorized("token scope not allowed for this API route")
        fault = wb.faults.pop_request_fault(request.route_key)
        delay = 0.0
        if fault is not None:
            if fault.kind is FaultKind.TOO_MANY_REQUESTS:
                stats.responses_429 += 1
                return too_many_requests("injected-fault", retry=1, limit=1, reset=1)
            if fault.kind is FaultKind.SERVER_ERROR:
                return gateway_error(500, "internal server error", "injected fault")
            if fault.kind is FaultKind.SLOW:
                delay = fault.delay_seconds
            if fault.kind is FaultKind.TIMEOUT:
                return (-(fault.delay_seconds or TIMEOUT_DEFAULT_DELAY), None)
        remaining: int | None = None
        if wb.limits_enabled:
            bucket_key = f"{route.bucket}:{host}" if route.bucket == "ping" else route.bucket
            bucket = wb.buckets.get(bucket_key)
            if bucket is None:
                rules = BASE_RULES if claims.token_type is WbTokenType.BASE else FULL_RULES
                rule = rules.get(route.bucket) or SHARED_RULES[route.bucket]
                bucket = TokenBucket(rule, time.monotonic())
                wb.buckets[bucket_key] = bucket
            verdict = bucket.take(time.monotonic())
            if not verdict.allowed:
                stats.responses_429 += 1
                stats.rate_limit_overruns += 1
                return too_many_requests(
                    f"{wb.account_id}:{bucket_key}",
                    retry=verdict.retry_s,
                    limit=verdict.burst,
                    reset=verdict.reset_s,
                )
            remaining = verdict.remaining
        if route.is_write and claims.is_read_only:
            return unauthorized("token scope not allowed: read-only token")
        return (delay, remaining)

    @staticmethod
    def _category_allows(host: str, categories: frozenset[int]) -> bool:
        if host in (FEEDBACKS_HOST, FEEDBACKS_SANDBOX_HOST):
            return CATEGORY_FEEDBACKS in categories
        if host == CHAT_HOST:
            return CATEGORY_BUYER_CHAT in categories
        if host == CONTENT_HOST:
            return CATEGORY_CONTENT in categories or CATEGORY_PROMOTION in categories
        return True

    def _fragments(
        self, wb: WbAccount, request: SimRequest, records: list[Record], kind: str
    ) -> list[bytes]:
        fragments = [record.encoded() for record in records]
        if fragments and wb.faults.pop_malformed(request.route_key):
            drop_key, retype_key, bad_value = CORRUPTION[kind]
            fragments[0] = corrupt(
                records[0].data,
                wb.malformed_variant(),
                drop_key=drop_key,
                retype_key=retype_key,
                bad_value=bad_value,
            )
        return fragments

    # ----------------------------------------------------------------- common
    def ping(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        moment = datetime.now(UTC) + MOSCOW_TZ
        return json_response(
            200, {"TS": moment.strftime("%Y-%m-%dT%H:%M:%S+03:00"), "Status": "OK"}
        )

    def seller_info(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        return json_response(
            200, {"name": wb.seller_name, "sid": wb.claims.seller_id, "tradeMark": wb.trade_mark}
        )

    # ----------------------------------------------------------------- reviews
    def feedbacks_list(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            is_answered = parse_bool(request.arg("isAnswered"), "isAnswered")
            take = cast(int, parse_int(request.arg("take"), "take", required=True))
            skip = cast(int, parse_int(request.arg("skip"), "skip", required=True))
            descending = parse_order(request.arg("order"))
            nm_id = parse_int(request.arg("nmId"), "nmId")
            date_from = parse_int(request.arg("dateFrom"), "dateFrom")
            date_to = parse_int(request.arg("dateTo"), "dateTo")
            if not 1 <= take <= REVIEW_TAKE_MAX:
                raise BadParam(f"Плохой формат take: допустимо от 1 до {REVIEW_TAKE_MAX}")
            if not 0 <= skip <= REVIEW_SKIP_MAX:
                raise BadParam(f"Плохой формат skip: допустимо от 0 до {REVIEW_SKIP_MAX}")
        except BadParam as error:
            return envelope_error(400, str(error))
        store = wb.reviews_answered if is_answered else wb.reviews_unanswered
        records = store.page(
            skip=skip,
            take=take,
            descending=descending,
            from_us=seconds_to_us(date_from),
            to_us=seconds_to_us(date_to),
            nm_id=nm_id,
        )
        fragments = self._fragments(wb, request, records, "review")
        head = b'{"countUnanswered":%d,"countArchive":%d,"feedbacks":' % (
            len(wb.reviews_unanswered),
            len(wb.reviews_answered),
        )
        return envelope_ok(head + join_records(fragments) + b"}")

    def feedbacks_archive(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            take = cast(int, parse_int(request.arg("take"), "take", required=True))
            skip = cast(int, parse_int(request.arg("skip"), "skip", required=True))
            descending = parse_order(request.arg("order"))
            nm_id = parse_int(request.arg("nmId"), "nmId")
            if not 1 <= take <= REVIEW_TAKE_MAX:
                raise BadParam(f"Плохой формат take: допустимо от 1 до {REVIEW_TAKE_MAX}")
            if skip < 0:
                raise BadParam("Плохой формат skip")
        except BadParam as error:
            return envelope_error(400, str(error))
        records = wb.reviews_archive.page(skip=skip, take=take, descending=descending, nm_id=nm_id)
        fragments = self._fragments(wb, request, records, "review")
        return envelope_ok(b'{"feedbacks":' + join_records(fragments) + b"}")

    def feedbacks_count_unanswered(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        today = wb.reviews_unanswered.count_between(moscow_midnight_us(now_us()), None)
        return envelope_ok(
            dumps({"countUnanswered": len(wb.reviews_unanswered), "countUnansweredToday": today})
        )

    def feedbacks_count(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            date_from = parse_int(request.arg("dateFrom"), "dateFrom")
            date_to = parse_int(request.arg("dateTo"), "dateTo")
            is_answered = parse_bool(request.arg("isAnswered"), "isAnswered", default=True)
        except BadParam as error:
            return envelope_error(400, str(error))
        store = wb.reviews_answered if is_answered else wb.reviews_unanswered
        return envelope_ok(
            b"%d" % store.count_between(seconds_to_us(date_from), seconds_to_us(date_to))
        )

    def feedback_by_id(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        record = wb.reviews_by_id.get(request.arg("id") or "")
        if record is None:
            return envelope_error(422, "Невозможно получить отзыв по id")
        return envelope_ok(record.encoded())

    def _answer_body(self, request: SimRequest) -> tuple[str, str] | SimResponse:
        content_type = request.header("content-type")
        if not content_type:
            return fbapi_error("content-type header not specified")
        mime = content_type.split(";", 1)[0].strip().lower()
        if "/" not in mime:
            return fbapi_error(f"content-type is not a valid mime-type: {mime}")
        if mime != "application/json":
            return fbapi_error(f"not a json content-type: {mime}")
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return fbapi_error("Неверный синтаксис JSON")
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("id"), str)
            or not isinstance(body.get("text"), str)
        ):
            return fbapi_error("Неверный синтаксис JSON")
        text = body["text"]
        if not ANSWER_MIN <= len(text) <= ANSWER_MAX:
            return fbapi_error(
                f"Текст ответа должен содержать от {ANSWER_MIN} до {ANSWER_MAX} символов"
            )
        return body["id"], text

    def feedback_answer_create(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        parsed = self._answer_body(request)
        if isinstance(parsed, SimResponse):
            return parsed
        review_id, text = parsed
        record = wb.reviews_by_id.get(review_id)
        if record is None:
            # The real API does not validate the id and answers 204.
            wb.record_answer("review", review_id, text, "create", accepted=False, duplicate=False)
            return SimResponse(204, content_type=None)
        if record.data["answer"] is not None:
            wb.record_answer("review", review_id, text, "create", accepted=False, duplicate=True)
            return fbapi_error("Ответ на этот отзыв уже опубликован")
        wb.answer_review(record, text)
        wb.record_answer("review", review_id, text, "create", accepted=True, duplicate=False)
        return SimResponse(204, content_type=None)

    def feedback_answer_edit(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        parsed = self._answer_body(request)
        if isinstance(parsed, SimResponse):
            return parsed
        review_id, text = parsed
        record = wb.reviews_by_id.get(review_id)
        if record is None:
            wb.record_answer("review", review_id, text, "edit", accepted=False, duplicate=False)
            return SimResponse(204, content_type=None)
        if not wb.can_edit_review(record):
            wb.record_answer(
                "review",
                review_id,
                text,
                "edit",
                accepted=False,
                duplicate=record.data["answer"] is not None,
            )
            return envelope_error(400, "Ответ нельзя отредактировать")
        wb.edit_review_answer(record, text)
        wb.record_answer("review", review_id, text, "edit", accepted=True, duplicate=False)
        return SimResponse(204, content_type=None)

    def new_feedbacks_questions(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        return envelope_ok(
            dumps(
                {
                    "hasNewQuestions": bool(wb.unviewed_questions),
                    "hasNewFeedbacks": bool(wb.unviewed_reviews),
                }
            )
        )

    # ----------------------------------------------------------------- questions
    def questions_list(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            is_answered = parse_bool(request.arg("isAnswered"), "isAnswered")
            take = cast(int, parse_int(request.arg("take"), "take", required=True))
            skip = cast(int, parse_int(request.arg("skip"), "skip", required=True))
            descending = parse_order(request.arg("order"))
            nm_id = parse_int(request.arg("nmId"), "nmId")
            date_from = parse_int(request.arg("dateFrom"), "dateFrom")
            date_to = parse_int(request.arg("dateTo"), "dateTo")
            if not 1 <= take <= QUESTION_WINDOW_MAX or not 0 <= skip <= QUESTION_WINDOW_MAX:
                raise BadParam(f"Плохой формат take/skip: допустимо до {QUESTION_WINDOW_MAX}")
            if take + skip > QUESTION_WINDOW_MAX:
                raise BadParam(f"Сумма take и skip не должна превышать {QUESTION_WINDOW_MAX}")
        except BadParam as error:
            return envelope_error(400, str(error))
        store = wb.questions_answered if is_answered else wb.questions_unanswered
        records = store.page(
            skip=skip,
            take=take,
            descending=descending,
            from_us=seconds_to_us(date_from),
            to_us=seconds_to_us(date_to),
            nm_id=nm_id,
        )
        fragments = self._fragments(wb, request, records, "question")
        head = b'{"countUnanswered":%d,"countArchive":%d,"questions":' % (
            len(wb.questions_unanswered),
            len(wb.questions_answered),
        )
        return envelope_ok(head + join_records(fragments) + b"}")

    def questions_count_unanswered(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        today = wb.questions_unanswered.count_between(moscow_midnight_us(now_us()), None)
        return envelope_ok(
            dumps({"countUnanswered": len(wb.questions_unanswered), "countUnansweredToday": today})
        )

    def questions_count(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            date_from = parse_int(request.arg("dateFrom"), "dateFrom")
            date_to = parse_int(request.arg("dateTo"), "dateTo")
            is_answered = parse_bool(request.arg("isAnswered"), "isAnswered", default=True)
        except BadParam as error:
            return envelope_error(400, str(error))
        store = wb.questions_answered if is_answered else wb.questions_unanswered
        return envelope_ok(
            b"%d" % store.count_between(seconds_to_us(date_from), seconds_to_us(date_to))
        )

    def question_by_id(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        record = wb.questions_by_id.get(request.arg("id") or "")
        if record is None:
            return envelope_error(422, "Невозможно получить вопрос по id")
        return envelope_ok(record.encoded())

    def question_patch(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return envelope_error(400, "Неверный синтаксис JSON")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return envelope_error(400, "Something went wrong")
        record = wb.questions_by_id.get(body["id"])
        if "answer" not in body and isinstance(body.get("wasViewed"), bool):
            if record is None:
                return envelope_error(404, "Не найден отзыв")
            wb.mark_question_viewed(record, body["wasViewed"])
            return envelope_ok(b"null")
        answer = body.get("answer")
        state = body.get("state")
        if (
            not isinstance(answer, dict)
            or not isinstance(answer.get("text"), str)
            or state not in ("wbRu", "none")
        ):
            return envelope_error(400, "Something went wrong")
        text: str = answer["text"]
        if not ANSWER_MIN <= len(text) <= ANSWER_MAX:
            return envelope_error(
                400, f"Текст ответа должен содержать от {ANSWER_MIN} до {ANSWER_MAX} символов"
            )
        if record is None:
            return envelope_error(404, "Не найден отзыв")
        question_id = record.item_id
        if state == "none":
            wb.answer_question(record, text, reject=True)
            wb.record_answer(
                "question", question_id, text, "reject", accepted=True, duplicate=False
            )
            return envelope_ok(b"null")
        if record.data["answer"] is None:
            wb.answer_question(record, text, reject=False)
            wb.record_answer(
                "question", question_id, text, "create", accepted=True, duplicate=False
            )
            return envelope_ok(b"null")
        if not wb.can_edit_question(record):
            wb.record_answer("question", question_id, text, "edit", accepted=False, duplicate=True)
            return envelope_error(400, "Ответ нельзя отредактировать")
        wb.edit_question_answer(record, text)
        wb.record_answer("question", question_id, text, "edit", accepted=True, duplicate=False)
        return envelope_ok(b"null")

    # ----------------------------------------------------------------- buyer chat
    def chats_list(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        records = [chat.record for chat in wb.chat_order]
        fragments = self._fragments(wb, request, records, "chat")
        return SimResponse(200, b'{"result":' + join_records(fragments) + b',"errors":null}')

    def chat_events(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        raw_next = request.arg("next")
        cursor: int | None = None
        if raw_next is not None:
            try:
                cursor = int(raw_next)
            except ValueError:
                return chat_error("Invalid number")
            if cursor <= 0:
                return chat_error('Invalid value for "next"')
        records = wb.events.page(
            skip=0,
            take=EVENTS_BATCH,
            descending=False,
            from_us=None if cursor is None else cursor + 1,
        )
        fragments = self._fragments(wb, request, records, "event")
        result: dict[str, Any] = {"totalEvents": len(records)}
        if records:
            result["next"] = records[-1].created_us
            result["newestEventTime"] = records[-1].data["addTime"]
            result["oldestEventTime"] = records[0].data["addTime"]
        else:
            result["next"] = cursor if cursor is not None else max(1, wb.last_event_ms)
        head = dumps(result)[:-1]
        return SimResponse(
            200,
            b'{"result":' + head + b',"events":' + join_records(fragments) + b'},"errors":null}',
        )

    def chat_send(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        content_type = request.header("content-type") or ""
        if not content_type.lower().startswith("multipart/form-data"):
            return chat_error("request Content-Type isn't multipart/form-data", problem=True)
        parsed = parse_multipart(content_type, request.body)
        if parsed is None:
            return chat_error("malformed multipart body", problem=True)
        fields, files = parsed
        reply_sign = fields.get("replySign", "")
        chat = wb.chats_by_sign.get(reply_sign) if len(reply_sign) <= REPLY_SIGN_MAX else None
        if chat is None:
            return chat_error("Invalid signature", problem=True)
        message = fields.get("message", "")
        if len(message) > CHAT_MESSAGE_MAX or (not message and not files):
            return chat_error('Invalid value for "message"', problem=True)
        total = 0
        for stored in files:
            code = data.random_hex(wb._rng_chats, 11).upper()
            if stored.content_type not in CHAT_FILE_TYPES:
                return chat_error(
                    f'{code}: "{stored.name}" has unsupported mime type', problem=True
                )
            if len(stored.content) > CHAT_FILE_MAX:
                return chat_error(f"{code}: attachment too big. Max size: 5MiB", problem=True)
            total += len(stored.content)
        if total > CHAT_FILES_TOTAL_MAX:
            return chat_error("attachments too big. Max total size: 30MiB", problem=True)
        duplicate = bool(message) and message in chat.seller_texts
        event = wb.send_seller_message(chat, message, files)
        wb.record_answer(
            "chat", chat.chat_id, message, "message", accepted=True, duplicate=duplicate
        )
        return json_response(
            200, {"result": {"addTime": event.created_us, "chatID": chat.chat_id}, "errors": []}
        )

    def chat_download(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        file_id = request.path[len(DOWNLOAD_PREFIX) :]
        stored = wb.files.get(file_id)
        if stored is None:
            return json_response(
                400,
                {
                    "status": 400,
                    "title": "invalid fileID",
                    "origin": "proxy-chats",
                    "detail": "invalid fileID",
                    "requestId": request_id(),
                    "error": "invalid fileID",
                },
            )
        return SimResponse(200, stored.content, stored.content_type)

    # ----------------------------------------------------------------- content
    def cards_list(self, wb: WbAccount, request: SimRequest) -> SimResponse:
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return SimResponse(400, b"Request body can not be decoded", "text/plain; charset=utf-8")
        settings = body.get("settings") if isinstance(body, dict) else None
        if not isinstance(settings, dict):
            settings = {}
        sort = settings.get("sort") or {}
        flt = settings.get("filter") or {}
        cursor = settings.get("cursor") or {}
        if not all(isinstance(part, dict) for part in (sort, flt, cursor)):
            return envelope_error(400, "Некорректный формат запроса")
        limit = cursor.get("limit", 100)
        if not isinstance(limit, int) or not 1 <= limit <= CARDS_LIMIT_MAX:
            return json_response(
                400,
                {
                    "data": None,
                    "error": True,
                    "errorText": f"Неверный limit: допустимо от 1 до {CARDS_LIMIT_MAX}",
                    "additionalErrors": None,
                },
            )
        ascending = bool(sort.get("ascending", False))
        with_photo = flt.get("withPhoto", 0)
        search = str(flt.get("textSearch") or "").strip().lower()
        brands = set(flt.get("brands") or [])
        object_ids = set(flt.get("objectIDs") or [])
        imt_id = flt.get("imtID")
        products = sorted(wb.products, key=lambda p: (p.updated_us, p.nm_id), reverse=not ascending)
        selected = []
        for product in products:
            if with_photo == 0 and product.photo_count:
                continue
            if with_photo == 1 and not product.photo_count:
                continue
            if brands and product.brand not in brands:
                continue
            if object_ids and product.category.subject_id not in object_ids:
                continue
            if imt_id and product.imt_id != imt_id:
                continue
            if search and not (
                search == str(product.nm_id)
                or search in product.vendor_code.lower()
                or any(search == size[3] for size in product.sizes)
            ):
                continue
            selected.append(product)
        cursor_nm = cursor.get("nmID")
        cursor_at = cursor.get("updatedAt")
        if cursor_nm and cursor_at:
            try:
                at_us = int(datetime.fromisoformat(str(cursor_at)).timestamp() * 1_000_000)
            except ValueError:
                return envelope_error(400, "Неверный формат cursor.updatedAt")
            key = (at_us, int(cursor_nm))
            if ascending:
                selected = [p for p in selected if (p.updated_us, p.nm_id) > key]
            else:
                selected = [p for p in selected if (p.updated_us, p.nm_id) < key]
        page = selected[:limit]
        records = [Record(str(p.nm_id), p.updated_us, p.nm_id, card_payload(p)) for p in page]
        fragments = self._fragments(wb, request, records, "card")
        cursor_out: dict[str, Any] = {"total": len(page)}
        if page:
            cursor_out = {
                "updatedAt": iso_ms(page[-1].updated_us),
                "nmID": page[-1].nm_id,
                "total": len(page),
            }
        return SimResponse(
            200, b'{"cards":' + join_records(fragments) + b',"cursor":' + dumps(cursor_out) + b"}"
        )

    # ----------------------------------------------------------------- public CDN
    def card_json(self, request: SimRequest) -> SimResponse:
        match = CARD_PATH_RE.match(request.path)
        if request.method != "GET" or match is None:
            return SimResponse(404, b"404 page not found", "text/plain; charset=utf-8")
        vol, part, nm_id = (int(group) for group in match.groups())
        product = self.registry.wb_products.get(nm_id)
        if (
            product is None
            or vol != nm_id // 100_000
            or part != nm_id // 1000
            or request.host != data.basket_host(nm_id)
        ):
            return SimResponse(404, b"404 page not found", "text/plain; charset=utf-8")
        return json_response(200, card_json_payload(product), content_type="application/json")


def iso_ms(value_us: int) -> str:
    moment = datetime.fromtimestamp(value_us / 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def card_payload(product: data.Product) -> dict[str, Any]:
    return {
        "nmID": product.nm_id,
        "imtID": product.imt_id,
        "nmUUID": product.nm_uuid,
        "subjectID": product.category.subject_id,
        "subjectName": product.category.subject_name,
        "vendorCode": product.vendor_code,
        "brand": product.brand,
        "title": product.title,
        "description": product.description,
        "needKiz": product.need_kiz,
        "photos": product.photo_urls(),
        "video": "",
        "wholesale": {"enabled": False, "quantum": 0},
        "dimensions": {
            "length": 30,
            "width": 25,
            "height": 5,
            "weightBrutto": 0.45,
            "isValid": True,
        },
        "characteristics": [
            {"id": 14177449, "name": "Цвет", "value": [product.color]},
            {"id": 14177451, "name": "Состав", "value": [product.material]},
            {"id": 14177452, "name": "Страна производства", "value": [product.country]},
        ],
        "sizes": [
            {"chrtID": chrt, "techSize": tech, "wbSize": wb_size, "skus": [barcode]}
            for chrt, tech, wb_size, barcode in product.sizes
        ],
        "tags": [],
        "createdAt": iso_ms(product.created_us),
        "updatedAt": iso_ms(product.updated_us),
    }


def card_json_payload(product: data.Product) -> dict[str, Any]:
    options = [
        {"name": "Цвет", "value": product.color, "charc_type": 1},
        {"name": "Состав", "value": product.material, "charc_type": 1},
        {"name": "Страна производства", "value": product.country, "charc_type": 1},
    ]
    payload: dict[str, Any] = {
        "imt_id": product.imt_id,
        "nm_id": product.nm_id,
        "imt_name": product.title,
        "slug": data.slugify(product.title),
        "subj_name": product.category.subject_name,
        "subj_root_name": product.category.root_name,
        "vendor_code": product.vendor_code,
        "description": product.description,
        "options": options,
        "grouped_options": [{"group_name": "Основная информация", "options": options}],
        "compositions": [{"name": product.material.split(" ")[0]}],
        "nm_colors_names": product.color,
        "colors": [product.nm_id],
        "full_colors": [{"nm_id": product.nm_id}],
        "selling": {
            "brand_name": product.brand,
            "brand_hash": f"{zlib.crc32(product.brand.encode()):08X}{zlib.crc32(product.vendor_code.encode()):08X}",
            "supplier_id": 1234567,
        },
        "media": {"photo_count": product.photo_count},
        "data": {
            "subject_id": product.category.subject_id,
            "subject_root_id": product.category.root_id,
            "chrt_ids": [size[0] for size in product.sizes],
        },
        "certificate": {"verified": False},
        "need_kiz": product.need_kiz,
        "create_date": iso_ms(product.created_us),
        "update_date": iso_ms(product.updated_us),
    }
    return payload


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], list[StoredFile]] | None:
    """Split a multipart/form-data body into text fields and files."""
    envelope = (
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    message = BytesParser(policy=HTTP).parsebytes(envelope)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    files: list[StoredFile] = []
    for part in message.iter_parts():
        part_message = cast(Message, part)
        name = part_message.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part_message.get_filename()
        payload = part_message.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if filename is None and name != "file":
            charset = part_message.get_content_charset() or "utf-8"
            fields[name] = content.decode(charset, errors="replace")
        else:
            files.append(StoredFile(part_message.get_content_type(), content, filename or "file"))
    return fields, files
