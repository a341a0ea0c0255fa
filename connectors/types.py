"""Marketplace-agnostic shapes shared by every client and the sync pipeline.

A client turns the marketplace's pages into these frozen values; `inbox` ingests them
without knowing which marketplace they came from. Adding a marketplace means a client and
a mapping to these types, never a second pipeline.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class MessageData:
    """One message of a chat (or a question's / review's published answer)."""

    external_id: str
    direction: str  # "in" (customer) or "out" (seller)
    author_type: str  # "customer", "seller", "system"
    text: str
    occurred_at: datetime
    attachments: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ItemData:
    """One review, question or chat as the marketplace shows it now."""

    channel: str  # "review", "question", "chat"
    external_id: str
    occurred_at: datetime
    text: str = ""
    pros: str = ""
    cons: str = ""
    rating: int | None = None
    product_external_id: str = ""
    product_name: str = ""
    product_brand: str = ""
    product_article: str = ""
    customer_external_id: str = ""
    customer_name: str = ""
    order_id: str = ""
    attachments: tuple[Mapping[str, Any], ...] = ()
    # The seller's published answer, if any (reviews and questions).
    answer_text: str = ""
    is_answered: bool = False
    answer_editable: bool = False
    # Chats: messages in order; last_message_at of the newest one.
    messages: tuple[MessageData, ...] = ()
    last_message_at: datetime | None = None
    # The marketplace's own deadline for any answer (WB archive after 30 days, Ozon chat window).
    reply_window_ends_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MalformedItem:
    """An item of a page that broke the contract: recorded and skipped, never fatal."""

    channel: str
    external_id: str  # "" when even the id is unreadable
    error: str
    raw_excerpt: str  # at most ~300 characters, for support; never a whole customer text


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a channel, plus the cursor state to commit after ingesting it."""

    items: tuple[ItemData, ...]
    malformed: tuple[MalformedItem, ...]
    # Opaque, JSON-serialisable state to resume from after this page (stored in SyncCursor.state).
    next_state: Mapping[str, Any]
    done: bool  # no further pages in this sync run


@dataclass(frozen=True, slots=True)
class ProductCard:
    external_id: str
    name: str
    brand: str = ""
    article: str = ""
    image_url: str = ""
    card_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnswerEdits:
    """What a marketplace lets a seller do with a published review/question answer."""

    edits: int  # how many times it may be changed after publishing
    window: timedelta | None  # within how long of publishing (None: no limit)
    # Ozon has no edit: a change deletes the answer and publishes a new one, which may be
    # replaced in turn, so one more change is always possible.
    by_replacing: bool = False


@dataclass(frozen=True, slots=True)
class AnswerState:
    """What the marketplace shows as the seller's answer of an item (for receipts)."""

    exists: bool
    text: str = ""
    editable: bool = False
    moderation_state: str = ""  # e.g. WB "wbRu" / "reviewRequired" / "rejected"


@dataclass(frozen=True, slots=True)
class PublishResult:
    external_id: str = ""  # the marketplace's id of the sent message/comment, where it has one
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    channel: str
    available: bool
    message: str = ""  # in Russian, for the seller: why not, or what is limited


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    """The result of checking credentials when an account is connected."""

    ok: bool
    token_type: str = ""
    expires_at: datetime | None = None
    channels: tuple[ChannelAccess, ...] = ()
    warnings: tuple[str, ...] = ()  # Russian, e.g. a Base token's hourly limits
    error: str = ""  # Russian, when ok is False
    # Seconds between syncs that the token's limits allow (slow for a Base token).
    suggested_interval_seconds: int = 60


class MarketplaceClient(Protocol):
    """What the sync pipeline and the outbox need from a marketplace."""

    # The marketplace refuses a second answer itself (no read needed before a first attempt).
    REFUSES_SECOND_ANSWER: ClassVar[bool]
    ANSWER_EDITS: ClassVar[AnswerEdits]

    def check_connection(self) -> ConnectionReport: ...

    def has_news(self, channel: str, state: Mapping[str, Any]) -> bool:
        """A cheap "anything new?" check; True when unsure."""
        ...

    def fetch_page(self, channel: str, state: Mapping[str, Any]) -> Page: ...

    def fetch_products(self, external_ids: list[str]) -> list[ProductCard]: ...

    def read_answer(self, channel: str, external_id: str) -> AnswerState: ...

    def publish(
        self,
        channel: str,
        external_id: str,
        text: str,
        *,
        idempotency_key: str,
        is_edit: bool = False,
    ) -> PublishResult: ...

    def text_limits(self, channel: str) -> tuple[int, int]:
        """(min, max) characters of an answer in this channel."""
        ...
