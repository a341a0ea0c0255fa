"""The Wildberries seller API client (reviews, questions, buyer chat, product cards).

Contracts: specs/wb-feedbacks.md, wb-questions.md, wb-buyer-chat.md, wb-product-card.md.

Sync state (`SyncCursor.state`), committed after every page; a run resumes where the last
committed page ended. Reviews and questions:

    {"watermark": "<iso>",              # newest createdDate seen by the last finished run
     "oldest_unanswered": "<iso>",      # oldest unanswered item known after the last run
     "reconciled_at": "<iso>",          # start of the last finished reconciling run
     "run": {"phase": "unanswered" | "answered" | "archive",
             "reconcile": <bool>,
             "date_to": <unix s> | null,  # keyset: the next page is older than this
             "skip": <int>,               # offset inside the window (archive; same-second ties)
             "floor": <unix s> | null,    # answered/archive go back to here (null: everything)
             "max_seen": "<iso>" | null, "oldest_unanswered": "<iso>" | null,
             "started_at": "<iso>"}}       # "run" is absent between runs

A reconciling run (the first one, then one every RECONCILE_EVERY) reads the whole unanswered
backlog, then answered items (and, for reviews, the archive) back to `floor` =
min(watermark, oldest unanswered) - OVERLAP: an item answered (or archived) since the last run
was unanswered then, so it is not older than that. Every other run reads the unanswered and
answered lists back to watermark - OVERLAP only and skips the archive: what arrived since, in
a few requests, so a sync with nothing new stays cheap however big the account (an answer
given outside AgentIQ to an older item shows up by the next reconciliation; answers sent
through AgentIQ are tracked by the outbox). Pages are walked by `dateTo` (keyset) rather than
`skip`, so items leaving a list while we read (answered, archived) cannot shift an unread item
past us; re-reading a few items at page borders is fine, as ingestion upserts.

Chat: {"next": <unix ms>} — the events feed cursor; a run ends on a batch with no events.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agentiq.redis import get_redis
from connectors import http
from connectors.base import AccountLike, ClientBase, gather_pages
from connectors.exceptions import (
    AnswerNotReadable,
    AuthError,
    MalformedResponse,
    MarketplaceError,
    PublishRejected,
    RateLimited,
    TransientMarketplaceError,
)
from connectors.parsing import ItemError
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
from connectors.wb import limits, parsing
from connectors.wb.token import (
    CATEGORY_BUYER_CHAT,
    CATEGORY_CONTENT,
    CATEGORY_FEEDBACKS,
    CATEGORY_PROMOTION,
    InvalidWBToken,
    TokenType,
    WBToken,
    decode_token,
)

logger = logging.getLogger(__name__)

FEEDBACKS_HOST = "feedbacks-api.wildberries.ru"
CHAT_HOST = "buyer-chat-api.wildberries.ru"
CONTENT_HOST = "content-api.wildberries.ru"

REVIEW_TAKE_MAX = 5000
# What a sync asks for per list page (reviews and questions): pages of 5,000 grew the worker's
# peak memory by 50 MB on a 100,000-review first sync; 2,500 keep it flat at the same speed.
FEED_TAKE = 2500
REVIEW_SKIP_MAX = 199_990
# Questions: take + skip <= 10 000.
QUESTION_TAKE_MAX = 5000
QUESTION_WINDOW_MAX = 10_000
CARDS_LIMIT = 100
# Up to this many products are looked up one by one (textSearch); more walk the card list.
CARDS_SEARCH_ONE_BY_ONE = 10
BASKET_CACHE_SECONDS = 7 * 24 * 3600
BASKET_NEIGHBOURS = (1, -1, 2, -2, 3, -3)

# Items may become visible later than their createdDate (moderation of the buyer's text).
OVERLAP = timedelta(hours=24)
# How often a run re-reads the whole unanswered backlog (answers given outside AgentIQ).
RECONCILE_EVERY = timedelta(hours=1)
EXPIRY_WARNING = timedelta(days=14)
# A token with per-second limits affords the cheap "anything new?" check every few seconds
# (a full sync follows only when something is new); a Base token gets 5 requests an hour.
DEFAULT_INTERVAL_SECONDS = 5
BASE_TOKEN_INTERVAL_SECONDS = 3600

TEXT_LIMITS = {"review": (2, 5000), "question": (2, 5000), "chat": (1, 1000)}
# Chat events are served in batches of about a hundred; a page gathers batches up to this many.
CHAT_EVENTS_PER_PAGE = 1000


@dataclass(frozen=True, slots=True)
class _Feed:
    channel: str
    path: str
    list_key: str
    take: int
    phases: tuple[str, ...]
    skip_max: int
    window_max: int | None  # take + skip limit

    def parse(self, raw: Mapping[str, Any], *, is_archived: bool) -> ItemData:
        if self.channel == "review":
            return parsing.parse_review(raw, is_archived=is_archived)
        return parsing.parse_question(raw)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _unix_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


class WBClient(ClientBase):
    """`MarketplaceClient` for one WB seller account (see connectors/types.py)."""

    MARKETPLACE = "wb"
    TEXT_LIMITS = TEXT_LIMITS
    REFUSES_SECOND_ANSWER = True  # a second POST answer is an error; questions read first
    ANSWER_EDITS = AnswerEdits(edits=1, window=timedelta(days=60))  # PATCH, once, 60 days

    def __init__(
        self,
        account: AccountLike,
        *,
        page_size: int | None = None,
        timeout: httpx.Timeout | None = None,
        max_wait: float = http.DEFAULT_MAX_WAIT,
    ) -> None:
        self.account = account
        credentials = account.credentials if isinstance(account.credentials, Mapping) else {}
        self._token = str(credentials.get("token") or "").strip()
        self.token: WBToken | None
        try:
            self.token = decode_token(self._token) if self._token else None
        except InvalidWBToken:
            self.token = None
        self._timeout = timeout
        self._max_wait = max_wait
        # The chat list (no pagination: every chat at once), kept for this client's run.
        self._chats: dict[str, Mapping[str, Any]] | None = None
        # The "anything new?" flags, asked once per run.
        self._news: dict[str, Any] | None = None
        self._reviews = _Feed(
            channel="review",
            path="/api/v1/feedbacks",
            list_key="feedbacks",
            take=min(page_size or FEED_TAKE, REVIEW_TAKE_MAX),
            phases=("unanswered", "answered", "archive"),
            skip_max=REVIEW_SKIP_MAX,
            window_max=None,
        )
        self._questions = _Feed(
            channel="question",
            path="/api/v1/questions",
            list_key="questions",
            take=min(page_size or FEED_TAKE, QUESTION_TAKE_MAX),
            phases=("unanswered", "answered"),
            skip_max=QUESTION_WINDOW_MAX,
            window_max=QUESTION_WINDOW_MAX,
        )

    # ------------------------------------------------------------------ plumbing
    @property
    def token_type(self) -> TokenType:
        return self.token.token_type if self.token is not None else TokenType.UNKNOWN

    def _call(
        self,
        method: str,
        host: str,
        path: str,
        *,
        bucket: str,
        is_write: bool = False,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
    ) -> httpx.Response:
        if not self._token:
            raise InvalidWBToken()
        return http.request(
            self.account,
            method,
            host,
            path,
            headers={"Authorization": self._token},
            params=params,
            json=json,
            files=files,
            budget=limits.budget_for(bucket, self.token_type),
            is_write=is_write,
            timeout=self._timeout,
            max_wait=self._max_wait,
        )

    def _error_text(self, response: httpx.Response) -> str:
        return http.error_text(response, secrets=(self._token,))

    def _refused(self, response: httpx.Response) -> MarketplaceError:
        return MarketplaceError(
            _("Wildberries refused the request (HTTP %(status)s): %(detail)s")
            % {"status": response.status_code, "detail": self._error_text(response)}
        )

    def _envelope(self, response: httpx.Response) -> Any:
        """`data` of a feedbacks-api envelope; a refusal becomes `MarketplaceError`."""
        if response.status_code >= 400:
            raise self._refused(response)
        body = http.json_body(response)
        if body.get("error") is True:
            raise self._refused(response)
        return body.get("data")

    # ------------------------------------------------------------------ connection check
    def check_connection(self, *, now: datetime | None = None) -> ConnectionReport:
        now = now or timezone.now()
        if not self._token:
            return ConnectionReport(ok=False, error=_("No token is set for this account."))
        token = self.token
        if token is None:
            return ConnectionReport(ok=False, error=str(InvalidWBToken.message))
        token_type, expires_at = str(token.token_type), token.expires_at
        if token.is_expired(now=now):
            return ConnectionReport(
                ok=False,
                error=_("The token expired on %(date)s. Create a new token in the seller portal.")
                % {"date": token.expires_at.date().isoformat() if token.expires_at else ""},
                token_type=token_type,
                expires_at=expires_at,
            )
        if token.token_type is TokenType.TEST:
            return ConnectionReport(
                ok=False,
                error=_(
                    "This is a test token: it works only with the Wildberries sandbox. "
                    "Create a production token in the seller portal."
                ),
                token_type=token_type,
                expires_at=expires_at,
            )

        warnings: list[str] = []
        interval = DEFAULT_INTERVAL_SECONDS
        if token.expires_at is not None and token.expires_at - now < EXPIRY_WARNING:
            days = max(0, (token.expires_at - now).days)
            warnings.append(
                ngettext(
                    "The token expires in %(days)d day (%(date)s). Create a new one in time.",
                    "The token expires in %(days)d days (%(date)s). Create a new one in time.",
                    days,
                )
                % {"days": days, "date": token.expires_at.date().isoformat()}
            )
        if token.token_type is TokenType.BASE:
            interval = BASE_TOKEN_INTERVAL_SECONDS
            warnings.append(
                _(
                    "This is a Base token: Wildberries allows it only 5 requests per hour for "
                    "reviews and questions and 1 request per hour for chats, so new items will "
                    "arrive about once an hour. For a live inbox use a Service token."
                )
            )
        if token.token_type is TokenType.PERSONAL:
            warnings.append(
                _(
                    "This is a Personal token: Wildberries rules forbid using personal tokens in "
                    "cloud services such as AgentIQ. Create a Service or Base token instead."
                )
            )
        read_only_note = ""
        if token.is_read_only:
            read_only_note = _(
                "The token is read-only: items are synced, but answers cannot be published. "
                "Create a token without the read-only option to answer from AgentIQ."
            )
            warnings.append(read_only_note)

        feedbacks = self._channel_access(
            token,
            categories=(CATEGORY_FEEDBACKS,),
            host=FEEDBACKS_HOST,
            missing=_(
                "The token has no access to the «Feedbacks and questions» category: reviews "
                "and questions cannot be synced. Add this category to the token."
            ),
            note=read_only_note,
        )
        chat = self._channel_access(
            token,
            categories=(CATEGORY_BUYER_CHAT,),
            host=CHAT_HOST,
            missing=_(
                "The token has no access to the «Buyers chat» category: chats cannot be "
                "synced. Add this category to the token."
            ),
            note=read_only_note,
        )
        content = self._channel_access(
            token,
            categories=(CATEGORY_CONTENT, CATEGORY_PROMOTION),
            host=CONTENT_HOST,
            missing=_(
                "The token has no access to the «Content» category: product details will be "
                "taken from the public storefront and may be incomplete."
            ),
            note="",
        )
        channels = (
            ChannelAccess("review", *feedbacks),
            ChannelAccess("question", *feedbacks),
            ChannelAccess("chat", *chat),
            ChannelAccess("product", *content),
        )
        ok = feedbacks[0] or chat[0]
        return ConnectionReport(
            ok=ok,
            channels=channels,
            warnings=tuple(warnings),
            error=""
            if ok
            else _("The token gives no access to reviews, questions or chats on Wildberries."),
            suggested_interval_seconds=interval,
            token_type=token_type,
            expires_at=expires_at,
        )

    def _channel_access(
        self,
        token: WBToken,
        *,
        categories: tuple[int, ...],
        host: str,
        missing: str,
        note: str,
    ) -> tuple[bool, str]:
        if not any(token.has_category(category) for category in categories):
            return False, missing
        try:
            response = self._call("GET", host, "/ping", bucket=f"ping:{host}")
        except AuthError as error:
            return False, str(error)
        if response.status_code >= 400:
            return False, str(self._refused(response))
        body = http.json_body(response)
        if body.get("Status") != "OK":
            return False, _("Wildberries did not confirm the connection.")
        return True, note

    # ------------------------------------------------------------------ polling
    def has_news(self, channel: str, state: Mapping[str, Any]) -> bool:
        """Reviews/questions: WB's "anything unseen?" flag. Chat: always True (the events feed
        with its cursor is the cheap check). True while a run is unfinished or none finished."""
        if channel == "chat":
            return True
        flag = {"review": "hasNewFeedbacks", "question": "hasNewQuestions"}[channel]
        # A finished run leaves a watermark, or at least `reconciled_at` when the channel was
        # empty: an account without questions must not list them on every cycle.
        if state.get("run") or not (state.get("watermark") or state.get("reconciled_at")):
            return True
        if self._news is None:  # one request answers for both channels
            response = self._call(
                "GET", FEEDBACKS_HOST, "/api/v1/new-feedbacks-questions", bucket=limits.FEEDBACKS
            )
            try:
                data = self._envelope(response)
            except MalformedResponse:
                data = None
            self._news = dict(data) if isinstance(data, dict) else {}
        value = self._news.get(flag)
        return value if isinstance(value, bool) else True

    def fetch_page(self, channel: str, state: Mapping[str, Any]) -> Page:
        # The phases of a run (unanswered, answered, archive) are small between
        # reconciliations: gathered (up to a request's worth of items), a channel with a few
        # new items is one ingest, not two.
        if channel in ("review", "question"):
            feed = self._reviews if channel == "review" else self._questions
            return gather_pages(lambda s: self._fetch_feed(feed, s), state, limit=feed.take)
        if channel == "chat":
            return self._fetch_chat(state)
        raise ValueError(f"unknown WB channel: {channel!r}")

    def _start_run(self, state: Mapping[str, Any]) -> dict[str, Any]:
        now = timezone.now()
        watermark = _from_iso(state.get("watermark"))
        oldest_unanswered = _from_iso(state.get("oldest_unanswered"))
        reconciled_at = _from_iso(state.get("reconciled_at"))
        reconcile = reconciled_at is None or now - reconciled_at >= RECONCILE_EVERY
        floor = None  # no watermark: the first run reads everything
        if watermark is not None:
            bound = watermark
            if reconcile and oldest_unanswered is not None:
                bound = min(watermark, oldest_unanswered)
            floor = _unix_seconds(bound - OVERLAP)
        return {
            "phase": "unanswered",
            "reconcile": reconcile,
            "date_to": None,
            "skip": 0,
            "floor": floor,
            "max_seen": None,
            "oldest_unanswered": None,
            "started_at": _iso(now),
        }

    def _fetch_feed(self, feed: _Feed, state: Mapping[str, Any]) -> Page:
        run = state.get("run")
        run = dict(run) if isinstance(run, dict) and run.get("phase") in feed.phases else None
        if run is None:
            run = self._start_run(state)
        phase: str = run["phase"]
        skip = int(run.get("skip") or 0)
        if phase == "archive":
            params: dict[str, Any] = {"take": feed.take, "skip": skip, "order": "dateDesc"}
            path = "/api/v1/feedbacks/archive"
        else:
            params = {
                "isAnswered": "true" if phase == "answered" else "false",
                "take": feed.take,
                "skip": skip,
                "order": "dateDesc",
            }
            if run.get("date_to") is not None:
                params["dateTo"] = run["date_to"]
            reads_back = phase == "answered" or not run.get("reconcile", True)
            if reads_back and run.get("floor") is not None:
                params["dateFrom"] = run["floor"]
            path = feed.path
        response = self._call("GET", FEEDBACKS_HOST, path, bucket=limits.FEEDBACKS, params=params)
        data = self._envelope(response)
        if not isinstance(data, dict):
            raise MalformedResponse()
        raws = data.get(feed.list_key)
        if raws is None:
            raws = []
        if not isinstance(raws, list):
            raise MalformedResponse()
        is_archived = phase == "archive"
        items, broken = parsing.parse_each(
            raws,
            lambda raw: feed.parse(raw, is_archived=is_archived),
            channel=feed.channel,
            id_keys=("id",),
        )
        dates = [item.occurred_at for item in items]
        if dates:
            newest = max(dates)
            seen = _from_iso(run.get("max_seen"))
            run["max_seen"] = _iso(max(newest, seen) if seen else newest)
            if phase == "unanswered":
                oldest = min(dates)
                known = _from_iso(run.get("oldest_unanswered"))
                run["oldest_unanswered"] = _iso(min(oldest, known) if known else oldest)

        phase_done = len(raws) < feed.take
        if not phase_done and phase == "archive":
            floor = run.get("floor")
            if floor is not None and dates and _unix_seconds(min(dates)) < floor:
                phase_done = True
            else:
                run["skip"] = skip + feed.take
        elif not phase_done:
            phase_done = not self._advance_window(feed, run, dates, skip)

        if phase_done:
            # New items arrive in the unanswered/answered lists; only a reconciling run needs
            # the archive (items that left those lists since).
            phases = feed.phases if run.get("reconcile", True) else feed.phases[:2]
            position = phases.index(phase)
            if position + 1 < len(phases):
                run.update(phase=phases[position + 1], date_to=None, skip=0)
            else:
                return Page(
                    items=tuple(items),
                    malformed=tuple(broken),
                    next_state=self._finish_run(state, run),
                    done=True,
                )
        next_state = {key: value for key, value in state.items() if key != "run"}
        next_state["run"] = run
        return Page(items=tuple(items), malformed=tuple(broken), next_state=next_state, done=False)

    def _advance_window(
        self, feed: _Feed, run: dict[str, Any], dates: list[datetime], skip: int
    ) -> bool:
        """Move the keyset window below this (full) page; False when it cannot move on."""
        date_to = run.get("date_to")
        if dates:
            # +1: every item of the oldest second is read again rather than risk a gap.
            new_to = _unix_seconds(min(dates)) + 1
            if date_to is None or new_to < date_to:
                run.update(date_to=new_to, skip=0)
                return True
        # More than a page of items within one second (or a page of unreadable items):
        # step through this fixed window by offset.
        new_skip = skip + feed.take
        limit_ok = (
            new_skip + feed.take <= feed.window_max
            if feed.window_max is not None
            else new_skip <= feed.skip_max
        )
        if not limit_ok:
            logger.warning(
                "wb list window exhausted",
                extra={"account_id": self.account.pk, "channel": feed.channel, "skip": new_skip},
            )
            return False
        run["skip"] = new_skip
        return True

    @staticmethod
    def _finish_run(state: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
        previous = _from_iso(state.get("watermark"))
        seen = _from_iso(run.get("max_seen"))
        candidates = [moment for moment in (previous, seen) if moment is not None]
        next_state: dict[str, Any] = {}
        if candidates:
            next_state["watermark"] = _iso(max(candidates))
        if run.get("reconcile", True):
            # The whole backlog was read: its oldest item replaces the remembered one.
            oldest = _from_iso(run.get("oldest_unanswered"))
            next_state["reconciled_at"] = run.get("started_at")
        else:
            known = [
                moment
                for moment in (
                    _from_iso(state.get("oldest_unanswered")),
                    _from_iso(run.get("oldest_unanswered")),
                )
                if moment is not None
            ]
            oldest = min(known) if known else None
            if state.get("reconciled_at"):
                next_state["reconciled_at"] = state["reconciled_at"]
        if oldest is not None:
            next_state["oldest_unanswered"] = _iso(oldest)
        return next_state

    def _fetch_chat(self, state: Mapping[str, Any]) -> Page:
        """Events batches (a hundred or so each) gathered into one page of about
        CHAT_EVENTS_PER_PAGE events: one ingest per page, with a chat's messages together."""
        cursor = state.get("next")
        cursor = (
            cursor
            if isinstance(cursor, int) and not isinstance(cursor, bool) and cursor > 0
            else None
        )
        events: list[parsing.ChatEvent] = []
        broken: list[MalformedItem] = []
        done = False
        while not done and len(events) < CHAT_EVENTS_PER_PAGE:
            try:
                batch, batch_broken, next_cursor, done = self._events_batch(cursor)
            except RateLimited:
                if not events and not broken:
                    raise
                break  # store what arrived; the next run goes on from there
            events += batch
            broken += batch_broken
            cursor = next_cursor
        # The list is read again only when an event names a chat it does not hold yet.
        if events and (self._chats is None or any(e.chat_id not in self._chats for e in events)):
            try:
                self._chats = self._chat_directory()
            except RateLimited:
                # The chat list only adds metadata (events carry the buyer and the product);
                # with a Base token's 1 request/hour, insisting on it would stall the feed.
                logger.info(
                    "wb chat list skipped: budget exhausted", extra={"account_id": self.account.pk}
                )
        items = parsing.build_chats(events, self._chats or {})
        return Page(
            items=tuple(items),
            malformed=tuple(broken),
            next_state={"next": cursor} if cursor else {},
            done=done,
        )

    def _events_batch(
        self, cursor: int | None
    ) -> tuple[list[parsing.ChatEvent], list[MalformedItem], int | None, bool]:
        """One events request: (events, malformed ones, the next cursor, whether the feed ended)."""
        params = {"next": cursor} if cursor is not None else None
        response = self._call(
            "GET", CHAT_HOST, "/api/v1/seller/events", bucket=limits.CHAT, params=params
        )
        if response.status_code >= 400:
            raise self._refused(response)
        result = http.json_body(response).get("result")
        if not isinstance(result, dict):
            raise MalformedResponse()
        raws = result.get("events")
        if raws is None:
            raws = []
        if not isinstance(raws, list):
            raise MalformedResponse()
        next_value = result.get("next")
        valid_next = (
            next_value
            if isinstance(next_value, int) and not isinstance(next_value, bool) and next_value > 0
            else None
        )
        if not raws or result.get("totalEvents") == 0:
            return [], [], valid_next or cursor, True
        if valid_next is None:
            raise MalformedResponse()
        events, broken = parsing.parse_each(
            raws, parsing.parse_event, channel="chat", id_keys=("eventID", "chatID")
        )
        # A cursor that does not move would return this batch forever: end the run.
        stuck = valid_next == cursor
        if stuck:
            logger.warning("wb chat cursor did not advance", extra={"account_id": self.account.pk})
        return events, broken, valid_next, stuck

    def _chat_directory(self) -> dict[str, Mapping[str, Any]]:
        response = self._call("GET", CHAT_HOST, "/api/v1/seller/chats", bucket=limits.CHAT)
        if response.status_code >= 400:
            raise self._refused(response)
        result = http.json_body(response).get("result")
        if result is None:
            return {}
        if not isinstance(result, list):
            raise MalformedResponse()
        return parsing.chat_directory(result)

    # ------------------------------------------------------------------ products
    def fetch_products(self, external_ids: list[str]) -> list[ProductCard]:
        """Cards from the Content API; those it lacks (or without the Content scope) from the
        public storefront card.json. Unknown ids are left out."""
        wanted = list(dict.fromkeys(i.strip() for i in external_ids if i.strip().isdigit()))
        found: dict[str, ProductCard] = {}
        token = self.token
        has_content = token is None or any(
            token.has_category(category) for category in (CATEGORY_CONTENT, CATEGORY_PROMOTION)
        )
        if wanted and has_content:
            try:
                found = self._cards_from_content_api(wanted)
            except AuthError:
                logger.warning(
                    "wb content api refused the token, using storefront cards",
                    extra={"account_id": self.account.pk},
                )
        for nm_id in wanted:
            if nm_id not in found:
                card = self._card_from_storefront(int(nm_id))
                if card is not None:
                    found[nm_id] = card
        return [found[nm_id] for nm_id in wanted if nm_id in found]

    def _cards_page(self, settings: dict[str, Any]) -> tuple[list[Any], Mapping[str, Any]]:
        response = self._call(
            "POST",
            CONTENT_HOST,
            "/content/v2/get/cards/list",
            bucket=limits.CONTENT,
            params={"locale": "ru"},
            json={"settings": settings},
        )
        if response.status_code >= 400:
            raise self._refused(response)
        body = http.json_body(response)
        cards = body.get("cards") or []
        cursor = body.get("cursor") or {}
        if not isinstance(cards, list) or not isinstance(cursor, dict):
            raise MalformedResponse()
        return cards, cursor

    def _collect_cards(
        self, raws: list[Any], wanted: set[str], found: dict[str, ProductCard]
    ) -> None:
        cards, broken = parsing.parse_each(
            raws, parsing.parse_card, channel="product", id_keys=("nmID",)
        )
        for item in broken:
            logger.warning(
                "wb card skipped: breaks the contract",
                extra={
                    "account_id": self.account.pk,
                    "external_id": item.external_id,
                    "error": item.error,
                },
            )
        for card in cards:
            if card.external_id in wanted:
                found[card.external_id] = card

    def _cards_from_content_api(self, wanted: list[str]) -> dict[str, ProductCard]:
        found: dict[str, ProductCard] = {}
        wanted_set = set(wanted)
        if len(wanted) <= CARDS_SEARCH_ONE_BY_ONE:
            for nm_id in wanted:
                cards, _cursor = self._cards_page(
                    {
                        "cursor": {"limit": CARDS_LIMIT},
                        "filter": {"textSearch": nm_id, "withPhoto": -1},
                    }
                )
                self._collect_cards(cards, {nm_id}, found)
            return found
        cursor: dict[str, Any] = {"limit": CARDS_LIMIT}
        while True:
            cards, page_cursor = self._cards_page({"cursor": cursor, "filter": {"withPhoto": -1}})
            self._collect_cards(cards, wanted_set, found)
            total = page_cursor.get("total")
            if (
                wanted_set <= found.keys()
                or not isinstance(total, int)
                or total < CARDS_LIMIT
                or not page_cursor.get("updatedAt")
                or not page_cursor.get("nmID")
            ):
                return found
            cursor = {
                "limit": CARDS_LIMIT,
                "updatedAt": page_cursor["updatedAt"],
                "nmID": page_cursor["nmID"],
            }

    def _card_from_storefront(self, nm_id: int) -> ProductCard | None:
        vol, part = nm_id // 100_000, nm_id // 1000
        cache_key = f"wb:basket:{vol}"
        cached = get_redis().get(cache_key)
        guess = basket_number(vol)
        numbers = [int(cached)] if cached else []
        numbers += [guess] + [guess + delta for delta in BASKET_NEIGHBOURS if guess + delta >= 1]
        base = f"/vol{vol}/part{part}/{nm_id}"
        for number in dict.fromkeys(numbers):
            host = f"basket-{number:02d}.wbbasket.ru"
            try:
                # A public CDN: never send the seller's token there.
                response = http.request(
                    self.account,
                    "GET",
                    host,
                    f"{base}/info/ru/card.json",
                    headers={},
                    timeout=self._timeout,
                    max_attempts=2,
                )
            except (TransientMarketplaceError, AuthError):
                logger.warning(
                    "wb storefront card unavailable",
                    extra={"account_id": self.account.pk, "nm_id": nm_id},
                )
                return None
            if response.status_code == 404:
                continue
            if response.status_code >= 400:
                return None
            try:
                raw = http.json_body(response)
                card = parsing.parse_card_json(
                    raw, nm_id=nm_id, media_base_url=f"https://{host}{base}"
                )
            except (MalformedResponse, ItemError):
                logger.warning(
                    "wb storefront card unreadable",
                    extra={"account_id": self.account.pk, "nm_id": nm_id},
                )
                return None
            get_redis().set(cache_key, number, ex=BASKET_CACHE_SECONDS)
            return card
        return None

    # ------------------------------------------------------------------ answers
    def read_answer(self, channel: str, external_id: str) -> AnswerState:
        """The seller's answer of a review or question as WB shows it now.

        Chat: `AnswerNotReadable` — WB has no way to read one message back (the chat list's
        `lastMessage` does not say who sent it), so a caller must not guess from it.
        """
        if channel == "chat":
            raise AnswerNotReadable
        path = {"review": "/api/v1/feedback", "question": "/api/v1/question"}[channel]
        response = self._call(
            "GET", FEEDBACKS_HOST, path, bucket=limits.FEEDBACKS, params={"id": external_id}
        )
        data = self._envelope(response)
        if not isinstance(data, dict) or data.get("id") != external_id:
            raise MalformedResponse()
        answer = data.get("answer")
        if answer is None:
            return AnswerState(exists=False)
        if not isinstance(answer, dict):
            raise MalformedResponse()
        # Reviews carry a moderation state on the answer; questions only on the question.
        return AnswerState(
            exists=True,
            text=parsing.get_str(answer, "text"),
            editable=answer.get("editable") is True,
            moderation_state=parsing.get_str(answer if channel == "review" else data, "state"),
        )

    def _rejected(self, response: httpx.Response) -> PublishRejected:
        return PublishRejected(
            _("Wildberries refused the answer: %(detail)s") % {"detail": self._error_text(response)}
        )

    def _publish_review(self, review_id: str, text: str, *, is_edit: bool) -> PublishResult:
        response = self._call(
            "PATCH" if is_edit else "POST",
            FEEDBACKS_HOST,
            "/api/v1/feedbacks/answer",
            bucket=limits.FEEDBACKS,
            is_write=True,
            json={"id": review_id, "text": text},
        )
        if response.status_code >= 400:
            raise self._rejected(response)
        # 204 even for an unknown id: the receipt comes from read_answer.
        return PublishResult(sent_at=timezone.now())

    def _publish_question(self, question_id: str, text: str, *, is_edit: bool) -> PublishResult:
        if not is_edit and self.read_answer("question", question_id).exists:
            # For questions WB treats a second answer as the one allowed edit: refuse instead.
            raise PublishRejected(_("This question already has an answer on Wildberries."))
        response = self._call(
            "PATCH",
            FEEDBACKS_HOST,
            "/api/v1/questions",
            bucket=limits.FEEDBACKS,
            is_write=True,
            json={"id": question_id, "answer": {"text": text}, "state": "wbRu"},
        )
        if response.status_code >= 400:
            raise self._rejected(response)
        try:
            body = http.json_body(response)
        except MalformedResponse:
            body = {}
        if body.get("error") is True:
            raise self._rejected(response)
        return PublishResult(sent_at=timezone.now())

    def _publish_chat(self, chat_id: str, text: str) -> PublishResult:
        chat = self._chat_directory().get(chat_id)
        reply_sign = chat.get("replySign") if chat is not None else None
        if not isinstance(reply_sign, str) or not reply_sign:
            raise PublishRejected(_("The chat was not found on Wildberries."))
        response = self._call(
            "POST",
            CHAT_HOST,
            "/api/v1/seller/message",
            bucket=limits.CHAT,
            is_write=True,
            files=[("replySign", (None, reply_sign)), ("message", (None, text))],
        )
        if response.status_code >= 400:
            raise self._rejected(response)
        result = http.json_body(response).get("result")
        add_time = result.get("addTime") if isinstance(result, dict) else None
        sent_at = (
            datetime.fromtimestamp(add_time / 1000, tz=UTC)
            if isinstance(add_time, int) and not isinstance(add_time, bool)
            else timezone.now()
        )
        # The message comes back in the events feed (sender "seller") with addTimestamp equal
        # to addTime: that pair identifies it; WB gives sent messages no id of their own.
        return PublishResult(sent_at=sent_at)


_BASKET_UPPER_VOLS = (
    143,
    287,
    431,
    719,
    1007,
    1061,
    1115,
    1169,
    1313,
    1601,
    1655,
    1919,
    2045,
    2189,
)


def basket_number(vol: int) -> int:
    """NN of basket-NN.wbbasket.ru serving this vol (table in wb-product-card.md; a guess
    beyond the confirmed ranges, so callers try neighbours on 404)."""
    for number, upper in enumerate(_BASKET_UPPER_VOLS, start=1):
        if vol <= upper:
            return number
    return 15 + (vol - 2190) // 216
