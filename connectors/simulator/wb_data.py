"""State of one simulated WB seller account: products, reviews, questions, chats, and their changes."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
from connectors.simulator.tokens import WbTokenClaims

DAY_US = 86_400 * 1_000_000
EDIT_WINDOW_US = 60 * DAY_US
MOSCOW = timedelta(hours=3)

# 1x1 transparent PNG, served for generated chat images.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


@dataclass(frozen=True, slots=True)
class WbAccountOptions:
    seed: int = 1
    reviews: int = 100
    archived_reviews: int = 10
    questions: int = 20
    chats: int = 5
    products: int = 20
    limits: bool = True
    # New items per minute by channel ("review", "question", "chat"); none by default.
    arrival_per_minute: Mapping[str, float] = field(default_factory=dict)
    answered_share: float = 0.3
    moderation_seconds: float = 5.0


@dataclass(slots=True)
class ChatState:
    chat_id: str
    reply_sign: str
    client_id: str
    client_name: str
    good_card: dict[str, Any]
    record: Record
    seller_texts: set[str] = field(default_factory=set)


@dataclass(slots=True)
class StoredFile:
    content_type: str
    content: bytes
    name: str


def moscow_midnight_us(moment_us: int) -> int:
    local = datetime.fromtimestamp(moment_us / 1_000_000, tz=UTC) + MOSCOW
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - MOSCOW
    return int(midnight.timestamp() * 1_000_000)


class WbAccount:
    """All mutable state of one WB seller. Callers hold ``lock`` while reading or changing it."""

    marketplace = "wb"

    def __init__(
        self,
        account_id: str,
        token: str,
        claims: WbTokenClaims,
        options: WbAccountOptions,
        text_source: data.TextSource,
    ) -> None:
        self.account_id = account_id
        self.token = token
        self.claims = claims
        self.options = options
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
        self._rng_products = random.Random(f"{seed}:wb:products")
        self._rng_reviews = random.Random(f"{seed}:wb:reviews")
        self._rng_questions = random.Random(f"{seed}:wb:questions")
        self._rng_chats = random.Random(f"{seed}:wb:chats")
        self._clock_us = now_us()
        self.created_us = self._clock_us
        self.arrivals = Arrivals(options.arrival_per_minute, self.created_us)

        self.products = data.make_products(
            self._rng_products, max(1, options.products), now_us=self._clock_us
        )
        self.products_by_nm = {product.nm_id: product for product in self.products}
        self.seller_name = self.products[0].supplier_name
        self.trade_mark = self.products[0].brand

        self.reviews_unanswered = SortedStore()
        self.reviews_answered = SortedStore()
        self.reviews_archive = SortedStore()
        self.reviews_by_id: dict[str, Record] = {}
        self.review_answered_us: dict[str, int] = {}
        self.review_edited: set[str] = set()
        self.unviewed_reviews: set[str] = set()
        self._moderation: list[tuple[int, str]] = []

        self.questions_unanswered = SortedStore()
        self.questions_answered = SortedStore()
        self.questions_by_id: dict[str, Record] = {}
        self.question_answered_us: dict[str, int] = {}
        self.question_edited: set[str] = set()
        self.unviewed_questions: set[str] = set()

        self.chats: dict[str, ChatState] = {}
        self.chat_order: list[ChatState] = []
        self.chats_by_sign: dict[str, ChatState] = {}
        self.events = SortedStore()  # keyed by addTimestamp in milliseconds
        self.event_count_by_sender: dict[str, int] = {"client": 0, "seller": 0, "wb": 0}
        self.files: dict[str, StoredFile] = {}
        self.last_event_ms = self.created_us // 1000 - 1

        self._generate_initial()

    # ----------------------------------------------------------------- clock and generation
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
        offsets = sorted(rng.sample(range(span), count), reverse=True)
        return [newest - offset for offset in offsets]

    def _generate_initial(self) -> None:
        options = self.options
        share = options.answered_share
        for created in self._spread(self._rng_reviews, options.reviews, 28.0, 0.01):
            answered = self._rng_reviews.random() < share
            self._add_review(self._make_review(self._rng_reviews, created, answered=answered))
        for created in self._spread(self._rng_reviews, options.archived_reviews, 120.0, 31.0):
            answered = self._rng_reviews.random() < 0.6
            self._add_review(
                self._make_review(self._rng_reviews, created, answered=answered), archived=True
            )
        for created in self._spread(self._rng_questions, options.questions, 21.0, 0.01):
            answered = self._rng_questions.random() < share
            self._add_question(self._make_question(self._rng_questions, created, answered=answered))
        for created in self._spread(self._rng_chats, options.chats, 14.0, 0.02):
            self._make_chat(
                self._rng_chats, created // 1000, turns=self._rng_chats.randint(1, 5), live=False
            )

    def _product(self, rng: random.Random) -> data.Product:
        return self.products[rng.randrange(len(self.products))]

    def _make_review(
        self,
        rng: random.Random,
        created_us: int,
        *,
        answered: bool,
        rating: int | None = None,
        with_text: bool = True,
    ) -> Record:
        product = self._product(rng)
        valuation = rating or data.pick_rating(rng)
        review_id = data.random_id(rng)
        has_text = with_text and rng.random() < 0.9
        text = self._texts.review_text(rng, valuation, product) if has_text else ""
        pros = (
            data.pick(rng, data.fitting(product.category, data.PROS_BY_RATING[valuation]))
            if with_text and rng.random() < 0.5
            else ""
        )
        cons = (
            data.pick(rng, data.fitting(product.category, data.CONS_BY_RATING[valuation]))
            if with_text and rng.random() < 0.4
            else ""
        )
        photo_links = None
        if rng.random() < 0.15:
            base = f"https://feedback0{rng.randint(1, 9)}.wbbasket.ru/vol{product.nm_id // 100_000}/part{product.nm_id // 1000}/{product.nm_id}/photos"
            photo_links = [
                {
                    "fullSize": f"{base}/fs_{review_id}_{n}.jpg",
                    "miniSize": f"{base}/ms_{review_id}_{n}.jpg",
                }
                for n in range(1, rng.randint(1, 3) + 1)
            ]
        video = None
        if rng.random() < 0.02:
            video = {
                "previewImage": f"https://videofeedback01.wbbasket.ru/{review_id}/preview.webp",
                "link": f"https://videofeedback01.wbbasket.ru/{review_id}/index.m3u8",
                "durationSec": rng.randint(5, 60),
            }
        size = rng.choice(product.sizes)
        answer = None
        if answered:
            answer = {
                "text": f"{rng.choice(data.FIRST_NAMES)}, спасибо за отзыв! Будем рады видеть вас снова.",
                "state": "wbRu",
                "editable": rng.random() < 0.7,
            }
        payload: dict[str, Any] = {
            "id": review_id,
            "text": text,
            "pros": pros,
            "cons": cons,
            "productValuation": valuation,
            "createdDate": rfc3339_from_us(created_us),
            "answer": answer,
            "state": "wbRu" if answered else "none",
            "productDetails": {
                "imtId": product.imt_id,
                "nmId": product.nm_id,
                "productName": product.title,
                "supplierArticle": product.vendor_code,
                "supplierName": product.supplier_name,
                "brandName": product.brand,
                "size": size[1],
            },
            "video": video,
            "wasViewed": answered or rng.random() < 0.5,
            "photoLinks": photo_links,
            "userName": rng.choice(data.FIRST_NAMES) if rng.random() < 0.9 else "Покупатель",
            "matchingSize": rng.choice(("ok", "ok", "ok", "smaller", "bigger"))
            if product.category.has_size_fit
            else "",
            "isAbleSupplierFeedbackValuation": True,
            "supplierFeedbackValuation": 0,
            "isAbleSupplierProductValuation": True,
            "supplierProductValuation": 0,
            "isAbleReturnProductOrders": valuation <= 2 and rng.random() < 0.5,
            "returnProductOrdersDate": None,
            "bables": rng.sample(data.BABLES, rng.randint(1, 2)) if rng.random() < 0.4 else None,
            "lastOrderShkId": rng.randrange(10_000_000_000, 40_000_000_000),
            "lastOrderCreatedAt": rfc3339_from_us(created_us - rng.randrange(2, 20) * DAY_US),
            "color": product.color,
            "subjectId": product.category.subject_id,
            "subjectName": product.category.subject_name,
            "parentFeedbackId": None,
            "childFeedbackId": None,
        }
        record = Record(review_id, created_us, product.nm_id, payload)
        if answered:
            self.review_answered_us[review_id] = created_us + DAY_US // 2
        return record

    def _add_review(self, record: Record, *, archived: bool = False) -> None:
        self.reviews_by_id[record.item_id] = record
        if archived:
            self.reviews_archive.add(record)
        elif record.data["answer"] is None:
            self.reviews_unanswered.add(record)
            if not record.data["wasViewed"]:
                self.unviewed_reviews.add(record.item_id)
        else:
            self.reviews_answered.add(record)

    def _make_question(self, rng: random.Random, created_us: int, *, answered: bool) -> Record:
        product = self._product(rng)
        question_id = data.random_id(rng)
        size = rng.choice(product.sizes)
        text = rng.choice(data.fitting(product.category, data.QUESTION_TEMPLATES)).format(
            name=product.title,
            name_lower=product.title.lower(),
            color=rng.choice(data.COLORS),
            size=size[1] or "M",
        )
        answer = None
        if answered:
            answer_us = created_us + DAY_US // 4
            answer = {
                "text": rng.choice(data.QUESTION_ANSWERS),
                "editable": rng.random() < 0.7,
                "createDate": rfc3339_from_us(answer_us, fraction=True),
            }
            self.question_answered_us[question_id] = answer_us
        payload: dict[str, Any] = {
            "id": question_id,
            "text": text,
            "createdDate": rfc3339_from_us(created_us, fraction=True),
            "state": "wbRu" if answered else "suppliersPortalSynch",
            "answer": answer,
            "productDetails": {
                "imtId": product.imt_id,
                "nmId": product.nm_id,
                "productName": product.title,
                "supplierArticle": product.vendor_code,
                "supplierName": product.supplier_name,
                "brandName": product.brand,
            },
            "wasViewed": answered or rng.random() < 0.5,
            "isWarned": rng.random() < 0.03,
        }
        return Record(question_id, created_us, product.nm_id, payload)

    def _add_question(self, record: Record) -> None:
        self.questions_by_id[record.item_id] = record
        if record.data["answer"] is None:
            self.questions_unanswered.add(record)
            if not record.data["wasViewed"]:
                self.unviewed_questions.add(record.item_id)
        else:
            self.questions_answered.add(record)

    def _event_ms(self, wanted_ms: int, *, live: bool) -> int:
        # Live events must sort after every event a client may already have read (the feed cursor
        # is "strictly after next"); history events only need a unique millisecond.
        stamp = max(wanted_ms, self.last_event_ms + 1) if live else wanted_ms
        while self.events.count_between(stamp, stamp):
            stamp += 1
        self.last_event_ms = max(self.last_event_ms, stamp)
        return stamp

    def _make_chat(self, rng: random.Random, start_ms: int, *, turns: int, live: bool) -> ChatState:
        product = self._product(rng)
        chat_id = f"1:{data.random_uuid(rng)}"
        client_name = rng.choice(data.FIRST_NAMES)
        good_card = {
            "date": rfc3339_from_us(
                (start_ms - rng.randrange(1, 10) * 86_400_000) * 1000, fraction=True
            ),
            "nmID": product.nm_id,
            "price": product.price,
            "priceCurrency": "RUB",
            "rid": data.random_hex(rng, 32),
            "size": rng.choice(product.sizes)[2],
            "statusID": rng.choice((11, 11, 11, 4, 3, 13)),
        }
        record = Record(chat_id, start_ms * 1000, product.nm_id, {})
        chat = ChatState(
            chat_id=chat_id,
            reply_sign=f"{chat_id}:{data.random_hex(rng, 32)}",
            client_id=str(rng.randrange(1_000_000, 99_000_000)),
            client_name=client_name,
            good_card=good_card,
            record=record,
        )
        record.data = {
            "chatID": chat_id,
            "replySign": chat.reply_sign,
            "clientID": chat.client_id,
            "clientName": client_name,
            "goodCard": good_card,
            "lastMessage": {"text": "", "addTimestamp": start_ms},
        }
        self.chats[chat_id] = chat
        self.chat_order.append(chat)
        self.chats_by_sign[chat.reply_sign] = chat
        latest_ms = self.created_us // 1000 - turns if not live else start_ms + turns * 3_600_000
        stamp = start_ms
        for turn, text in enumerate(data.chat_turns(rng, turns, product.category)):
            stamp = min(stamp, latest_ms + turn)
            if turn % 2 == 0:
                self.add_client_event(chat, text, stamp, rng=rng, is_first=turn == 0, live=live)
            else:
                self._add_event(
                    chat,
                    sender="seller",
                    source="seller-portal",
                    text=text,
                    at_ms=stamp,
                    live=live,
                )
            stamp += rng.randrange(60_000, 3_600_000)
        return chat

    def add_client_event(
        self,
        chat: ChatState,
        text: str,
        at_ms: int,
        *,
        rng: random.Random,
        is_first: bool = False,
        live: bool = True,
    ) -> Record:
        attachments: dict[str, Any] | None = None
        if is_first:
            attachments = {"goodCard": chat.good_card}
            if rng.random() < 0.3:
                download_id = data.random_uuid(rng)
                self.files[download_id] = StoredFile("image/png", TINY_PNG, f"{download_id}.png")
                attachments["images"] = [
                    {
                        "date": rfc3339_from_us(at_ms * 1000, fraction=True),
                        "downloadID": download_id,
                        "url": f"https://chat-basket-01.wbbasket.ru/vol0/part1/{download_id}/png/{download_id}.png",
                    }
                ]
        return self._add_event(
            chat,
            sender="client",
            source=rng.choice(("rusite", "android", "ios")),
            text=text,
            at_ms=at_ms,
            attachments=attachments,
            is_new_chat=is_first,
            rng=rng,
            live=live,
        )

    def _add_event(
        self,
        chat: ChatState,
        *,
        sender: str,
        source: str,
        text: str,
        at_ms: int,
        attachments: dict[str, Any] | None = None,
        is_new_chat: bool = False,
        rng: random.Random | None = None,
        live: bool = True,
    ) -> Record:
        stamp = self._event_ms(at_ms, live=live)
        event_id = data.random_uuid(rng or self._rng_chats)
        message: dict[str, Any] = {"text": text}
        if attachments:
            message["attachments"] = attachments
        payload: dict[str, Any] = {
            "chatID": chat.chat_id,
            "eventID": event_id,
            "eventType": "message",
        }
        if is_new_chat:
            payload["isNewChat"] = True
        payload["message"] = message
        payload["source"] = source
        payload["addTimestamp"] = stamp
        payload["addTime"] = rfc3339_from_us(stamp * 1000)
        if is_new_chat:
            payload["replySign"] = chat.reply_sign
        payload["sender"] = sender
        if sender == "client":
            payload["clientID"] = chat.client_id
            payload["clientName"] = chat.client_name
        record = Record(event_id, stamp, chat.record.nm_id, payload)
        self.events.add(record)
        self.event_count_by_sender[sender] = self.event_count_by_sender.get(sender, 0) + 1
        last = chat.record.data["lastMessage"]
        if stamp >= last["addTimestamp"]:
            chat.record.data["lastMessage"] = {"text": text, "addTimestamp": stamp}
            chat.record.changed()
        return record

    # ----------------------------------------------------------------- time passing
    def tick(self) -> None:
        """Apply what happened since the last request: moderation verdicts and new arrivals."""
        current = now_us()
        if self._moderation:
            due = [item for item in self._moderation if item[0] <= current]
            if due:
                self._moderation = [item for item in self._moderation if item[0] > current]
                for _, review_id in due:
                    record = self.reviews_by_id[review_id]
                    answer = record.data["answer"]
                    if answer is not None and answer["state"] == "reviewRequired":
                        answer["state"] = "wbRu"
                        record.changed()
        arrived = self.arrivals.due(current)
        if arrived:
            self.generate(
                reviews=arrived.get("review", 0),
                questions=arrived.get("question", 0),
                chats=arrived.get("chat", 0),
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
                self._rng_reviews,
                self._next_us(),
                answered=False,
                rating=rating,
                with_text=with_text,
            )
            record.data["wasViewed"] = False
            self._add_review(record)
            created["reviews"].append(record.item_id)
        for _ in range(questions):
            record = self._make_question(self._rng_questions, self._next_us(), answered=False)
            record.data["wasViewed"] = False
            self._add_question(record)
            created["questions"].append(record.item_id)
        for _ in range(chats):
            chat = self._make_chat(self._rng_chats, self._next_us() // 1000, turns=1, live=True)
            created["chats"].append(chat.chat_id)
        for _ in range(chat_messages):
            if not self.chat_order:
                chat = self._make_chat(self._rng_chats, self._next_us() // 1000, turns=1, live=True)
                created["chats"].append(chat.chat_id)
                continue
            chat = self.chat_order[self._rng_chats.randrange(len(self.chat_order))]
            event = self.add_client_event(
                chat,
                self._rng_chats.choice(data.CHAT_CLIENT_FOLLOWUPS),
                self._next_us() // 1000,
                rng=self._rng_chats,
            )
            created["chat_messages"].append(event.item_id)
        return created

    # ----------------------------------------------------------------- seller actions
    def record_answer(
        self, channel: str, item_id: str, text: str, kind: str, *, accepted: bool, duplicate: bool
    ) -> None:
        self.stats.answers_received[item_id] += 1
        if duplicate:
            self.stats.duplicate_answers += 1
        self.answers.append(
            ReceivedAnswer(
                channel, item_id, text, kind, accepted, rfc3339_from_us(now_us(), fraction=True)
            )
        )

    def answer_review(self, record: Record, text: str) -> None:
        stamp = self._next_us()
        record.data["answer"] = {"text": text, "state": "reviewRequired", "editable": True}
        record.data["state"] = "wbRu"
        record.data["wasViewed"] = True
        record.changed()
        self.review_answered_us[record.item_id] = stamp
        self.unviewed_reviews.discard(record.item_id)
        if record in self.reviews_unanswered:
            self.reviews_unanswered.remove(record)
            self.reviews_answered.add(record)
        self._moderation.append(
            (stamp + int(self.options.moderation_seconds * 1_000_000), record.item_id)
        )

    def can_edit_review(self, record: Record) -> bool:
        answered_us = self.review_answered_us.get(record.item_id)
        answer = record.data["answer"]
        return (
            answer is not None
            and answered_us is not None
            and bool(answer["editable"])
            and record.item_id not in self.review_edited
            and now_us() - answered_us <= EDIT_WINDOW_US
        )

    def edit_review_answer(self, record: Record, text: str) -> None:
        stamp = self._next_us()
        record.data["answer"] = {"text": text, "state": "reviewRequired", "editable": False}
        record.changed()
        self.review_edited.add(record.item_id)
        self._moderation.append(
            (stamp + int(self.options.moderation_seconds * 1_000_000), record.item_id)
        )

    def answer_question(self, record: Record, text: str, *, reject: bool) -> None:
        stamp = self._next_us()
        record.data["answer"] = {
            "text": text,
            "editable": not reject,
            "createDate": rfc3339_from_us(stamp, fraction=True),
        }
        record.data["state"] = "none" if reject else "wbRu"
        record.data["wasViewed"] = True
        record.changed()
        self.question_answered_us[record.item_id] = stamp
        self.unviewed_questions.discard(record.item_id)
        if record in self.questions_unanswered:
            self.questions_unanswered.remove(record)
            self.questions_answered.add(record)

    def can_edit_question(self, record: Record) -> bool:
        answered_us = self.question_answered_us.get(record.item_id)
        answer = record.data["answer"]
        return (
            answer is not None
            and answered_us is not None
            and bool(answer["editable"])
            and record.item_id not in self.question_edited
            and now_us() - answered_us <= EDIT_WINDOW_US
        )

    def edit_question_answer(self, record: Record, text: str) -> None:
        record.data["answer"] = {
            "text": text,
            "editable": False,
            "createDate": record.data["answer"]["createDate"],
        }
        record.changed()
        self.question_edited.add(record.item_id)

    def mark_question_viewed(self, record: Record, viewed: bool) -> None:
        record.data["wasViewed"] = viewed
        record.changed()
        if viewed:
            self.unviewed_questions.discard(record.item_id)
        elif record.data["answer"] is None:
            self.unviewed_questions.add(record.item_id)

    def send_seller_message(self, chat: ChatState, text: str, files: list[StoredFile]) -> Record:
        attachments: dict[str, Any] | None = None
        stamp_ms = self._next_us() // 1000
        if files:
            file_entries = []
            image_entries = []
            for stored in files:
                download_id = data.random_uuid(self._rng_chats)
                self.files[download_id] = stored
                date = rfc3339_from_us(stamp_ms * 1000, fraction=True)
                url = f"https://chat-basket-01.wbbasket.ru/vol0/part1/{download_id}/{stored.name}"
                if stored.content_type.startswith("image/"):
                    image_entries.append({"date": date, "downloadID": download_id, "url": url})
                else:
                    file_entries.append(
                        {
                            "contentType": stored.content_type,
                            "date": date,
                            "downloadID": download_id,
                            "name": stored.name,
                            "url": url,
                            "size": len(stored.content),
                        }
                    )
            attachments = {}
            if file_entries:
                attachments["files"] = file_entries
            if image_entries:
                attachments["images"] = image_entries
        chat.seller_texts.add(text)
        return self._add_event(
            chat,
            sender="seller",
            source="seller-public-api",
            text=text,
            at_ms=stamp_ms,
            attachments=attachments,
        )

    # ----------------------------------------------------------------- views for the control API
    def malformed_variant(self) -> int:
        self._malformed_variant += 1
        return self._malformed_variant

    def truth(self) -> dict[str, Any]:
        review_ids = list(self.reviews_by_id)
        answered_reviews = [
            rid for rid, rec in self.reviews_by_id.items() if rec.data["answer"] is not None
        ]
        answered_questions = [
            qid for qid, rec in self.questions_by_id.items() if rec.data["answer"] is not None
        ]
        return {
            "account_id": self.account_id,
            "marketplace": "wb",
            "seller_id": self.claims.seller_id,
            "reviews": {
                "total": len(review_ids),
                "unanswered": len(self.reviews_unanswered),
                "answered": len(self.reviews_answered),
                "archived": len(self.reviews_archive),
                "ids": review_ids,
                "unanswered_ids": [r.item_id for r in self.reviews_unanswered],
                "archived_ids": [r.item_id for r in self.reviews_archive],
                "answered_ids": answered_reviews,
            },
            "questions": {
                "total": len(self.questions_by_id),
                "unanswered": len(self.questions_unanswered),
                "answered": len(self.questions_answered),
                "ids": list(self.questions_by_id),
                "unanswered_ids": [q.item_id for q in self.questions_unanswered],
                "answered_ids": answered_questions,
            },
            "chats": {
                "total": len(self.chats),
                "ids": list(self.chats),
                "events": len(self.events),
                "messages": len(self.events),
                "client_messages": self.event_count_by_sender.get("client", 0),
                "seller_messages": self.event_count_by_sender.get("seller", 0),
                "event_ids": [e.item_id for e in self.events],
            },
            "products": {"total": len(self.products), "nm_ids": [p.nm_id for p in self.products]},
            "answers": {
                "stored": sum(1 for a in self.answers if a.accepted),
                "reviews": sum(1 for a in self.answers if a.accepted and a.channel == "review"),
                "questions": sum(1 for a in self.answers if a.accepted and a.channel == "question"),
                "chat_messages": sum(1 for a in self.answers if a.accepted and a.channel == "chat"),
            },
        }
