"""The Ozon Seller API client (reviews, questions, buyer chats, product cards).

Contracts: specs/ozon-reviews.md, ozon-questions.md, ozon-chats.md, ozon-products.md; where they
and the official swagger disagree on a schema, the swagger wins (e.g. SKU filters are arrays of
int64 *strings*; `/v1/review/comment/list` needs `filter` next to `review_id`).

Sync state (`SyncCursor.state`), committed after every page, so a run resumes after the last
committed page and nothing is lost or read twice:

- reviews: ``{"last_id": "<review id>", "api": "v2" | "v1", "total": <int>}`` — the list is
  read oldest first (``sort_dir=ASC``) and ``last_id`` is the keyset cursor: new reviews sort
  after it, so the same cursor keeps working between runs. ``api`` remembers a fallback to the
  deprecated v1 methods when the seller's subscription covers v1 only (Premium Plus).
- questions: ``{"last_id": "<question id>", "total": <int>}``, the same way (pages ≤ 10).
- chat: ``{"watermark": "<message id>", "run": {"cursor": "...", "next_watermark": "..."}}``.
  A run reads every page of `/v3/chat/list`; each buyer chat whose ``last_message_id`` is above
  the watermark gets its history back to the watermark (at least one page, so a chat that moved
  in the list during the last run is covered). The next watermark is the highest message id on
  the run's first page: anything newer arrived during the run and is read by the next one.

Ozon has no idempotency keys: `publish` never resends a write that may have reached Ozon; the
outbox reads the answer back (`read_answer`) before any retry.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors import http
from connectors.base import GATHER_ITEMS, AccountLike, ClientBase, gather_pages
from connectors.exceptions import (
    AuthError,
    MalformedResponse,
    MarketplaceError,
    PublishRejected,
    SubscriptionRequired,
)
from connectors.ozon import parsing
from connectors.parsing import ItemError, malformed
from connectors.ratelimit import Limit
from connectors.types import (
    AnswerEdits,
    AnswerState,
    ChannelAccess,
    ConnectionReport,
    ItemData,
    MalformedItem,
    Page,
    ProductCard,
    PublishResult,
)

logger = logging.getLogger(__name__)

OZON_HOST = "api-seller.ozon.ru"
# Global: 50 requests per second per Client-Id across all methods (specs/README.md).
BUDGET = http.Budget("ozon", Limit.per(50, 1.0, burst=50))
REVIEW_PAGE = 100  # 20 … 100
QUESTION_PAGE = 100  # the response holds at most 10 anyway
CHAT_PAGE = 100
HISTORY_PAGE = 100
COMMENT_PAGE = 100
PRODUCT_IDS_MAX = 1000
EXPIRY_WARNING = timedelta(days=14)
# Ozon allows ~50 requests/s per Client-Id; cursors make a sync with nothing new a few calls.
DEFAULT_INTERVAL_SECONDS = 10
# What `ConnectionReport.token_type` says for Ozon: one kind of key, a role on it.
KEY_TYPE = "api_key"
BUYER_CHAT_TYPES = frozenset({"BUYER_SELLER", "BUYER_SELLER_SELECT"})
TEXT_LIMITS = {
    # Review comments: no limit documented (unverified); the contract says keep ≤ 3000.
    "review": (1, 3000),
    "question": (2, 3000),
    "chat": (1, 1000),
}
REVIEW_PATHS = {
    "v2": {
        "list": "/v2/review/list",
        "info": "/v2/review/info",
        "count": "/v2/review/count",
        "delete": "/v2/review/comment/delete",
    },
    "v1": {
        "list": "/v1/review/list",
        "info": "/v1/review/info",
        "count": "/v1/review/count",
        "delete": "/v1/review/comment/delete",
    },
}
# Which subscription a channel's methods need (specs/README.md, "Subscriptions").
CHANNEL_NAMES = {"review": "reviews", "question": "questions", "chat": "chats"}

T = TypeVar("T")


def _subscription_text(channel: str) -> str:
    if channel == "review":
        return _(
            "Reviews are unavailable: Ozon needs the «Review management» or Premium Pro "
            "subscription for them."
        )
    if channel == "question":
        return _("Questions are unavailable: Ozon needs the Premium Plus subscription for them.")
    return _(
        "Chat replies are unavailable: Ozon needs the Premium Plus or Premium Pro subscription "
        "for them."
    )


def _role_text(channel: str) -> str:
    if channel == "review":
        return _("Reviews are unavailable: the Ozon API key lacks the role for these methods.")
    if channel == "question":
        return _("Questions are unavailable: the Ozon API key lacks the role for these methods.")
    if channel == "chat":
        return _("Chats are unavailable: the Ozon API key lacks the role for these methods.")
    return _("Product details are unavailable: the Ozon API key lacks the role for them.")


class OzonClient(ClientBase):
    """`MarketplaceClient` for one Ozon seller account (credentials ``client_id`` + ``api_key``)."""

    MARKETPLACE = "ozon"
    TEXT_LIMITS = TEXT_LIMITS
    # No edit method: delete the comment/answer and create a new one (specs/ozon-reviews.md).
    ANSWER_EDITS = AnswerEdits(edits=1, window=None, by_replacing=True)

    def __init__(
        self,
        account: AccountLike,
        *,
        timeout: httpx.Timeout | None = None,
        max_wait: float = http.DEFAULT_MAX_WAIT,
        gather_items: int = GATHER_ITEMS,
    ) -> None:
        self.account = account
        credentials = account.credentials if isinstance(account.credentials, Mapping) else {}
        self._client_id = str(credentials.get("client_id") or "").strip()
        self._api_key = str(credentials.get("api_key") or "").strip()
        self._timeout = timeout
        self._max_wait = max_wait
        self._gather_items = gather_items
        self._key_methods: frozenset[str] | None = None
        self._skus: dict[str, int] = {}

    # ------------------------------------------------------------------ plumbing
    def _post(
        self, path: str, body: Mapping[str, Any], *, is_write: bool = False
    ) -> httpx.Response:
        if not self._client_id or not self._api_key:
            raise AuthError(_("The Ozon Client-Id or API key is missing."))
        return http.request(
            self.account,
            "POST",
            OZON_HOST,
            path,
            headers={"Client-Id": self._client_id, "Api-Key": self._api_key},
            json=dict(body),
            budget=BUDGET,
            is_write=is_write,
            timeout=self._timeout,
            max_wait=self._max_wait,
        )

    def _error_text(self, response: httpx.Response) -> str:
        return http.error_text(response, secrets=(self._api_key,))

    def _call(
        self, path: str, body: Mapping[str, Any], *, channel: str, is_write: bool = False
    ) -> httpx.Response:
        """`_post`, with a 403 of a subscription method told apart from a dead key.

        `connectors.http` turns 401/403 into `AuthError`. A key that still reads `/v1/roles`
        is alive, so the refusal is about this method: a missing role, or (per the contract,
        "any 403 from these methods") a missing subscription → `SubscriptionRequired`.
        """
        try:
            return self._post(path, body, is_write=is_write)
        except AuthError:
            methods = self._roles_methods()  # re-raises AuthError when the key is dead
            if path not in methods:
                raise SubscriptionRequired(_role_text(channel)) from None
            raise SubscriptionRequired(_subscription_text(channel)) from None

    def _roles(self) -> Mapping[str, Any]:
        body = http.json_body(self._post("/v1/roles", {}))
        roles = body.get("roles")
        if not isinstance(roles, list):
            raise MalformedResponse()
        methods = {
            method
            for role in roles
            if isinstance(role, dict)
            for method in role.get("methods") or []
            if isinstance(method, str)
        }
        self._key_methods = frozenset(methods)
        return body

    def _roles_methods(self) -> frozenset[str]:
        if self._key_methods is None:
            self._roles()
        assert self._key_methods is not None
        return self._key_methods

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise MarketplaceError(
                _("Ozon refused the request (HTTP %(status)s): %(detail)s")
                % {"status": response.status_code, "detail": self._error_text(response)}
            )
        body: dict[str, Any] = http.json_body(response)
        return body

    @staticmethod
    def _parse_all(
        channel: str, raws: Any, parse: Callable[[Any], T], *, id_key: str = "id"
    ) -> tuple[list[T], list[MalformedItem]]:
        if not isinstance(raws, list):
            raise MalformedResponse()
        good: list[T] = []
        bad: list[MalformedItem] = []
        for raw in raws:
            try:
                good.append(parse(raw))
            except ItemError as error:
                bad.append(malformed(channel, raw, str(error), id_keys=(id_key,)))
        return good, bad

    # ------------------------------------------------------------------ connection check
    def check_connection(self, *, now: datetime | None = None) -> ConnectionReport:
        now = now or timezone.now()
        if not self._client_id or not self._api_key:
            return ConnectionReport(ok=False, error=_("Enter the Ozon Client-Id and API key."))
        try:
            roles = self._roles()
        except AuthError:
            return ConnectionReport(
                ok=False,
                token_type=KEY_TYPE,
                error=_(
                    "Ozon rejected the Client-Id and API key: they are wrong, or the key was "
                    "deactivated. Create a new key in the seller cabinet (Settings → Seller API)."
                ),
            )
        expires_at: datetime | None = None
        try:
            expires_at = parsing.parse_datetime(roles.get("expires_at"), "expires_at")
        except ItemError:
            expires_at = None
        if expires_at is not None and expires_at <= now:
            return ConnectionReport(
                ok=False,
                token_type=KEY_TYPE,
                expires_at=expires_at,
                error=_("The Ozon API key expired on %(date)s. Create a new one.")
                % {"date": expires_at.date().isoformat()},
            )
        warnings: list[str] = []
        if expires_at is not None and expires_at - now < EXPIRY_WARNING:
            days = max(0, (expires_at - now).days)
            warnings.append(
                ngettext(
                    "The Ozon API key expires in %(days)d day (%(date)s). Create a new one in time.",
                    "The Ozon API key expires in %(days)d days (%(date)s). Create a new one in time.",
                    days,
                )
                % {"days": days, "date": expires_at.date().isoformat()}
            )
        methods = self._roles_methods()
        writes = (
            "/v1/review/comment/create",
            "/v1/question/answer/create",
            "/v1/chat/send/message",
        )
        if not any(path in methods for path in writes):
            warnings.append(
                _(
                    "The Ozon API key can only read: items are synced, but answers cannot be "
                    "published. Create a key with the Admin access level to answer from AgentIQ."
                )
            )
        channels = (
            self._probe("review", lambda: self._review_count(self._reviews_api_probe())),
            self._probe("question", lambda: self._post_json("/v1/question/count", {}, "question")),
            self._probe("chat", lambda: self._post_json("/v3/chat/list", {"limit": 1}, "chat")),
            self._probe(
                "product", lambda: self._post_json("/v3/product/list", {"limit": 1}, "product")
            ),
        )
        chat = channels[2]
        if chat.available:
            channels = (
                *channels[:2],
                ChannelAccess(
                    "chat",
                    True,
                    _(
                        "Replies in chats need the Premium Plus or Premium Pro subscription; "
                        "without it chats are synced read-only."
                    ),
                ),
                channels[3],
            )
        ok = any(c.available for c in channels if c.channel != "product")
        return ConnectionReport(
            ok=ok,
            token_type=KEY_TYPE,
            expires_at=expires_at,
            channels=channels,
            warnings=tuple(warnings),
            error="" if ok else _("The Ozon key gives no access to reviews, questions or chats."),
            suggested_interval_seconds=DEFAULT_INTERVAL_SECONDS,
        )

    def _probe(self, channel: str, call: Callable[[], Any]) -> ChannelAccess:
        try:
            call()
        except SubscriptionRequired as error:
            return ChannelAccess(channel, False, str(error))
        except MarketplaceError as error:
            return ChannelAccess(channel, False, str(error))
        return ChannelAccess(channel, True)

    def _post_json(self, path: str, body: Mapping[str, Any], channel: str) -> dict[str, Any]:
        return self._json(self._call(path, body, channel=channel))

    def _reviews_api_probe(self) -> str:
        try:
            self._post_json(REVIEW_PATHS["v2"]["count"], {}, "review")
        except SubscriptionRequired:
            self._post_json(REVIEW_PATHS["v1"]["count"], {}, "review")
            return "v1"
        return "v2"

    def _review_count(self, api: str) -> int:
        body = self._post_json(REVIEW_PATHS[api]["count"], {}, "review")
        total = body.get("total")
        if not isinstance(total, int):
            raise MalformedResponse()
        return total

    # ------------------------------------------------------------------ polling
    def has_news(self, channel: str, state: Mapping[str, Any]) -> bool:
        """Reviews/questions: has the total count changed since the last finished run?
        Chat: is the top chat's last message above the watermark? True when unsure."""
        try:
            if channel == "review":
                if "total" not in state:
                    return True
                return self._review_count(str(state.get("api") or "v2")) != state["total"]
            if channel == "question":
                if "total" not in state:
                    return True
                return self._question_total() != state["total"]
            if channel == "chat":
                if state.get("run") or "watermark" not in state:
                    return True
                body = self._post_json("/v3/chat/list", {"limit": 1}, "chat")
                chats = body.get("chats") or []
                if not chats:
                    return False
                _cid, _type, _status, _at, last = parsing.parse_chat_summary(chats[0])
                return last > int(state["watermark"])
        except (MalformedResponse, ItemError, ValueError, TypeError):
            return True
        raise ValueError(f"unknown Ozon channel: {channel!r}")

    def fetch_page(self, channel: str, state: Mapping[str, Any]) -> Page:
        if channel == "review":
            return gather_pages(self._fetch_reviews, state, self._gather_items)
        if channel == "question":
            return gather_pages(self._fetch_questions, state, self._gather_items)
        if channel == "chat":
            return gather_pages(self._fetch_chats, state, self._gather_items)
        raise ValueError(f"unknown Ozon channel: {channel!r}")

    # ------------------------------------------------------------------ reviews
    def _review_list(self, api: str, last_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"limit": REVIEW_PAGE, "sort_dir": "ASC"}
        if last_id:
            body["last_id"] = last_id
        return self._post_json(REVIEW_PATHS[api]["list"], body, "review")

    def _fetch_reviews(self, state: Mapping[str, Any]) -> Page:
        api = str(state.get("api") or "v2")
        last_id = str(state.get("last_id") or "")
        try:
            body = self._review_list(api, last_id)
        except SubscriptionRequired:
            if api != "v2":
                raise
            # The deprecated v1 methods are what a Premium Plus seller may still use.
            api = "v1"
            body = self._review_list(api, last_id)
            logger.info(
                "ozon reviews fall back to v1",
                extra={"account_id": self.account.pk, "channel": "review"},
            )
        items, bad = self._parse_all("review", body.get("reviews"), parsing.parse_review)
        has_next = body.get("has_next") is True
        next_last = body.get("last_id")
        if not isinstance(next_last, str) or not next_last:
            next_last = last_id
        next_state: dict[str, Any] = {"api": api, "last_id": next_last}
        if not has_next:
            next_state["total"] = self._review_count(api)
        elif "total" in state:
            next_state["total"] = state["total"]
        return Page(tuple(items), tuple(bad), next_state, done=not has_next)

    # ------------------------------------------------------------------ questions
    def _question_total(self) -> int:
        body = self._post_json("/v1/question/count", {}, "question")
        total = body.get("all")
        if isinstance(total, str) and total.isdigit():
            total = int(total)
        if not isinstance(total, int):
            raise MalformedResponse()
        return total

    def _fetch_questions(self, state: Mapping[str, Any]) -> Page:
        last_id = str(state.get("last_id") or "")
        body = self._post_json(
            "/v1/question/list",
            {"limit": QUESTION_PAGE, "sort_dir": "ASC", "last_id": last_id},
            "question",
        )
        items, bad = self._parse_all("question", body.get("questions"), parsing.parse_question)
        for item in items:
            if item.product_external_id.isdigit():
                self._skus[item.external_id] = int(item.product_external_id)
        has_next = body.get("has_next") is True
        next_last = body.get("last_id")
        if not isinstance(next_last, str) or not next_last:
            next_last = last_id
        next_state: dict[str, Any] = {"last_id": next_last}
        if not has_next:
            next_state["total"] = self._question_total()
        elif "total" in state:
            next_state["total"] = state["total"]
        return Page(tuple(items), tuple(bad), next_state, done=not has_next)

    # ------------------------------------------------------------------ chats
    def _fetch_chats(self, state: Mapping[str, Any]) -> Page:
        watermark = int(state.get("watermark") or 0)
        run = dict(state.get("run") or {})
        body: dict[str, Any] = {"limit": CHAT_PAGE}
        if run.get("cursor"):
            body["cursor"] = run["cursor"]
        listed = self._post_json("/v3/chat/list", body, "chat")
        summaries, bad = self._parse_all(
            "chat", listed.get("chats"), parsing.parse_chat_summary, id_key="chat"
        )
        is_first_page = "next_watermark" not in run
        page_max = max((s[4] for s in summaries), default=0)
        next_watermark = max(watermark, page_max) if is_first_page else int(run["next_watermark"])
        items: list[ItemData] = []
        for chat_id, chat_type, chat_status, created_at, last_message_id in summaries:
            if chat_type not in BUYER_CHAT_TYPES or last_message_id <= watermark:
                continue
            messages, message_bad = self._chat_messages(chat_id, down_to=watermark)
            bad.extend(message_bad)
            if messages:
                items.append(
                    parsing.chat_item(
                        chat_id, created_at, messages, chat_type=chat_type, chat_status=chat_status
                    )
                )
        has_next = parsing.get_bool(listed, "has_next") if isinstance(listed, dict) else False
        cursor = listed.get("cursor")
        if has_next and isinstance(cursor, str) and cursor and cursor != run.get("cursor"):
            next_state: dict[str, Any] = {
                "watermark": str(watermark),
                "run": {"cursor": cursor, "next_watermark": str(next_watermark)},
            }
            return Page(tuple(items), tuple(bad), next_state, done=False)
        return Page(tuple(items), tuple(bad), {"watermark": str(next_watermark)}, done=True)

    def _chat_messages(
        self, chat_id: str, *, down_to: int
    ) -> tuple[list[tuple[int, Any, Mapping[str, Any], str]], list[MalformedItem]]:
        """The chat's messages newer than `down_to`, newest page first; at least one page."""
        collected: dict[int, tuple[int, Any, Mapping[str, Any], str]] = {}
        bad: list[MalformedItem] = []
        before: int | None = None
        while True:
            body: dict[str, Any] = {
                "chat_id": chat_id,
                "direction": "Backward",
                "limit": HISTORY_PAGE,
            }
            if before is not None:
                body["from_message_id"] = before
            history = self._post_json("/v3/chat/history", body, "chat")
            parsed, page_bad = self._parse_all(
                "chat", history.get("messages"), parsing.parse_chat_message, id_key="message_id"
            )
            for entry in page_bad:
                bad.append(
                    MalformedItem(
                        "chat", f"{chat_id}:{entry.external_id}", entry.error, entry.raw_excerpt
                    )
                )
            new = [m for m in parsed if m[0] not in collected]
            for message in new:
                collected[message[0]] = message
            oldest = min((m[0] for m in parsed), default=None)
            if (
                not parsing.get_bool(history, "has_next")
                or not new
                or oldest is None
                or oldest <= down_to
            ):
                break
            before = oldest  # Backward from here (inclusive: de-duplicated above)
        return list(collected.values()), bad

    # ------------------------------------------------------------------ products
    def fetch_products(self, external_ids: list[str]) -> list[ProductCard]:
        skus = list(dict.fromkeys(i.strip() for i in external_ids if i.strip().isdigit()))
        cards: list[ProductCard] = []
        for start in range(0, len(skus), PRODUCT_IDS_MAX):
            chunk = skus[start : start + PRODUCT_IDS_MAX]
            info = self._post_json("/v3/product/info/list", {"sku": chunk}, "product")
            raw_items = info.get("items")
            if not isinstance(raw_items, list):
                raise MalformedResponse()
            attributes = self._post_json(
                "/v4/product/info/attributes",
                {"filter": {"sku": chunk, "visibility": "ALL"}, "limit": len(chunk)},
                "product",
            )
            by_sku = {
                str(raw.get("sku")): raw
                for raw in attributes.get("result") or []
                if isinstance(raw, dict)
            }
            for raw in raw_items:
                try:
                    sku = str(raw.get("sku")) if isinstance(raw, dict) else ""
                    cards.append(parsing.parse_product(raw, by_sku.get(sku)))
                except ItemError:
                    logger.warning(
                        "ozon product card unreadable", extra={"account_id": self.account.pk}
                    )
        return cards

    # ------------------------------------------------------------------ answers
    def _review_api(self) -> str:
        try:
            self._post_json(REVIEW_PATHS["v2"]["count"], {}, "review")
        except SubscriptionRequired:
            return "v1"
        return "v2"

    def _owner_comments(self, review_id: str) -> list[Mapping[str, Any]]:
        comments: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            body = self._post_json(
                "/v1/review/comment/list",
                # `filter` must be present with `review_id` (the swagger's oneOf).
                {"review_id": review_id, "filter": {}, "limit": COMMENT_PAGE, "offset": offset},
                "review",
            )
            page = body.get("comments")
            if not isinstance(page, list):
                raise MalformedResponse()
            comments.extend(c for c in page if isinstance(c, dict) and c.get("is_owner") is True)
            next_offset = body.get("offset")
            if (
                len(page) < COMMENT_PAGE
                or not isinstance(next_offset, int)
                or next_offset <= offset
            ):
                return comments
            offset = next_offset

    def _question_sku(self, question_id: str) -> int:
        if question_id in self._skus:
            return self._skus[question_id]
        info = self._post_json("/v1/question/info", {"question_id": question_id}, "question")
        try:
            sku = parsing.get_int64(info, "sku")
        except ItemError:
            raise MalformedResponse() from None
        assert sku is not None
        self._skus[question_id] = sku
        return sku

    def _question_answers(self, question_id: str, sku: int) -> list[Mapping[str, Any]]:
        answers: list[Mapping[str, Any]] = []
        last_id = ""
        while True:
            body = self._post_json(
                "/v1/question/answer/list",
                {"question_id": question_id, "sku": sku, "last_id": last_id},
                "question",
            )
            page = body.get("answers")
            if not isinstance(page, list):
                raise MalformedResponse()
            answers.extend(a for a in page if isinstance(a, dict))
            next_last = body.get("last_id")
            # No has_next here: stop on an empty page or a cursor that does not move.
            if not page or not isinstance(next_last, str) or not next_last or next_last == last_id:
                return answers
            last_id = next_last

    def read_answer(self, channel: str, external_id: str) -> AnswerState:
        if channel == "review":
            comments = sorted(
                self._owner_comments(external_id), key=lambda c: str(c.get("published_at"))
            )
            if not comments:
                return AnswerState(exists=False)
            latest = comments[-1]
            state = (
                "rejected"
                if latest.get("is_rejected") is True
                else "published"
                if latest.get("is_published") is True
                else "moderation"
            )
            return AnswerState(
                exists=True,
                text=str(latest.get("text") or ""),
                editable=True,
                moderation_state=state,
            )
        if channel == "question":
            answers = self._question_answers(external_id, self._question_sku(external_id))
            if not answers:
                return AnswerState(exists=False)
            latest = sorted(answers, key=lambda a: str(a.get("published_at")))[-1]
            return AnswerState(
                exists=True,
                text=str(latest.get("text") or ""),
                editable=True,
                moderation_state=str(latest.get("status_publication") or "").lower(),
            )
        if channel == "chat":
            newest = self._newest_message(external_id)
            if newest is None or newest[1].direction != "out":
                return AnswerState(exists=False)
            return AnswerState(exists=True, text=newest[1].text)
        raise ValueError(f"unknown Ozon channel: {channel!r}")

    def _newest_message(self, chat_id: str) -> tuple[int, Any, Mapping[str, Any], str] | None:
        history = self._post_json(
            "/v3/chat/history", {"chat_id": chat_id, "direction": "Backward", "limit": 20}, "chat"
        )
        parsed, _bad = self._parse_all(
            "chat", history.get("messages"), parsing.parse_chat_message, id_key="message_id"
        )
        return max(parsed, key=lambda m: m[0]) if parsed else None

    def _rejected(self, response: httpx.Response) -> PublishRejected:
        return PublishRejected(
            _("Ozon refused the answer: %(detail)s") % {"detail": self._error_text(response)}
        )

    def _write(self, path: str, body: Mapping[str, Any], channel: str) -> dict[str, Any]:
        response = self._call(path, body, channel=channel, is_write=True)
        if response.status_code >= 400:
            raise self._rejected(response)
        return http.json_body(response) if response.content else {}

    def _publish_review(self, review_id: str, text: str, *, is_edit: bool) -> PublishResult:
        if is_edit:
            comments = self._owner_comments(review_id)
            if comments:
                api = self._review_api()
                info = self._post_json(
                    REVIEW_PATHS[api]["info"], {"review_id": review_id}, "review"
                )
                sku = parsing.get_int64(info, "sku")
                for comment in comments:
                    body: dict[str, Any] = {"comment_id": comment.get("id")}
                    if api == "v2":
                        body["sku"] = sku
                    self._write(REVIEW_PATHS[api]["delete"], body, "review")
        created = self._write(
            "/v1/review/comment/create",
            {"review_id": review_id, "text": text, "mark_review_as_processed": True},
            "review",
        )
        comment_id = created.get("comment_id")
        return PublishResult(
            external_id=comment_id if isinstance(comment_id, str) else "", sent_at=timezone.now()
        )

    def _publish_question(self, question_id: str, text: str, *, is_edit: bool) -> PublishResult:
        sku = self._question_sku(question_id)
        if is_edit:
            for answer in self._question_answers(question_id, sku):
                self._write(
                    "/v1/question/answer/delete",
                    {"answer_id": answer.get("id"), "sku": sku},
                    "question",
                )
        created = self._write(
            "/v1/question/answer/create",
            {"question_id": question_id, "sku": sku, "text": text},
            "question",
        )
        answer_id = created.get("answer_id")
        return PublishResult(
            external_id=answer_id if isinstance(answer_id, str) else "", sent_at=timezone.now()
        )

    def _publish_chat(self, chat_id: str, text: str) -> PublishResult:
        response = self._call(
            "/v1/chat/send/message",
            {"chat_id": chat_id, "text": text},
            channel="chat",
            is_write=True,
        )
        if response.status_code >= 400:
            code = None
            try:
                code = http.json_body(response).get("code")
            except MalformedResponse:
                code = None
            if code == 9:
                raise PublishRejected(
                    _(
                        "Ozon does not accept messages in this chat any more: sellers may write "
                        "within 48 hours of the buyer's last message."
                    )
                )
            raise self._rejected(response)
        # Ozon returns no message id: find ours in the history, so the sync does not add a copy.
        try:
            newest = self._newest_message(chat_id)
        except MarketplaceError:
            newest = None
        if newest is not None and newest[1].direction == "out" and newest[1].text == text:
            return PublishResult(external_id=str(newest[0]), sent_at=newest[1].occurred_at)
        return PublishResult(sent_at=timezone.now())
