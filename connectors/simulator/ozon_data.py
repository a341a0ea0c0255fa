"""State of one simulated Ozon seller: products, reviews (+ comments), questions (+ answers), chats.

Ozon ids: reviews, questions, comments and answers carry time-ordered UUID-like ids
(``0197a3c2-5b1e-7f40-…``); SKUs, product ids and chat message ids are integers. Chat message ids
grow with time across the whole account, which is what keyset pagination of the chat list uses.
Texts come from ``data.py`` (the same Russian phrase bank as the WB part).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.simulator import data
from connectors.simulator.core import (
    AccountStats,
    Arrivals,
    FaultQueue,
    ReceivedAnswer,
    Record,
    SortedStore,
    TokenBucket,
    now_us,
    rfc3339_from_us,
)

DAY_US = 86_400 * 1_000_000
HOUR_US = 3_600 * 1_000_000
# FBO: the seller may write within 48 h of the buyer's last message (ozon-chats.md, send message).
CHAT_REPLY_WINDOW_US = 48 * HOUR_US
MESSAGE_ID_BASE = 3_000_000_000_800_000_000

# Which subscription opens which method group (README "Subscriptions", 2026 swagger; the
# deprecated v1 review methods keep the 2025-09 rule, Premium Plus, so a fallback can be tested).
SUBSCRIPTIONS = frozenset({"none", "premium_plus", "premium_pro", "reviews_management"})
REVIEWS_V2_SUBSCRIPTIONS = frozenset({"reviews_management", "premium_pro"})
REVIEWS_V1_SUBSCRIPTIONS = frozenset({"reviews_management", "premium_pro", "premium_plus"})
QUESTIONS_SUBSCRIPTIONS = frozenset({"premium_plus", "premium_pro"})
CHAT_WRITE_SUBSCRIPTIONS = frozenset({"premium_plus", "premium_pro"})

BUYER_CHAT_TYPES = ("BUYER_SELLER", "BUYER_SELLER_SELECT")
# Ozon's attribute ids (ozon-products.md): 85 brand, 4191 annotation, 9048 model name.
ATTRIBUTE_BRAND = 85
ATTRIBUTE_ANNOTATION = 4191
ATTRIBUTE_MODEL = 9048

OZON_AUTHOR_NAMES = ("Пользователь OZON", *data.FIRST_NAMES)
REVIEW_COMMENT_TEXTS = (
    "Спасибо за отзыв! Рады, что покупка понравилась.",
    "Благодарим за оценку! Передали замечание на склад, чтобы упаковка была надёжнее.",
    "Здравствуйте! Жаль, что товар не оправдал ожиданий. Напишите нам в чат — поможем с возвратом.",
)


@dataclass(frozen=True, slots=True)
class OzonAccountOptions:
    seed: int = 1
    reviews: int = 100
    questions: int = 20
    chats: int = 5
    products: int = 20
    limits: bool = True
    subscriptions: frozenset[str] = frozenset({"premium_pro"})
    roles: tuple[str, ...] = ("Admin",)
    key_valid_days: float = 150.0
    answered_share: float = 0.3
    moderation_seconds: float = 2.0
    service_chats: int = 1
    # Requests per second per Client-Id (Ozon's documented 50); tests may lower it to make a
    # 429 certain however slow the machine is.
    requests_per_second: int = 50
    # New items per minute by channel ("review", "question", "chat"); none by default.
    arrival_per_minute: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OzonProduct:
    base: data.Product
    sku: int
    product_id: int
    offer_id: str


@dataclass(slots=True)
class ReviewComment:
    comment_id: str
    review_id: str
    text: str
    parent_comment_id: str
    is_owner: bool
    published_us: int
    moderated_us: int
    is_rejected: bool = False
    is_deleted: bool = False

    def as_wire(self, now: int) -> dict[str, Any]:
        published = now >= self.moderated_us and not self.is_rejected
        return {
            "id": self.comment_id,
            "text": self.text,
            "parent_comment_id": self.parent_comment_id,
            "is_owner": self.is_owner,
            "is_official": self.is_owner,
            "is_published": published,
            "is_rejected": self.is_rejected,
            "deviation_reason": "Нецензурная лексика" if self.is_rejected else "",
            "likes_amount": 0,
            "dislikes_amount": 0,
            "published_at": rfc3339_from_us(self.published_us, fraction=True),
        }


@dataclass(slots=True)
class QuestionAnswer:
    answer_id: str
    question_id: str
    sku: int
    text: str
    author_name: str
    published_us: int
    moderated_us: int
    is_deleted: bool = False

    def as_wire(self, now: int) -> dict[str, Any]:
        return {
            "id": self.answer_id,
            "question_id": self.question_id,
            "sku": self.sku,
            "text": self.text,
            "author_name": self.author_name,
            "published_at": rfc3339_from_us(self.published_us, fraction=True),
            "status_publication": "PUBLISHED"
            if now >= self.moderated_us
            else "AWAITING_MODERATION",
        }


@dataclass(slots=True)
class ChatMessage:
    message_id: int
    created_us: int
    user_type: str  # Customer, Seller, Support, NotificationUser …
    user_id: str
    text: str
    is_image: bool = False
    is_read: bool = False


@dataclass(slots=True)
class OzonChat:
    chat_id: str
    chat_type: str
    status: str
    created_us: int
    customer_id: str
    order_number: str
    sku: int
    messages: list[ChatMessage] = field(default_factory=list)
    seller_texts: set[str] = field(default_factory=set)

    @property
    def last_message_id(self) -> int:
        return self.messages[-1].message_id if self.messages else 0

    @property
    def unread(self) -> list[ChatMessage]:
        return [m for m in self.messages if not m.is_read and m.user_type != "Seller"]

    def last_customer_us(self) -> int | None:
        for message in reversed(self.messages):
            if message.user_type == "Customer":
                return message.created_us
        return None

    def message_wire(self, message: ChatMessage) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if self.chat_type in BUYER_CHAT_TYPES:
            context = {"order_number": self.order_number, "sku": str(self.sku)}
        return {
            "message_id": message.message_id,
            "created_at": rfc3339_from_us(message.created_us, fraction=True),
            "data": [message.text],
            "is_image": message.is_image,
            "is_read": message.is_read,
            "moderate_image_status": "SUCCESS",
            "user": {"id": message.user_id, "type": message.user_type},
            "context": context,
        }


def time_uuid(rng: random.Random, at_us: int) -> str:
    """A UUIDv7-like id whose first 48 bits are the Unix milliseconds (how Ozon's ids look)."""
    stamp = f"{at_us // 1000:012x}"
    tail = data.random_hex(rng, 20)
    return (
        f"{stamp[:8]}-{stamp[8:12]}-7{tail[:3]}-{'89ab'[rng.randrange(4)]}{tail[3:6]}-{tail[6:18]}"
    )


def review_status_v1(status: str) -> str:
    return "PROCESSED" if status == "PROCESSED" else "UNPROCESSED"


class OzonAccount:
    """All mutable state of one Ozon seller. Callers hold ``lock`` while reading or changing it."""

    marketplace = "ozon"

    def __init__(
        self,
        account_id: str,
        client_id: str,
        api_key: str,
        options: OzonAccountOptions,
        text_source: data.TextSource,
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.api_key = api_key
        self.options = options
        self.subscriptions = set(options.subscriptions)
        self.roles = tuple(options.roles)
        self.limits_enabled = options.limits
        self.lock = threading.RLock()
        self.is_revoked = False
        self.faults = FaultQueue()
        self.stats = AccountStats()
        self.buckets: dict[str, TokenBucket] = {}
        self.answers: list[ReceivedAnswer] = []
        self._texts = text_source
        self._malformed_variant = 0
        seed = options.seed
        self._rng_products = random.Random(f"{seed}:ozon:products")
        self._rng_reviews = random.Random(f"{seed}:ozon:reviews")
        self._rng_questions = random.Random(f"{seed}:ozon:questions")
        self._rng_chats = random.Random(f"{seed}:ozon:chats")
        self._rng_ids = random.Random(f"{seed}:ozon:ids")
        self._clock_us = now_us()
        self.created_us = self._clock_us
        self.arrivals = Arrivals(options.arrival_per_minute, self.created_us)
        self.key_expires_us = self.created_us + int(options.key_valid_days * DAY_US)
        self._message_id = MESSAGE_ID_BASE + self._rng_ids.randrange(0, 10**12)

        self.products = self._make_products(max(1, options.products))
        self.products_by_sku = {p.sku: p for p in self.products}
        self.products_by_id = {p.product_id: p for p in self.products}
        self.products_by_offer = {p.offer_id: p for p in self.products}

        self.reviews = SortedStore()
        self.reviews_by_id: dict[str, Record] = {}
        self.comments: dict[str, ReviewComment] = {}
        self.comments_by_review: dict[str, list[ReviewComment]] = {}

        self.questions = SortedStore()
        self.questions_by_id: dict[str, Record] = {}
        self.question_answers: dict[str, QuestionAnswer] = {}
        self.answers_by_question: dict[str, list[QuestionAnswer]] = {}

        self.chats: dict[str, OzonChat] = {}

        self._generate_initial()

    # ----------------------------------------------------------------- configuration
    def configure(self, body: dict[str, Any]) -> None:
        """Control API: change subscriptions, roles or key expiry of a live account."""
        if "subscription" in body:
            self.subscriptions = parse_subscriptions(body["subscription"])
        if "roles" in body:
            self.roles = tuple(str(role) for role in body["roles"])
        if "key_expires_in_days" in body:
            self.key_expires_us = now_us() + int(float(body["key_expires_in_days"]) * DAY_US)

    def has_subscription(self, allowed: frozenset[str]) -> bool:
        return bool(self.subscriptions & allowed)

    # ----------------------------------------------------------------- generation
    def _next_us(self) -> int:
        self._clock_us = max(now_us(), self._clock_us + 1)
        return self._clock_us

    def _spread(
        self, rng: random.Random, count: int, oldest_days: float, newest_days: float
    ) -> list[int]:
        if count <= 0:
            return []
        span = int((oldest_days - newest_days) * DAY_US)
        newest = self.created_us - int(newest_days * DAY_US)
        return [newest - offset for offset in sorted(rng.sample(range(span), count), reverse=True)]

    def _make_products(self, count: int) -> list[OzonProduct]:
        rng = self._rng_products
        base = data.make_products(rng, count, now_us=self.created_us)
        sku = rng.randrange(1_400_000_000, 1_900_000_000)
        product_id = rng.randrange(700_000_000, 990_000_000)
        products = []
        for index, product in enumerate(base):
            sku += rng.randrange(11, 9_973)
            product_id += rng.randrange(3, 997)
            offer = f"{product.vendor_code}-OZ{index:02d}"
            products.append(OzonProduct(product, sku, product_id, offer))
        return products

    def _generate_initial(self) -> None:
        options = self.options
        for created in self._spread(self._rng_reviews, options.reviews, 28.0, 0.01):
            answered = self._rng_reviews.random() < options.answered_share
            self._make_review(created, answered=answered)
        for created in self._spread(self._rng_questions, options.questions, 21.0, 0.01):
            answered = self._rng_questions.random() < options.answered_share
            self._make_question(created, answered=answered)
        # Chats are built first and their messages numbered afterwards in time order, so
        # message ids grow with time across the account (as Ozon's do).
        pending: list[tuple[int, OzonChat, str, str, str]] = []
        for created in self._spread(self._rng_chats, options.chats, 14.0, 0.05):
            chat = self._new_chat(created, "BUYER_SELLER")
            stamp = created
            turns = self._rng_chats.randint(1, 5)
            for turn, text in enumerate(data.chat_turns(self._rng_chats, turns)):
                is_customer = turn % 2 == 0
                user_type = "Customer" if is_customer else "Seller"
                user_id = chat.customer_id if is_customer else self.client_id
                pending.append(
                    (min(stamp, self.created_us - 1000 + turn), chat, user_type, user_id, text)
                )
                stamp += self._rng_chats.randrange(60, 3_600) * 1_000_000
        for created in self._spread(self._rng_chats, options.service_chats, 20.0, 1.0):
            chat = self._new_chat(created, "SELLER_SUPPORT")
            pending.append(
                (created, chat, "Support", "0", "Здравствуйте! Обращение по поставке закрыто.")
            )
        for stamp, chat, user_type, user_id, text in sorted(pending, key=lambda p: p[0]):
            self._add_message(chat, user_type, user_id, text, at_us=stamp, is_read=True)
        for chat in self.chats.values():
            if chat.messages and chat.messages[-1].user_type == "Customer":
                chat.messages[-1].is_read = False

    def _product(self, rng: random.Random) -> OzonProduct:
        return self.products[rng.randrange(len(self.products))]

    def _make_review(
        self, created_us: int, *, answered: bool, rating: int | None = None, with_text: bool = True
    ) -> Record:
        rng = self._rng_reviews
        product = self._product(rng)
        valuation = rating or data.pick_rating(rng)
        review_id = time_uuid(self._rng_ids, created_us)
        text = (
            self._texts.review_text(rng, valuation, product.base)
            if with_text and rng.random() < 0.9
            else ""
        )
        photos = rng.randint(1, 3) if rng.random() < 0.15 else 0
        videos = 1 if rng.random() < 0.02 else 0
        status = "PROCESSED" if answered else rng.choice(("NEW", "NEW", "VIEWED"))
        payload: dict[str, Any] = {
            "id": review_id,
            "sku": product.sku,
            "text": text,
            "published_at": rfc3339_from_us(created_us, fraction=True),
            "rating": valuation,
            "status": status,
            "comments_amount": 0,
            "photos_amount": photos,
            "videos_amount": videos,
            "order_status": "CANCELLED" if rng.random() < 0.03 else "DELIVERED",
            "is_rating_participant": rng.random() < 0.95,
        }
        record = Record(review_id, created_us, product.sku, payload)
        self.reviews.add(record)
        self.reviews_by_id[review_id] = record
        if answered:
            comment = ReviewComment(
                comment_id=time_uuid(self._rng_ids, created_us + HOUR_US),
                review_id=review_id,
                text=rng.choice(REVIEW_COMMENT_TEXTS),
                parent_comment_id="",
                is_owner=True,
                published_us=created_us + HOUR_US,
                moderated_us=created_us + HOUR_US,
            )
            self._store_comment(record, comment)
        return record

    def review_info(self, record: Record) -> dict[str, Any]:
        payload = dict(record.data)
        rng = random.Random(f"{record.item_id}:media")
        payload["likes_amount"] = rng.randrange(0, 12)
        payload["dislikes_amount"] = rng.randrange(0, 3)
        payload["photos"] = [
            {
                "url": f"https://cdn1.ozone.ru/s3/rp-photo-{n}/{record.item_id[:8]}{n}.jpeg",
                "width": 1080,
                "height": 1440,
            }
            for n in range(1, payload["photos_amount"] + 1)
        ]
        payload["videos"] = [
            {
                "url": f"https://v.ozone.ru/vod/video-{n}/{record.item_id[:8]}/asset_1.mp4",
                "preview_url": f"https://cdn1.ozone.ru/s3/video-{n}/{record.item_id[:8]}.jpg",
                "short_video_preview_url": f"https://cdn1.ozone.ru/s3/video-{n}/{record.item_id[:8]}_s.jpg",
                "width": 720,
                "height": 1280,
            }
            for n in range(1, payload["videos_amount"] + 1)
        ]
        return payload

    def _make_question(self, created_us: int, *, answered: bool) -> Record:
        rng = self._rng_questions
        product = self._product(rng)
        question_id = time_uuid(self._rng_ids, created_us)
        text = rng.choice(data.fitting(product.base.category, data.QUESTION_TEMPLATES)).format(
            name=product.base.title,
            name_lower=product.base.title.lower(),
            color=rng.choice(data.COLORS),
            size=rng.choice(product.base.sizes)[1] or "M",
        )
        qid = rng.randrange(280_000_000, 320_000_000)
        payload: dict[str, Any] = {
            "id": question_id,
            "sku": product.sku,
            "text": text,
            "author_name": rng.choice(OZON_AUTHOR_NAMES),
            "published_at": rfc3339_from_us(created_us, fraction=True),
            "status": "PROCESSED" if answered else rng.choice(("NEW", "NEW", "VIEWED")),
            "answers_count": 0,
            "product_url": f"https://www.ozon.ru/product/{product.sku}/",
            "question_link": f"https://www.ozon.ru/product/{product.sku}/questions/?qid={qid}",
        }
        record = Record(question_id, created_us, product.sku, payload)
        self.questions.add(record)
        self.questions_by_id[question_id] = record
        if answered:
            answer = QuestionAnswer(
                answer_id=time_uuid(self._rng_ids, created_us + HOUR_US),
                question_id=question_id,
                sku=product.sku,
                text=rng.choice(data.QUESTION_ANSWERS),
                author_name=product.base.supplier_name,
                published_us=created_us + HOUR_US,
                moderated_us=created_us + HOUR_US,
            )
            self._store_answer(record, answer)
        return record

    def _new_chat(self, created_us: int, chat_type: str) -> OzonChat:
        rng = self._rng_chats
        product = self._product(rng)
        chat = OzonChat(
            chat_id=data.random_uuid(rng),
            chat_type=chat_type,
            status="OPENED",
            created_us=created_us,
            customer_id=str(rng.randrange(10_000_000, 99_000_000)),
            order_number=f"{rng.randrange(10**9, 10**10 - 1):010d}-{rng.randrange(1, 9):04d}",
            sku=product.sku,
        )
        self.chats[chat.chat_id] = chat
        return chat

    def _add_message(
        self,
        chat: OzonChat,
        user_type: str,
        user_id: str,
        text: str,
        *,
        at_us: int,
        is_read: bool = False,
    ) -> ChatMessage:
        self._message_id += self._rng_ids.randrange(1, 5_000)
        message = ChatMessage(
            message_id=self._message_id,
            created_us=at_us,
            user_type=user_type,
            user_id=user_id,
            text=text,
            is_read=is_read or user_type == "Seller",
        )
        chat.messages.append(message)
        return message

    def tick(self) -> None:
        """New items due since the last request arrive (`arrival_per_minute`)."""
        due = self.arrivals.due(now_us())
        if due:
            self.generate(
                reviews=due.get("review", 0),
                questions=due.get("question", 0),
                chats=due.get("chat", 0),
            )

    def generate(
        self,
        *,
        reviews: int = 0,
        questions: int = 0,
        chats: int = 0,
        chat_messages: int = 0,
        rating: int | None = None,
        with_text: bool = True,
    ) -> dict[str, list[str]]:
        created: dict[str, list[str]] = {
            "reviews": [],
            "questions": [],
            "chats": [],
            "chat_messages": [],
        }
        for _ in range(reviews):
            record = self._make_review(
                self._next_us(), answered=False, rating=rating, with_text=with_text
            )
            record.data["status"] = "NEW"
            created["reviews"].append(record.item_id)
        for _ in range(questions):
            record = self._make_question(self._next_us(), answered=False)
            record.data["status"] = "NEW"
            created["questions"].append(record.item_id)
        buyer_chats = [c for c in self.chats.values() if c.chat_type in BUYER_CHAT_TYPES]
        for _ in range(chats):
            stamp = self._next_us()
            chat = self._new_chat(stamp, "BUYER_SELLER")
            message = self._add_message(
                chat,
                "Customer",
                chat.customer_id,
                self._rng_chats.choice(data.CHAT_CLIENT_OPENINGS),
                at_us=stamp,
            )
            created["chats"].append(chat.chat_id)
            created["chat_messages"].append(str(message.message_id))
            buyer_chats.append(chat)
        for _ in range(chat_messages):
            if not buyer_chats:
                break
            chat = buyer_chats[self._rng_chats.randrange(len(buyer_chats))]
            message = self._add_message(
                chat,
                "Customer",
                chat.customer_id,
                self._rng_chats.choice(data.CHAT_CLIENT_FOLLOWUPS),
                at_us=self._next_us(),
            )
            created["chat_messages"].append(str(message.message_id))
        return created

    # ----------------------------------------------------------------- seller actions
    def record_answer(
        self, channel: str, item_id: str, text: str, kind: str, *, accepted: bool, duplicate: bool
    ) -> None:
        if kind != "delete":
            self.stats.answers_received[item_id] += 1
        if duplicate:
            self.stats.duplicate_answers += 1
        self.answers.append(
            ReceivedAnswer(
                channel, item_id, text, kind, accepted, rfc3339_from_us(now_us(), fraction=True)
            )
        )

    def owner_comments(self, review_id: str) -> list[ReviewComment]:
        return [
            c for c in self.comments_by_review.get(review_id, []) if c.is_owner and not c.is_deleted
        ]

    def _store_comment(self, record: Record, comment: ReviewComment) -> None:
        self.comments[comment.comment_id] = comment
        self.comments_by_review.setdefault(record.item_id, []).append(comment)
        record.data["comments_amount"] = len(
            [c for c in self.comments_by_review[record.item_id] if not c.is_deleted]
        )
        record.changed()

    def add_comment(
        self, record: Record, text: str, *, parent_comment_id: str, mark_processed: bool
    ) -> ReviewComment:
        stamp = self._next_us()
        comment = ReviewComment(
            comment_id=time_uuid(self._rng_ids, stamp),
            review_id=record.item_id,
            text=text,
            parent_comment_id=parent_comment_id,
            is_owner=True,
            published_us=stamp,
            moderated_us=stamp + int(self.options.moderation_seconds * 1_000_000),
        )
        self._store_comment(record, comment)
        if mark_processed:
            record.data["status"] = "PROCESSED"
        elif record.data["status"] == "NEW":
            record.data["status"] = "VIEWED"
        record.changed()
        return comment

    def delete_comment(self, comment: ReviewComment) -> None:
        comment.is_deleted = True
        record = self.reviews_by_id[comment.review_id]
        record.data["comments_amount"] = len(
            [c for c in self.comments_by_review[record.item_id] if not c.is_deleted]
        )
        record.changed()

    def active_answers(self, question_id: str) -> list[QuestionAnswer]:
        return [a for a in self.answers_by_question.get(question_id, []) if not a.is_deleted]

    def _store_answer(self, record: Record, answer: QuestionAnswer) -> None:
        self.question_answers[answer.answer_id] = answer
        self.answers_by_question.setdefault(record.item_id, []).append(answer)
        record.data["answers_count"] = len(self.active_answers(record.item_id))
        record.changed()

    def add_question_answer(self, record: Record, text: str) -> QuestionAnswer:
        stamp = self._next_us()
        product = self.products_by_sku[record.nm_id]
        answer = QuestionAnswer(
            answer_id=time_uuid(self._rng_ids, stamp),
            question_id=record.item_id,
            sku=record.nm_id,
            text=text,
            author_name=product.base.supplier_name,
            published_us=stamp,
            moderated_us=stamp + int(self.options.moderation_seconds * 1_000_000),
        )
        self._store_answer(record, answer)
        record.data["status"] = "PROCESSED"
        record.changed()
        return answer

    def delete_question_answer(self, answer: QuestionAnswer) -> None:
        answer.is_deleted = True
        record = self.questions_by_id[answer.question_id]
        record.data["answers_count"] = len(self.active_answers(record.item_id))
        record.changed()

    def send_seller_message(self, chat: OzonChat, text: str) -> ChatMessage:
        chat.seller_texts.add(text)
        message = self._add_message(chat, "Seller", self.client_id, text, at_us=self._next_us())
        for earlier in chat.messages:
            earlier.is_read = True
        return message

    def chat_send_window_ends_us(self, chat: OzonChat) -> int | None:
        last = chat.last_customer_us()
        return None if last is None else last + CHAT_REPLY_WINDOW_US

    # ----------------------------------------------------------------- views
    def buyer_chats(self) -> list[OzonChat]:
        return [c for c in self.chats.values() if c.chat_type in BUYER_CHAT_TYPES]

    def chats_by_recency(self) -> list[OzonChat]:
        return sorted(self.chats.values(), key=lambda c: c.last_message_id, reverse=True)

    def malformed_variant(self) -> int:
        self._malformed_variant += 1
        return self._malformed_variant

    def truth(self) -> dict[str, Any]:
        reviews = list(self.reviews)
        questions = list(self.questions)
        buyer = self.buyer_chats()
        return {
            "account_id": self.account_id,
            "marketplace": "ozon",
            "client_id": self.client_id,
            "subscriptions": sorted(self.subscriptions),
            "key_expires_at": rfc3339_from_us(self.key_expires_us),
            "reviews": {
                "total": len(reviews),
                "ids": [r.item_id for r in reviews],
                "new_ids": [r.item_id for r in reviews if r.data["status"] == "NEW"],
                "unanswered_ids": [
                    r.item_id for r in reviews if not self.owner_comments(r.item_id)
                ],
                "answered_ids": [r.item_id for r in reviews if self.owner_comments(r.item_id)],
                "skus": {r.item_id: r.nm_id for r in reviews},
            },
            "questions": {
                "total": len(questions),
                "ids": [q.item_id for q in questions],
                "unanswered_ids": [
                    q.item_id for q in questions if not self.active_answers(q.item_id)
                ],
                "answered_ids": [q.item_id for q in questions if self.active_answers(q.item_id)],
            },
            "chats": {
                "total": len(buyer),
                "ids": [c.chat_id for c in buyer],
                "all_ids": list(self.chats),
                "messages": sum(len(c.messages) for c in buyer),
                "message_ids": [str(m.message_id) for c in buyer for m in c.messages],
                "open_for_reply_ids": [
                    c.chat_id for c in buyer if (self.chat_send_window_ends_us(c) or 0) > now_us()
                ],
            },
            "products": {
                "total": len(self.products),
                "skus": [p.sku for p in self.products],
                "product_ids": [p.product_id for p in self.products],
            },
            "answers": {
                "stored": sum(1 for a in self.answers if a.accepted and a.kind != "delete"),
                "review_comments": sum(
                    1
                    for a in self.answers
                    if a.accepted and a.channel == "review_comment" and a.kind == "create"
                ),
                "question_answers": sum(
                    1
                    for a in self.answers
                    if a.accepted and a.channel == "question_answer" and a.kind == "create"
                ),
                "chat_messages": sum(1 for a in self.answers if a.accepted and a.channel == "chat"),
                "deleted": sum(1 for a in self.answers if a.accepted and a.kind == "delete"),
            },
        }


def parse_subscriptions(value: Any) -> set[str]:
    """A subscription name or a list of names (``premium_plus``, ``premium_pro``,
    ``reviews_management``, ``none``); raises ValueError on anything else."""
    names: Iterable[Any] = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple | set | frozenset):
        raise ValueError("subscription must be a string or a list of strings")
    result = set()
    for name in names:
        if name not in SUBSCRIPTIONS:
            raise ValueError(f"subscription must be one of {sorted(SUBSCRIPTIONS)}")
        if name != "none":
            result.add(str(name))
    return result
