"""Ozon Seller API as served by the simulator (ozon-*.md contracts): auth, limits, faults, methods.

Every method is ``POST https://api-seller.ozon.ru{path}`` with a JSON body and the headers
``Client-Id`` + ``Api-Key``. Errors use ``rpcStatus`` ``{code, message, details}`` (questions:
``details`` is a string). Choices where the contract says **unverified**:
- unknown Client-Id/Api-Key → 401 code 16; deactivated (revoked) or expired key → 403 code 7;
- a method the key's roles lack → 403 code 7 "Api-Key is missing a required role for a method";
- a method the subscription does not cover → 403 code 7 with a message naming the subscription;
- over 50 requests/s per Client-Id → 429 code 8, with ``Retry-After: 1``;
- chat send outside the reply window (48 h after the buyer's last message) → 400 code 9.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from connectors.simulator.core import (
    FaultKind,
    LimitRule,
    Record,
    SimRequest,
    SimResponse,
    TokenBucket,
    arrival_rates,
    json_response,
    now_us,
    rfc3339_from_us,
)
from connectors.simulator.ozon_data import (
    ATTRIBUTE_ANNOTATION,
    ATTRIBUTE_BRAND,
    ATTRIBUTE_MODEL,
    BUYER_CHAT_TYPES,
    CHAT_WRITE_SUBSCRIPTIONS,
    QUESTIONS_SUBSCRIPTIONS,
    REVIEWS_V1_SUBSCRIPTIONS,
    REVIEWS_V2_SUBSCRIPTIONS,
    OzonAccount,
    OzonAccountOptions,
    OzonChat,
    OzonProduct,
    parse_subscriptions,
    review_status_v1,
)
from connectors.simulator.registry import Registry

logger = logging.getLogger(__name__)

OZON_HOST = "api-seller.ozon.ru"
GLOBAL_LIMIT = LimitRule(50, 1.0, 50)
TIMEOUT_DEFAULT_DELAY = 30.0
REVIEW_LIMIT = (20, 100)
QUESTION_PAGE_MAX = 10  # the official schema: questions maxItems 10
QUESTION_ANSWER_TEXT = (2, 3000)
REVIEW_COMMENT_TEXT_MAX = 3000
CHAT_TEXT = (1, 1000)
CHAT_LIST_MAX = 100
CHAT_HISTORY_MAX = 1000
PRODUCT_IDS_MAX = 1000
ANSWER_LIST_PAGE = 20

MSG_INVALID_KEY = "Invalid Api-Key, please check the key and try again"
MSG_DEACTIVATED = "Api-key is deactivated, use another one or generate a new one"
MSG_MISSING_ROLE = "Api-Key is missing a required role for a method"
MSG_RATE_LIMIT = "You have reached request rate limit per second"
MSG_INTERNAL = "Internal error"
SUBSCRIPTION_MESSAGES = {
    "reviews_v2": "Method is available only with the Review management or Premium Pro subscription",
    "reviews_v1": "Method is available only with the Premium Plus, Premium Pro or Review management subscription",
    "questions": "Method is available only with the Premium Plus subscription",
    "chat_write": "Method is available only with the Premium Plus or Premium Pro subscription",
}
SUBSCRIPTION_SETS = {
    "reviews_v2": REVIEWS_V2_SUBSCRIPTIONS,
    "reviews_v1": REVIEWS_V1_SUBSCRIPTIONS,
    "questions": QUESTIONS_SUBSCRIPTIONS,
    "chat_write": CHAT_WRITE_SUBSCRIPTIONS,
}


@dataclass(frozen=True, slots=True)
class Route:
    handler: str
    subscription: str | None = None  # key of SUBSCRIPTION_SETS
    is_write: bool = False
    string_details: bool = False  # the Questions methods declare `details` as a string


ROUTES: dict[str, Route] = {
    "/v1/roles": Route("roles"),
    "/v2/review/list": Route("review_list_v2", "reviews_v2"),
    "/v2/review/info": Route("review_info_v2", "reviews_v2"),
    "/v2/review/count": Route("review_count_v2", "reviews_v2"),
    "/v2/review/change-status": Route("review_change_status_v2", "reviews_v2", is_write=True),
    "/v2/review/comment/delete": Route("review_comment_delete_v2", "reviews_v2", is_write=True),
    "/v1/review/list": Route("review_list_v1", "reviews_v1"),
    "/v1/review/info": Route("review_info_v1", "reviews_v1"),
    "/v1/review/count": Route("review_count_v1", "reviews_v1"),
    "/v1/review/change-status": Route("review_change_status_v1", "reviews_v1", is_write=True),
    "/v1/review/comment/delete": Route("review_comment_delete_v1", "reviews_v1", is_write=True),
    "/v1/review/comment/create": Route("review_comment_create", "reviews_v1", is_write=True),
    "/v1/review/comment/list": Route("review_comment_list", "reviews_v1"),
    "/v1/question/list": Route("question_list", "questions", string_details=True),
    "/v1/question/info": Route("question_info", "questions", string_details=True),
    "/v1/question/count": Route("question_count", "questions", string_details=True),
    "/v1/question/change-status": Route(
        "question_change_status", "questions", is_write=True, string_details=True
    ),
    "/v1/question/answer/create": Route(
        "question_answer_create", "questions", is_write=True, string_details=True
    ),
    "/v1/question/answer/list": Route("question_answer_list", "questions", string_details=True),
    "/v1/question/answer/delete": Route(
        "question_answer_delete", "questions", is_write=True, string_details=True
    ),
    "/v1/question/top-sku": Route("question_top_sku", "questions", string_details=True),
    "/v3/chat/list": Route("chat_list"),
    "/v3/chat/history": Route("chat_history"),
    "/v1/chat/send/message": Route("chat_send_message", "chat_write", is_write=True),
    "/v1/chat/send/file": Route("chat_send_file", "chat_write", is_write=True),
    "/v2/chat/read": Route("chat_read", "chat_write", is_write=True),
    "/v1/chat/start": Route("chat_start", "chat_write", is_write=True),
    "/v3/product/info/list": Route("product_info_list"),
    "/v1/product/info/description": Route("product_info_description"),
    "/v4/product/info/attributes": Route("product_info_attributes"),
    "/v3/product/list": Route("product_list"),
}
# Roles a key can carry (Seller API key access levels): Admin may call everything,
# "Read only" no method that changes anything.
ROLE_NAMES = ("Admin", "Read only")


def role_methods(role: str) -> list[str]:
    if role == "Admin":
        return sorted(ROUTES)
    if role == "Read only":
        return sorted(path for path, route in ROUTES.items() if not route.is_write)
    return []


class BadRequest(ValueError):
    """The request body breaks the method's schema; the message is returned with code 3."""


# --------------------------------------------------------------------------- error bodies
def rpc_error(status: int, code: int, message: str, *, string_details: bool = False) -> SimResponse:
    details: Any = "" if string_details else []
    return json_response(status, {"code": code, "message": message, "details": details})


def _int64(value: Any, name: str) -> int:
    """An int64 sent as a number or a numeric string (both occur in Ozon's examples)."""
    if isinstance(value, bool):
        raise BadRequest(f"invalid request payload: {name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise BadRequest(f"invalid request payload: {name} must be an integer")


def _str(body: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"invalid request payload: {name} is required")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"invalid request payload: {name} must be a string")
    return value


def _dict(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"invalid request payload: {name} must be an object")
    return value


def _limit(body: dict[str, Any], *, default: int | None, low: int, high: int) -> int:
    value = body.get("limit", default)
    if value is None:
        raise BadRequest("invalid request payload: limit is required")
    limit = _int64(value, "limit")
    if not low <= limit <= high:
        raise BadRequest(f"invalid request payload: limit must be in range [{low}, {high}]")
    return limit


def _parse_time(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest(f"invalid request payload: {name} must be a date-time string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"invalid request payload: {name} must be RFC 3339") from None
    return int(moment.timestamp() * 1_000_000)


def _sort_desc(body: dict[str, Any], *, default_desc: bool) -> bool:
    value = body.get("sort_dir")
    if value in (None, ""):
        return default_desc
    if not isinstance(value, str) or value.upper() not in ("ASC", "DESC"):
        raise BadRequest("invalid request payload: sort_dir must be ASC or DESC")
    return value.upper() == "DESC"


def corrupt_item(
    item: dict[str, Any], variant: int, drop: str, retype: str, bad: Any
) -> dict[str, Any]:
    damaged = dict(item)
    if variant % 2:
        damaged.pop(drop, None)
    else:
        damaged[retype] = bad
    return damaged


CORRUPTION: dict[str, tuple[str, str, Any]] = {
    "review": ("id", "rating", "пять"),
    "question": ("id", "published_at", 1_717_228_800),
    "chat": ("chat", "last_message_id", "нет"),
    "message": ("message_id", "created_at", "вчера"),
    "product": ("sku", "id", "12ab"),
    "comment": ("id", "is_owner", "да"),
    "answer": ("id", "published_at", 1_717_228_800),
}


# --------------------------------------------------------------------------- the API
class OzonApi:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    # ----------------------------------------------------------------- control API
    def create_account(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /_simulator/accounts with ``marketplace: "ozon"``; see ``OzonAccountOptions``."""
        from connectors.simulator.server import ControlError

        registry = self.registry
        seed = _control_int(body, "seed", registry.default_seed)
        client_id = body.get("client_id")
        api_key = body.get("api_key")
        if client_id is not None and not isinstance(client_id, str | int):
            raise ControlError(400, "client_id must be a string")
        if api_key is not None and not isinstance(api_key, str):
            raise ControlError(400, "api_key must be a string")
        rng = random.Random(f"{seed}:ozon:credentials:{len(registry.accounts)}")
        client_id = (
            str(client_id) if client_id is not None else str(rng.randrange(100_000, 9_999_999))
        )
        api_key = api_key or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        with registry.lock:
            existing = registry.ozon_credentials.get((client_id, api_key))
        if existing is not None:
            return {
                "account_id": existing,
                "client_id": client_id,
                "api_key": api_key,
                "created": False,
            }
        try:
            subscriptions = parse_subscriptions(body.get("subscription", "premium_pro"))
        except ValueError as error:
            raise ControlError(400, str(error)) from error
        roles = body.get("roles", ["Admin"])
        if not isinstance(roles, list) or any(role not in ROLE_NAMES for role in roles):
            raise ControlError(400, f"roles must be a list of {list(ROLE_NAMES)}")
        try:
            options = OzonAccountOptions(
                seed=seed,
                reviews=_control_int(body, "reviews", 100),
                questions=_control_int(body, "questions", 20),
                chats=_control_int(body, "chats", 5),
                products=max(1, _control_int(body, "products", 20)),
                limits=bool(body.get("limits", True)),
                subscriptions=frozenset(subscriptions),
                roles=tuple(roles),
                key_valid_days=float(body.get("key_valid_days", 150.0)),
                answered_share=float(body.get("answered_share", 0.3)),
                moderation_seconds=float(body.get("moderation_seconds", 2.0)),
                service_chats=_control_int(body, "service_chats", 1),
                requests_per_second=max(1, _control_int(body, "requests_per_second", 50)),
                arrival_per_minute=arrival_rates(body.get("arrival_per_minute")),
            )
        except (TypeError, ValueError) as error:
            raise ControlError(400, str(error)) from error
        account_id = registry.next_account_id("ozon")
        account = OzonAccount(account_id, client_id, api_key, options, registry.texts)
        with registry.lock:
            already = registry.ozon_credentials.get((client_id, api_key))
            if already is not None:
                return {
                    "account_id": already,
                    "client_id": client_id,
                    "api_key": api_key,
                    "created": False,
                }
            if client_id in registry.ozon_client_ids:
                raise ControlError(409, f"client_id {client_id} already has another api_key")
            registry.accounts[account_id] = account
            registry.ozon_credentials[(client_id, api_key)] = account_id
            registry.ozon_client_ids[client_id] = account_id
        logger.info(
            "Simulator account created", extra={"account_id": account_id, "marketplace": "ozon"}
        )
        return {
            "account_id": account_id,
            "client_id": client_id,
            "api_key": api_key,
            "created": True,
        }

    # ----------------------------------------------------------------- dispatch
    def handle(self, request: SimRequest) -> SimResponse:
        route = ROUTES.get(request.path)
        if route is None:
            return rpc_error(404, 5, "method is not allowed")
        if request.method != "POST":
            return rpc_error(405, 12, "method is not allowed")
        client_id = (request.header("client-id") or "").strip()
        api_key = (request.header("api-key") or "").strip()
        details = route.string_details
        with self.registry.lock:
            account_id = self.registry.ozon_credentials.get((client_id, api_key))
            account = self.registry.accounts.get(account_id) if account_id else None
        if account is None:
            return rpc_error(401, 16, MSG_INVALID_KEY, string_details=details)
        ozon = cast(OzonAccount, account)
        with ozon.lock:
            ozon.tick()
            verdict = self._gate(ozon, request, route)
            if isinstance(verdict, SimResponse):
                return verdict
        if verdict < 0:
            time.sleep(-verdict)
            return SimResponse(0, drop_connection=True)
        if verdict > 0:
            time.sleep(verdict)
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return rpc_error(
                400, 3, "invalid request payload: body is not JSON", string_details=details
            )
        if not isinstance(body, dict):
            return rpc_error(
                400, 3, "invalid request payload: body must be an object", string_details=details
            )
        handler: Callable[[OzonAccount, SimRequest, dict[str, Any]], SimResponse] = getattr(
            self, route.handler
        )
        with ozon.lock:
            try:
                return handler(ozon, request, body)
            except BadRequest as error:
                return rpc_error(400, 3, str(error), string_details=details)

    def _gate(self, ozon: OzonAccount, request: SimRequest, route: Route) -> SimResponse | float:
        """Account checks in gateway order; a response to send, or the delay (< 0: drop)."""
        stats = ozon.stats
        stats.requests += 1
        stats.requests_by_path[request.route_key] += 1
        details = route.string_details
        if ozon.is_revoked or now_us() >= ozon.key_expires_us:
            return rpc_error(403, 7, MSG_DEACTIVATED, string_details=details)
        fault = ozon.faults.pop_request_fault(request.route_key)
        delay = 0.0
        if fault is not None:
            if fault.kind is FaultKind.TOO_MANY_REQUESTS:
                stats.responses_429 += 1
                return rpc_error(429, 8, MSG_RATE_LIMIT, string_details=details).with_headers(
                    ("Retry-After", "1")
                )
            if fault.kind is FaultKind.SERVER_ERROR:
                return rpc_error(500, 13, MSG_INTERNAL, string_details=details)
            if fault.kind is FaultKind.SLOW:
                delay = fault.delay_seconds
            if fault.kind is FaultKind.TIMEOUT:
                return -(fault.delay_seconds or TIMEOUT_DEFAULT_DELAY)
        if ozon.limits_enabled:
            bucket = ozon.buckets.get("global")
            if bucket is None:
                rate = ozon.options.requests_per_second
                rule = GLOBAL_LIMIT if rate == GLOBAL_LIMIT.limit else LimitRule(rate, 1.0, rate)
                bucket = TokenBucket(rule, time.monotonic())
                ozon.buckets["global"] = bucket
            if not bucket.take(time.monotonic()).allowed:
                stats.responses_429 += 1
                stats.rate_limit_overruns += 1
                return rpc_error(429, 8, MSG_RATE_LIMIT, string_details=details).with_headers(
                    ("Retry-After", "1")
                )
        if not any(request.path in role_methods(role) for role in ozon.roles):
            return rpc_error(403, 7, MSG_MISSING_ROLE, string_details=details)
        if route.subscription is not None and not ozon.has_subscription(
            SUBSCRIPTION_SETS[route.subscription]
        ):
            return rpc_error(
                403, 7, SUBSCRIPTION_MESSAGES[route.subscription], string_details=details
            )
        return delay

    def _items(
        self, ozon: OzonAccount, request: SimRequest, items: list[dict[str, Any]], kind: str
    ) -> list[dict[str, Any]]:
        if items and ozon.faults.pop_malformed(request.route_key):
            drop, retype, bad = CORRUPTION[kind]
            items = [
                corrupt_item(items[0], ozon.malformed_variant(), drop, retype, bad),
                *items[1:],
            ]
        return items

    # ----------------------------------------------------------------- roles
    def roles(self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]) -> SimResponse:
        return json_response(
            200,
            {
                "expires_at": rfc3339_from_us(ozon.key_expires_us),
                "roles": [{"name": role, "methods": role_methods(role)} for role in ozon.roles],
            },
        )

    # ----------------------------------------------------------------- reviews
    def _review_page(
        self, ozon: OzonAccount, body: dict[str, Any], *, statuses: set[str] | None
    ) -> tuple[list[Record], bool, str]:
        limit = _limit(body, default=None, low=REVIEW_LIMIT[0], high=REVIEW_LIMIT[1])
        descending = _sort_desc(body, default_desc=True)
        last_id = _str(body, "last_id")
        filters = _dict(body, "filters")
        from_us = _parse_time(filters.get("published_from"), "filters.published_from")
        to_us = _parse_time(filters.get("published_to"), "filters.published_to")
        skus_raw = filters.get("skus") or []
        if not isinstance(skus_raw, list) or len(skus_raw) > 1000:
            raise BadRequest("invalid request payload: filters.skus must be up to 1000 SKUs")
        skus = {_int64(value, "filters.skus") for value in skus_raw}
        order_status = str(filters.get("order_status") or "ALL").upper()
        if last_id:
            anchor = ozon.reviews_by_id.get(last_id)
            if anchor is None:
                raise BadRequest("invalid request payload: unknown last_id")
            if descending:
                to_us = (
                    anchor.created_us - 1 if to_us is None else min(to_us, anchor.created_us - 1)
                )
            else:
                from_us = (
                    anchor.created_us + 1
                    if from_us is None
                    else max(from_us, anchor.created_us + 1)
                )
        return _filtered_page(
            ozon.reviews,
            limit=limit,
            descending=descending,
            from_us=from_us,
            to_us=to_us,
            keep=lambda r: (
                (statuses is None or r.data["status"] in statuses)
                and (not skus or r.nm_id in skus)
                and (order_status == "ALL" or r.data["order_status"] == order_status)
            ),
            last_id=last_id,
        )

    def review_list_v2(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        status = str(_dict(body, "filters").get("status") or "ALL").upper()
        if status not in ("ALL", "NEW", "VIEWED", "PROCESSED"):
            raise BadRequest("invalid request payload: filters.status")
        records, has_next, last_id = self._review_page(
            ozon, body, statuses=None if status == "ALL" else {status}
        )
        items = self._items(ozon, request, [dict(r.data) for r in records], "review")
        return json_response(200, {"reviews": items, "has_next": has_next, "last_id": last_id})

    def review_list_v1(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        status = str(body.get("status") or "ALL").upper()
        mapping = {"ALL": None, "UNPROCESSED": {"NEW", "VIEWED"}, "PROCESSED": {"PROCESSED"}}
        if status not in mapping:
            raise BadRequest("invalid request payload: status")
        records, has_next, last_id = self._review_page(ozon, body, statuses=mapping[status])
        items = []
        for record in records:
            item = dict(record.data)
            item["status"] = review_status_v1(item["status"])
            items.append(item)
        items = self._items(ozon, request, items, "review")
        return json_response(200, {"reviews": items, "has_next": has_next, "last_id": last_id})

    def _review(self, ozon: OzonAccount, body: dict[str, Any]) -> Record | SimResponse:
        review_id = _str(body, "review_id", required=True)
        record = ozon.reviews_by_id.get(review_id)
        if record is None:
            return rpc_error(404, 5, "review not found")
        return record

    def review_info_v2(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._review(ozon, body)
        if isinstance(record, SimResponse):
            return record
        return json_response(200, ozon.review_info(record))

    def review_info_v1(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._review(ozon, body)
        if isinstance(record, SimResponse):
            return record
        payload = ozon.review_info(record)
        payload["status"] = review_status_v1(payload["status"])
        return json_response(200, payload)

    def review_count_v2(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        counts = {"NEW": 0, "VIEWED": 0, "PROCESSED": 0}
        for record in ozon.reviews:
            counts[record.data["status"]] += 1
        return json_response(
            200,
            {
                "total": len(ozon.reviews),
                "new": counts["NEW"],
                "viewed": counts["VIEWED"],
                "processed": counts["PROCESSED"],
            },
        )

    def review_count_v1(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        processed = sum(1 for r in ozon.reviews if r.data["status"] == "PROCESSED")
        return json_response(
            200,
            {
                "total": len(ozon.reviews),
                "processed": processed,
                "unprocessed": len(ozon.reviews) - processed,
            },
        )

    def _change_review_status(
        self, ozon: OzonAccount, body: dict[str, Any], allowed: dict[str, str]
    ) -> SimResponse:
        ids = body.get("review_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise BadRequest("invalid request payload: review_ids must hold 1 to 100 ids")
        status = str(body.get("status") or "").upper()
        if status not in allowed:
            raise BadRequest("invalid request payload: status")
        for review_id in ids:
            record = ozon.reviews_by_id.get(str(review_id))
            if record is None:
                return rpc_error(404, 5, "review not found")
        for review_id in ids:
            record = ozon.reviews_by_id[str(review_id)]
            new = allowed[status]
            if status == "UNPROCESSED" and record.data["status"] != "PROCESSED":
                new = record.data["status"]
            record.data["status"] = new
            record.changed()
        return json_response(200, {})

    def review_change_status_v2(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        return self._change_review_status(
            ozon, body, {"NEW": "NEW", "VIEWED": "VIEWED", "PROCESSED": "PROCESSED"}
        )

    def review_change_status_v1(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        return self._change_review_status(
            ozon, body, {"PROCESSED": "PROCESSED", "UNPROCESSED": "VIEWED"}
        )

    def review_comment_create(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._review(ozon, body)
        if isinstance(record, SimResponse):
            return record
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("invalid request payload: text is required")
        if len(text) > REVIEW_COMMENT_TEXT_MAX:
            raise BadRequest(
                f"invalid request payload: text must be at most {REVIEW_COMMENT_TEXT_MAX} characters"
            )
        parent = _str(body, "parent_comment_id")
        if parent and parent not in ozon.comments:
            return rpc_error(404, 5, "comment not found")
        mark = body.get("mark_review_as_processed", False)
        if not isinstance(mark, bool):
            raise BadRequest("invalid request payload: mark_review_as_processed must be a boolean")
        duplicate = bool(ozon.owner_comments(record.item_id)) and not parent
        comment = ozon.add_comment(record, text, parent_comment_id=parent, mark_processed=mark)
        ozon.record_answer(
            "review_comment", record.item_id, text, "create", accepted=True, duplicate=duplicate
        )
        return json_response(200, {"comment_id": comment.comment_id})

    def review_comment_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        limit = _limit(body, default=None, low=20, high=100)
        offset = _int64(body.get("offset", 0) or 0, "offset")
        if offset < 0:
            raise BadRequest("invalid request payload: offset must be non-negative")
        # The swagger's oneOf: either `review_id`, or `filter.sku` (all reviews of one SKU).
        review_id = _str(body, "review_id")
        flt = _dict(body, "filter")
        if review_id:
            if review_id not in ozon.reviews_by_id:
                return rpc_error(404, 5, "review not found")
            review_ids = [review_id]
        elif flt.get("sku") is not None:
            sku = _int64(flt["sku"], "filter.sku")
            review_ids = [r.item_id for r in ozon.reviews if r.nm_id == sku]
        else:
            raise BadRequest("invalid request payload: review_id or filter.sku is required")
        descending = _sort_desc(body, default_desc=False)
        comments = [
            c
            for rid in review_ids
            for c in ozon.comments_by_review.get(rid, [])
            if not c.is_deleted
        ]
        comments.sort(key=lambda c: c.published_us, reverse=descending)
        page = comments[offset : offset + limit]
        now = now_us()
        items = self._items(ozon, request, [c.as_wire(now) for c in page], "comment")
        return json_response(200, {"offset": offset + len(page), "comments": items})

    def _delete_comment(
        self, ozon: OzonAccount, body: dict[str, Any], *, needs_sku: bool
    ) -> SimResponse:
        comment_id = _str(body, "comment_id", required=True)
        if needs_sku:
            if body.get("sku") is None:
                raise BadRequest("invalid request payload: sku is required")
            sku = _int64(body["sku"], "sku")
        comment = ozon.comments.get(comment_id)
        if comment is None or comment.is_deleted:
            return rpc_error(404, 5, "comment not found")
        record = ozon.reviews_by_id[comment.review_id]
        if needs_sku and record.nm_id != sku:
            return rpc_error(404, 5, "comment not found for this sku")
        if not comment.is_owner:
            return rpc_error(403, 7, "only the seller's own comments can be deleted")
        ozon.delete_comment(comment)
        ozon.record_answer(
            "review_comment",
            comment.review_id,
            comment.text,
            "delete",
            accepted=True,
            duplicate=False,
        )
        return json_response(200, {})

    def review_comment_delete_v2(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        return self._delete_comment(ozon, body, needs_sku=True)

    def review_comment_delete_v1(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        return self._delete_comment(ozon, body, needs_sku=False)

    # ----------------------------------------------------------------- questions
    def question_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        limit = min(_limit(body, default=QUESTION_PAGE_MAX, low=1, high=100), QUESTION_PAGE_MAX)
        descending = _sort_desc(body, default_desc=True)
        last_id = _str(body, "last_id")
        flt = _dict(body, "filter")
        from_us = _parse_time(flt.get("date_from"), "filter.date_from")
        to_us = _parse_time(flt.get("date_to"), "filter.date_to")
        status = str(flt.get("status") or "ALL").upper()
        mapping: dict[str, set[str] | None] = {
            "ALL": None,
            "NEW": {"NEW"},
            "VIEWED": {"VIEWED"},
            "PROCESSED": {"PROCESSED"},
            "UNPROCESSED": {"NEW", "VIEWED"},
        }
        if status not in mapping:
            raise BadRequest("invalid request payload: filter.status")
        wanted = mapping[status]
        if last_id:
            anchor = ozon.questions_by_id.get(last_id)
            if anchor is None:
                raise BadRequest("invalid request payload: unknown last_id")
            if descending:
                to_us = (
                    anchor.created_us - 1 if to_us is None else min(to_us, anchor.created_us - 1)
                )
            else:
                from_us = (
                    anchor.created_us + 1
                    if from_us is None
                    else max(from_us, anchor.created_us + 1)
                )
        records, has_next, next_last = _filtered_page(
            ozon.questions,
            limit=limit,
            descending=descending,
            from_us=from_us,
            to_us=to_us,
            keep=lambda r: wanted is None or r.data["status"] in wanted,
            last_id=last_id,
        )
        items = self._items(ozon, request, [dict(r.data) for r in records], "question")
        return json_response(200, {"questions": items, "last_id": next_last, "has_next": has_next})

    def _question(self, ozon: OzonAccount, body: dict[str, Any]) -> Record | SimResponse:
        question_id = _str(body, "question_id", required=True)
        record = ozon.questions_by_id.get(question_id)
        if record is None:
            return rpc_error(404, 5, "question not found", string_details=True)
        return record

    def question_info(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._question(ozon, body)
        if isinstance(record, SimResponse):
            return record
        return json_response(200, record.data)

    def question_count(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        counts = {"NEW": 0, "VIEWED": 0, "PROCESSED": 0}
        for record in ozon.questions:
            counts[record.data["status"]] += 1
        return json_response(
            200,
            {
                "all": len(ozon.questions),
                "new": counts["NEW"],
                "viewed": counts["VIEWED"],
                "processed": counts["PROCESSED"],
                "unprocessed": counts["NEW"] + counts["VIEWED"],
            },
        )

    def question_change_status(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        ids = body.get("question_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise BadRequest("invalid request payload: question_ids must hold 1 to 100 ids")
        status = str(body.get("status") or "").upper()
        if status not in ("NEW", "VIEWED", "PROCESSED"):
            raise BadRequest("invalid request payload: status")
        records = [ozon.questions_by_id.get(str(qid)) for qid in ids]
        if any(record is None for record in records):
            return rpc_error(404, 5, "question not found", string_details=True)
        for record in records:
            assert record is not None
            record.data["status"] = status
            record.changed()
        return json_response(200, {})

    def _question_with_sku(self, ozon: OzonAccount, body: dict[str, Any]) -> Record | SimResponse:
        record = self._question(ozon, body)
        if isinstance(record, SimResponse):
            return record
        if body.get("sku") is None:
            raise BadRequest("invalid request payload: sku is required")
        if _int64(body["sku"], "sku") != record.nm_id:
            return rpc_error(404, 5, "question not found for this sku", string_details=True)
        return record

    def question_answer_create(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._question_with_sku(ozon, body)
        if isinstance(record, SimResponse):
            return record
        text = body.get("text")
        low, high = QUESTION_ANSWER_TEXT
        if not isinstance(text, str) or not low <= len(text) <= high:
            raise BadRequest(f"invalid request payload: text must be {low} to {high} characters")
        duplicate = bool(ozon.active_answers(record.item_id))
        answer = ozon.add_question_answer(record, text)
        ozon.record_answer(
            "question_answer", record.item_id, text, "create", accepted=True, duplicate=duplicate
        )
        return json_response(200, {"answer_id": answer.answer_id})

    def question_answer_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        record = self._question_with_sku(ozon, body)
        if isinstance(record, SimResponse):
            return record
        last_id = body.get("last_id") or ""
        if not isinstance(last_id, str):
            raise BadRequest("invalid request payload: last_id must be a string")
        answers = sorted(ozon.active_answers(record.item_id), key=lambda a: a.published_us)
        if last_id:
            ids = [a.answer_id for a in answers]
            if last_id not in ids:
                raise BadRequest("invalid request payload: unknown last_id")
            answers = answers[ids.index(last_id) + 1 :]
        page = answers[:ANSWER_LIST_PAGE]
        now = now_us()
        items = self._items(ozon, request, [a.as_wire(now) for a in page], "answer")
        return json_response(200, {"answers": items, "last_id": page[-1].answer_id if page else ""})

    def question_answer_delete(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        answer_id = _str(body, "answer_id", required=True)
        if body.get("sku") is None:
            raise BadRequest("invalid request payload: sku is required")
        sku = _int64(body["sku"], "sku")
        answer = ozon.question_answers.get(answer_id)
        if answer is None or answer.is_deleted or answer.sku != sku:
            return rpc_error(404, 5, "answer not found", string_details=True)
        ozon.delete_question_answer(answer)
        ozon.record_answer(
            "question_answer",
            answer.question_id,
            answer.text,
            "delete",
            accepted=True,
            duplicate=False,
        )
        return json_response(200, {})

    def question_top_sku(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        limit = _limit(body, default=None, low=1, high=100)
        counts: dict[int, int] = {}
        for record in ozon.questions:
            counts[record.nm_id] = counts.get(record.nm_id, 0) + 1
        top = sorted(counts, key=lambda sku: (-counts[sku], sku))[:limit]
        return json_response(200, {"sku": [str(sku) for sku in top]})

    # ----------------------------------------------------------------- chats
    def chat_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        limit = _limit(body, default=30, low=1, high=CHAT_LIST_MAX)
        flt = _dict(body, "filter")
        status = str(flt.get("chat_status") or "ALL").upper()
        if status not in ("ALL", "OPENED", "CLOSED", "UNSPECIFIED"):
            raise BadRequest("invalid request payload: filter.chat_status")
        unread_only = flt.get("unread_only", False)
        if not isinstance(unread_only, bool):
            raise BadRequest("invalid request payload: filter.unread_only must be a boolean")
        cursor = _str(body, "cursor")
        before: int | None = None
        if cursor:
            if not cursor.isdigit():
                raise BadRequest("invalid request payload: cursor")
            before = int(cursor)
        chats = [
            c
            for c in ozon.chats_by_recency()
            if c.messages
            and (status in ("ALL", "UNSPECIFIED") or c.status == status)
            and (not unread_only or c.unread)
            and (before is None or c.last_message_id < before)
        ]
        page = chats[:limit]
        has_next = len(chats) > limit
        items = [self._chat_wire(chat) for chat in page]
        items = self._items(ozon, request, items, "chat")
        next_cursor = str(page[-1].last_message_id) if page else cursor
        total_unread = sum(len(c.unread) for c in ozon.chats.values())
        return json_response(
            200,
            {
                "chats": items,
                "total_unread_count": total_unread,
                "cursor": next_cursor,
                "has_next": has_next,
            },
        )

    @staticmethod
    def _chat_wire(chat: OzonChat) -> dict[str, Any]:
        unread = chat.unread
        return {
            "chat": {
                "chat_id": chat.chat_id,
                "chat_status": chat.status,
                "chat_type": chat.chat_type,
                "created_at": rfc3339_from_us(chat.created_us, fraction=True),
            },
            "first_unread_message_id": unread[0].message_id if unread else 0,
            "last_message_id": chat.last_message_id,
            "unread_count": len(unread),
        }

    def _chat(self, ozon: OzonAccount, body: dict[str, Any]) -> OzonChat | SimResponse:
        chat_id = _str(body, "chat_id", required=True)
        chat = ozon.chats.get(chat_id)
        if chat is None:
            return rpc_error(404, 5, "chat not found")
        return chat

    def chat_history(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        chat = self._chat(ozon, body)
        if isinstance(chat, SimResponse):
            return chat
        limit = _limit(body, default=50, low=1, high=CHAT_HISTORY_MAX)
        direction = str(body.get("direction") or "Backward").capitalize()
        if direction not in ("Forward", "Backward"):
            raise BadRequest("invalid request payload: direction must be Forward or Backward")
        raw_from = body.get("from_message_id")
        from_id = None if raw_from in (None, "", 0, "0") else _int64(raw_from, "from_message_id")
        if direction == "Forward" and from_id is None:
            raise BadRequest("invalid request payload: from_message_id is required for Forward")
        wanted_ids = _dict(body, "filter").get("message_ids") or []
        if not isinstance(wanted_ids, list):
            raise BadRequest("invalid request payload: filter.message_ids must be an array")
        if wanted_ids:
            ids = {_int64(value, "filter.message_ids") for value in wanted_ids}
            selected = [m for m in chat.messages if m.message_id in ids]
            has_next = False
        elif direction == "Forward":
            assert from_id is not None
            after = [m for m in chat.messages if m.message_id >= from_id]
            selected, has_next = after[:limit], len(after) > limit
        else:
            before = [
                m for m in reversed(chat.messages) if from_id is None or m.message_id <= from_id
            ]
            selected, has_next = before[:limit], len(before) > limit
        items = self._items(ozon, request, [chat.message_wire(m) for m in selected], "message")
        return json_response(200, {"has_next": has_next, "messages": items})

    def _check_send(self, ozon: OzonAccount, chat: OzonChat) -> SimResponse | None:
        if chat.chat_type not in BUYER_CHAT_TYPES:
            return rpc_error(403, 7, "sending to this chat type is not allowed")
        window_end = ozon.chat_send_window_ends_us(chat)
        if chat.status != "OPENED" or window_end is None or now_us() > window_end:
            return rpc_error(400, 9, "chat is closed for sending")
        return None

    def chat_send_message(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        chat = self._chat(ozon, body)
        if isinstance(chat, SimResponse):
            return chat
        text = body.get("text")
        low, high = CHAT_TEXT
        if not isinstance(text, str) or not low <= len(text) <= high:
            raise BadRequest(f"invalid request payload: text must be {low} to {high} characters")
        refused = self._check_send(ozon, chat)
        if refused is not None:
            ozon.record_answer(
                "chat", chat.chat_id, text, "message", accepted=False, duplicate=False
            )
            return refused
        duplicate = text in chat.seller_texts
        ozon.send_seller_message(chat, text)
        ozon.record_answer(
            "chat", chat.chat_id, text, "message", accepted=True, duplicate=duplicate
        )
        return json_response(200, {"result": "success"})

    def chat_send_file(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        chat = self._chat(ozon, body)
        if isinstance(chat, SimResponse):
            return chat
        name = _str(body, "name", required=True)
        content = _str(body, "base64_content", required=True)
        try:
            base64.b64decode(content, validate=True)
        except ValueError:
            raise BadRequest("invalid request payload: base64_content is not base64") from None
        refused = self._check_send(ozon, chat)
        if refused is not None:
            return refused
        message = ozon.send_seller_message(
            chat, f"[{name}](https://cdn1.ozone.ru/s3/chat-files/{name})"
        )
        message.is_image = name.lower().endswith((".png", ".jpg", ".jpeg"))
        ozon.record_answer("chat", chat.chat_id, name, "file", accepted=True, duplicate=False)
        return json_response(200, {"result": "success"})

    def chat_read(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        chat = self._chat(ozon, body)
        if isinstance(chat, SimResponse):
            return chat
        raw_from = body.get("from_message_id")
        upto = None if raw_from in (None, "", 0, "0") else _int64(raw_from, "from_message_id")
        for message in chat.messages:
            if upto is None or message.message_id <= upto:
                message.is_read = True
        return json_response(200, {"unread_count": len(chat.unread)})

    def chat_start(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        posting = _str(body, "posting_number", required=True)
        for chat in ozon.chats.values():
            if chat.order_number == posting:
                return json_response(200, {"result": {"chat_id": chat.chat_id}})
        return rpc_error(404, 5, "posting not found")

    # ----------------------------------------------------------------- products
    def _products_by_ids(
        self, ozon: OzonAccount, body: dict[str, Any], *, container: dict[str, Any]
    ) -> list[OzonProduct]:
        offer_ids = container.get("offer_id") or []
        product_ids = container.get("product_id") or []
        skus = container.get("sku") or []
        if not all(isinstance(group, list) for group in (offer_ids, product_ids, skus)):
            raise BadRequest("invalid request payload: ids must be arrays")
        if len(offer_ids) + len(product_ids) + len(skus) > PRODUCT_IDS_MAX:
            raise BadRequest(f"invalid request payload: at most {PRODUCT_IDS_MAX} ids")
        found: dict[int, OzonProduct] = {}
        for offer in offer_ids:
            product = ozon.products_by_offer.get(str(offer))
            if product is not None:
                found[product.product_id] = product
        for value in product_ids:
            product = ozon.products_by_id.get(_int64(value, "product_id"))
            if product is not None:
                found[product.product_id] = product
        for value in skus:
            product = ozon.products_by_sku.get(_int64(value, "sku"))
            if product is not None:
                found[product.product_id] = product
        return list(found.values())

    def product_info_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        products = self._products_by_ids(ozon, body, container=body)
        items = self._items(ozon, request, [product_info(p) for p in products], "product")
        return json_response(200, {"items": items})

    def product_info_description(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        product: OzonProduct | None = None
        if body.get("product_id") not in (None, ""):
            product = ozon.products_by_id.get(_int64(body["product_id"], "product_id"))
        elif body.get("offer_id"):
            product = ozon.products_by_offer.get(str(body["offer_id"]))
        else:
            raise BadRequest("invalid request payload: offer_id or product_id is required")
        if product is None:
            return rpc_error(404, 5, "product not found")
        base = product.base
        description = (
            f"{base.description}<br/><ul><li>Бренд: {base.brand}</li>"
            f"<li>Страна производства: {base.country}</li></ul>"
        )
        return json_response(
            200,
            {
                "result": {
                    "id": product.product_id,
                    "offer_id": product.offer_id,
                    "name": base.title,
                    "description": description,
                }
            },
        )

    def product_info_attributes(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        flt = _dict(body, "filter")
        limit = _limit(body, default=100, low=1, high=1000)
        last_id = _str(body, "last_id")
        if flt.get("offer_id") or flt.get("product_id") or flt.get("sku"):
            products = self._products_by_ids(ozon, body, container=flt)
        else:
            products = list(ozon.products)
        products.sort(key=lambda p: p.product_id)
        if last_id:
            products = [p for p in products if str(p.product_id) > last_id]
        page = products[:limit]
        items = self._items(ozon, request, [product_attributes(p) for p in page], "product")
        return json_response(
            200,
            {
                "result": items,
                "last_id": str(page[-1].product_id) if len(products) > limit else "",
                "total": str(len(products)),
            },
        )

    def product_list(
        self, ozon: OzonAccount, request: SimRequest, body: dict[str, Any]
    ) -> SimResponse:
        flt = _dict(body, "filter")
        limit = _limit(body, default=100, low=1, high=1000)
        last_id = _str(body, "last_id")
        if flt.get("offer_id") or flt.get("product_id"):
            products = self._products_by_ids(ozon, body, container=flt)
        else:
            products = list(ozon.products)
        products.sort(key=lambda p: p.product_id)
        total = len(products)
        if last_id:
            products = [p for p in products if str(p.product_id) > last_id]
        page = products[:limit]
        items = [
            {
                "product_id": p.product_id,
                "offer_id": p.offer_id,
                "has_fbo_stocks": True,
                "has_fbs_stocks": p.product_id % 3 == 0,
                "archived": False,
                "is_discounted": False,
                "quants": [],
            }
            for p in page
        ]
        return json_response(
            200,
            {
                "result": {
                    "items": items,
                    "total": total,
                    "last_id": str(page[-1].product_id) if page else "",
                }
            },
        )


def _filtered_page(
    store: Any,
    *,
    limit: int,
    descending: bool,
    from_us: int | None,
    to_us: int | None,
    keep: Callable[[Record], bool],
    last_id: str,
) -> tuple[list[Record], bool, str]:
    """Up to ``limit`` records in the window that pass ``keep``, whether more exist, next last_id."""
    selected: list[Record] = []
    skip = 0
    chunk = max(limit + 1, 200)
    while len(selected) <= limit:
        batch = store.page(
            skip=skip, take=chunk, descending=descending, from_us=from_us, to_us=to_us
        )
        if not batch:
            break
        selected.extend(record for record in batch if keep(record))
        skip += len(batch)
    page = selected[:limit]
    return page, len(selected) > limit, page[-1].item_id if page else last_id


def _control_int(body: dict[str, Any], name: str, default: int) -> int:
    from connectors.simulator.server import ControlError

    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError(400, f"{name} must be a non-negative integer")
    return value


def product_info(product: OzonProduct) -> dict[str, Any]:
    base = product.base
    image = (
        f"https://cdn1.ozone.ru/s3/multimedia-1-{base.nm_id % 10}/{7_000_000_000 + base.nm_id}.jpg"
    )
    images = [image] + [
        f"https://cdn1.ozone.ru/s3/multimedia-1-{n}/{7_000_000_000 + base.nm_id + n}.jpg"
        for n in range(1, max(1, base.photo_count))
    ]
    return {
        "id": product.product_id,
        "sku": product.sku,
        "offer_id": product.offer_id,
        "name": base.title,
        "barcodes": [size[3] for size in base.sizes],
        "images": images,
        "primary_image": [image],
        "color_image": [],
        "images360": [],
        "description_category_id": 17_000_000 + base.category.subject_id,
        "type_id": 90_000 + base.category.subject_id,
        "created_at": rfc3339_from_us(base.created_us),
        "updated_at": rfc3339_from_us(base.updated_us),
        "currency_code": "RUB",
        "price": f"{base.price}.0000",
        "old_price": f"{int(base.price * 1.3)}.0000",
        "min_price": f"{int(base.price * 0.95)}.0000",
        "vat": "0.2",
        "is_archived": False,
        "is_autoarchived": False,
        "is_discounted": False,
        "has_discounted_fbo_item": False,
        "discounted_fbo_stocks": 0,
        "is_kgt": False,
        "is_prepayment_allowed": True,
        "is_super": False,
        "volume_weight": 0.5,
        "model_info": {"model_id": product.product_id // 10, "count": 1},
        "availabilities": [],
        "commissions": [
            {
                "sale_schema": "FBO",
                "percent": 15.0,
                "value": round(base.price * 0.15, 2),
                "delivery_amount": 0.0,
                "return_amount": 0.0,
            }
        ],
        "errors": [],
        "promotions": [],
        "sources": [
            {
                "created_at": rfc3339_from_us(base.created_us),
                "quant_code": "",
                "shipment_type": "SHIPMENT_TYPE_GENERAL",
                "sku": product.sku,
                "source": "FBO",
            }
        ],
        "statuses": {
            "is_created": True,
            "moderate_status": "approved",
            "status": "price_sent",
            "status_description": "",
            "status_failed": "",
            "status_name": "Продается",
            "status_tooltip": "",
            "status_updated_at": rfc3339_from_us(base.updated_us),
            "validation_status": "success",
        },
        "stocks": {
            "has_stock": True,
            "stocks": [
                {
                    "present": 10 + base.nm_id % 50,
                    "reserved": base.nm_id % 3,
                    "sku": product.sku,
                    "source": "fbo",
                }
            ],
        },
        "visibility_details": {"has_price": True, "has_stock": True},
    }


def product_attributes(product: OzonProduct) -> dict[str, Any]:
    info = product_info(product)
    base = product.base
    return {
        "id": product.product_id,
        "sku": str(product.sku),
        "offer_id": product.offer_id,
        "name": base.title,
        "barcode": base.sizes[0][3],
        "barcodes": [size[3] for size in base.sizes],
        "description_category_id": info["description_category_id"],
        "type_id": info["type_id"],
        # The swagger's items are objects (`GetProductAttributesResponseImage`), although the
        # description says "links"; the official schema wins over ozon-products.md.
        "images": [
            {"default": index == 0, "file_name": url, "index": index}
            for index, url in enumerate(info["images"])
        ],
        "primary_image": info["primary_image"][0],
        "color_image": "",
        "pdf_list": [],
        "model_info": info["model_info"],
        "height": 50,
        "width": 250,
        "depth": 300,
        "dimension_unit": "mm",
        "weight": 450,
        "weight_unit": "g",
        "attributes_with_defaults": [],
        "attributes": [
            {
                "id": ATTRIBUTE_BRAND,
                "complex_id": 0,
                "values": [{"dictionary_value_id": 0, "value": base.brand}],
            },
            {
                "id": ATTRIBUTE_ANNOTATION,
                "complex_id": 0,
                "values": [{"dictionary_value_id": 0, "value": base.description}],
            },
            {
                "id": ATTRIBUTE_MODEL,
                "complex_id": 0,
                "values": [{"dictionary_value_id": 0, "value": base.title}],
            },
        ],
        "complex_attributes": [],
    }
