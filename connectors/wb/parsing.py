"""WB wire objects → marketplace-agnostic values, one item at a time.

Every parser raises `ItemError` when an item breaks the contract (missing id, wrong type, bad
date); the caller turns that into a `MalformedItem` and keeps the rest of the page. Unknown
fields are ignored (WB adds fields without notice).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from connectors.parsing import ItemError, get_list, malformed
from connectors.types import ItemData, MalformedItem, MessageData, ProductCard

# A review left unanswered for this long moves to the archive and can no longer be answered.
REVIEW_REPLY_WINDOW = timedelta(days=30)
_FRACTION_RE = re.compile(r"(\.\d{6})\d+")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One valid event of the chat feed."""

    chat_id: str
    event_id: str
    at: datetime
    sender: str
    message: MessageData | None
    client_id: str
    client_name: str
    reply_sign: str
    good_card: Mapping[str, Any] | None
    is_new_chat: bool


# --------------------------------------------------------------------------- primitives
def parse_datetime(value: Any, field: str) -> datetime:
    """An RFC 3339 string (WB sends nanoseconds, `Z` or `+03:00`) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise ItemError(f"{field}: expected an RFC 3339 string")
    text = _FRACTION_RE.sub(r"\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ItemError(f"{field}: not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise ItemError(f"{field}: date-time without a time zone")
    return moment.astimezone(UTC)


def from_unix_ms(value: Any, field: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ItemError(f"{field}: expected Unix milliseconds")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _str(raw: Mapping[str, Any], key: str, *, required: bool = False, nullable: bool = True) -> str:
    value = raw.get(key)
    if value is None:
        if required or (key in raw and not nullable):
            raise ItemError(f"{key}: missing")
        return ""
    if not isinstance(value, str):
        raise ItemError(f"{key}: expected a string")
    return value


def _int(raw: Mapping[str, Any], key: str, *, required: bool = False) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ItemError(f"{key}: missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ItemError(f"{key}: expected an integer")
    return value


def _id(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ItemError(f"{key}: missing or not a string")
    return value


def _dict(raw: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any] | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ItemError(f"{key}: missing")
        return None
    if not isinstance(value, dict):
        raise ItemError(f"{key}: expected an object")
    return value


def get_str(raw: Mapping[str, Any], key: str) -> str:
    """A lenient read for optional, unvalidated fields: the string, or ""."""
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def get_dict(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A lenient read for optional, unvalidated fields: the object, or {}."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def parse_each(
    raws: Iterable[Any],
    parse: Callable[[Mapping[str, Any]], T],
    *,
    channel: str,
    id_keys: Iterable[str],
) -> tuple[list[T], list[MalformedItem]]:
    """Parse every item; a broken one becomes a `MalformedItem`, the others are kept."""
    items: list[T] = []
    broken: list[MalformedItem] = []
    keys = tuple(id_keys)
    for raw in raws:
        if not isinstance(raw, dict):
            broken.append(malformed(channel, raw, "item is not an object", id_keys=keys))
            continue
        try:
            items.append(parse(raw))
        except ItemError as error:
            broken.append(malformed(channel, raw, str(error), id_keys=keys))
    return items, broken


# --------------------------------------------------------------------------- reviews and questions
def _product_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    details = _dict(raw, "productDetails", required=True)
    assert details is not None
    nm_id = _int(details, "nmId", required=True)
    return {
        "product_external_id": str(nm_id),
        "product_name": _str(details, "productName"),
        "product_brand": _str(details, "brandName"),
        "product_article": _str(details, "supplierArticle"),
    }


def _product_extra(raw: Mapping[str, Any]) -> dict[str, Any]:
    details = raw.get("productDetails") or {}
    return {
        "imt_id": details.get("imtId"),
        "supplier_name": details.get("supplierName") or "",
        "size": details.get("size") or "",
    }


def _review_attachments(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    attachments: list[Mapping[str, Any]] = []
    for photo in get_list(raw, "photoLinks"):
        if not isinstance(photo, dict) or not isinstance(photo.get("fullSize"), str):
            raise ItemError("photoLinks: expected objects with fullSize")
        attachments.append(
            {"type": "photo", "url": photo["fullSize"], "preview_url": photo.get("miniSize") or ""}
        )
    video = _dict(raw, "video")
    if video is not None and isinstance(video.get("link"), str):
        attachments.append(
            {
                "type": "video",
                "url": video["link"],
                "preview_url": video.get("previewImage") or "",
                "duration_sec": video.get("durationSec"),
            }
        )
    return tuple(attachments)


def parse_review(raw: Mapping[str, Any], *, is_archived: bool = False) -> ItemData:
    review_id = _id(raw, "id")
    created_at = parse_datetime(raw.get("createdDate"), "createdDate")
    rating = _int(raw, "productValuation", required=True)
    if rating is None or not 1 <= rating <= 5:
        raise ItemError("productValuation: expected 1..5")
    answer = _dict(raw, "answer")
    answer_text = _str(answer, "text") if answer is not None else ""
    editable = answer.get("editable") if answer is not None else False
    if not isinstance(editable, bool):
        raise ItemError("answer.editable: expected a boolean")
    bables = raw.get("bables")
    return ItemData(
        channel="review",
        external_id=review_id,
        occurred_at=created_at,
        text=_str(raw, "text"),
        pros=_str(raw, "pros"),
        cons=_str(raw, "cons"),
        rating=rating,
        customer_name=_str(raw, "userName"),
        # WB links a review to an order only by the unit barcode (lastOrderShkId), not an order
        # id; that goes to `extra` rather than pretending it is one.
        order_id="",
        attachments=_review_attachments(raw),
        answer_text=answer_text,
        is_answered=answer is not None,
        answer_editable=editable,
        reply_window_ends_at=None if answer is not None else created_at + REVIEW_REPLY_WINDOW,
        extra={
            "state": raw.get("state") or "",
            "answer_state": (answer or {}).get("state") or "",
            "was_viewed": bool(raw.get("wasViewed")),
            "is_archived": is_archived,
            "matching_size": raw.get("matchingSize") or "",
            "bables": [tag for tag in bables if isinstance(tag, str)]
            if isinstance(bables, list)
            else [],
            "color": raw.get("color") or "",
            "subject_id": raw.get("subjectId"),
            "subject_name": raw.get("subjectName") or "",
            "last_order_shk_id": raw.get("lastOrderShkId"),
            "last_order_created_at": raw.get("lastOrderCreatedAt") or "",
            "parent_feedback_id": raw.get("parentFeedbackId") or "",
            "child_feedback_id": raw.get("childFeedbackId") or "",
            **_product_extra(raw),
        },
        **_product_fields(raw),
    )


def parse_question(raw: Mapping[str, Any]) -> ItemData:
    question_id = _id(raw, "id")
    created_at = parse_datetime(raw.get("createdDate"), "createdDate")
    answer = _dict(raw, "answer")
    answer_text = _str(answer, "text") if answer is not None else ""
    editable = answer.get("editable", False) if answer is not None else False
    if not isinstance(editable, bool):
        raise ItemError("answer.editable: expected a boolean")
    text = _str(raw, "text", required=True)
    return ItemData(
        channel="question",
        external_id=question_id,
        occurred_at=created_at,
        text=text,
        answer_text=answer_text,
        is_answered=answer is not None,
        answer_editable=editable,
        extra={
            "state": raw.get("state") or "",
            "was_viewed": bool(raw.get("wasViewed")),
            "is_warned": bool(raw.get("isWarned")),
            "answer_created_at": (answer or {}).get("createDate") or "",
            **_product_extra(raw),
        },
        **_product_fields(raw),
    )


# --------------------------------------------------------------------------- chat
def _message_attachments(attachments: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    result: list[Mapping[str, Any]] = []
    for image in get_list(attachments, "images"):
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            result.append(
                {
                    "type": "image",
                    "url": image["url"],
                    "download_id": image.get("downloadID") or "",
                    "date": image.get("date") or "",
                }
            )
    for file in get_list(attachments, "files"):
        if isinstance(file, dict) and isinstance(file.get("url"), str):
            result.append(
                {
                    "type": "file",
                    "url": file["url"],
                    "download_id": file.get("downloadID") or "",
                    "name": file.get("name") or "",
                    "content_type": file.get("contentType") or "",
                    "size": file.get("size"),
                }
            )
    return tuple(result)


_AUTHOR_BY_SENDER = {
    "client": ("in", "customer"),
    "seller": ("out", "seller"),
    "wb": ("in", "system"),
}


def parse_event(raw: Mapping[str, Any]) -> ChatEvent:
    event_id = _id(raw, "eventID")
    chat_id = _id(raw, "chatID")
    at = from_unix_ms(raw.get("addTimestamp"), "addTimestamp")
    sender = _str(raw, "sender")
    if sender not in _AUTHOR_BY_SENDER:
        raise ItemError("sender: expected client, seller or wb")
    message_raw = _dict(raw, "message")
    message: MessageData | None = None
    good_card: Mapping[str, Any] | None = None
    event_type = raw.get("eventType", "message")
    if message_raw is not None and event_type == "message":
        attachments = _dict(message_raw, "attachments") or {}
        good_card = _dict(attachments, "goodCard")
        direction, author_type = _AUTHOR_BY_SENDER[sender]
        message = MessageData(
            external_id=event_id,
            direction=direction,
            author_type=author_type,
            text=_str(message_raw, "text"),
            occurred_at=at,
            attachments=_message_attachments(attachments),
        )
    is_new_chat = raw.get("isNewChat") is True
    return ChatEvent(
        chat_id=chat_id,
        event_id=event_id,
        at=at,
        sender=sender,
        message=message,
        client_id=_str(raw, "clientID"),
        client_name=_str(raw, "clientName"),
        reply_sign=_str(raw, "replySign"),
        good_card=good_card,
        is_new_chat=is_new_chat,
    )


def chat_directory(raws: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    """The chat list by chatID; entries without a usable chatID are left out."""
    return {
        raw["chatID"]: raw
        for raw in raws
        if isinstance(raw, dict) and isinstance(raw.get("chatID"), str) and raw["chatID"]
    }


def _good_card_fields(card: Mapping[str, Any] | None) -> dict[str, Any]:
    if not card:
        return {}
    nm_id = card.get("nmID")
    rid = card.get("rid")
    return {
        "product_external_id": str(nm_id)
        if isinstance(nm_id, int) and not isinstance(nm_id, bool)
        else "",
        "order_id": rid if isinstance(rid, str) else "",
    }


def build_chats(
    events: list[ChatEvent], directory: Mapping[str, Mapping[str, Any]]
) -> list[ItemData]:
    """One `ItemData` per chat touched by `events`, with the messages of these events only."""
    by_chat: dict[str, list[ChatEvent]] = {}
    for event in events:
        by_chat.setdefault(event.chat_id, []).append(event)
    items: list[ItemData] = []
    for chat_id, chat_events in by_chat.items():
        chat_events.sort(key=lambda event: event.at)
        meta = directory.get(chat_id) or {}
        client_id = get_str(meta, "clientID")
        client_name = get_str(meta, "clientName")
        reply_sign = get_str(meta, "replySign")
        good_card: Mapping[str, Any] | None = get_dict(meta, "goodCard") or None
        for event in chat_events:
            client_id = client_id or event.client_id
            client_name = client_name or event.client_name
            reply_sign = reply_sign or event.reply_sign
            good_card = good_card or event.good_card
        messages = tuple(event.message for event in chat_events if event.message is not None)
        last_text = get_str(get_dict(meta, "lastMessage"), "text")
        if not last_text and messages:
            last_text = messages[-1].text
        items.append(
            ItemData(
                channel="chat",
                external_id=chat_id,
                occurred_at=chat_events[0].at,
                text=last_text,
                customer_external_id=client_id or "",
                customer_name=client_name or "",
                messages=messages,
                last_message_at=messages[-1].occurred_at if messages else None,
                extra={
                    "reply_sign": reply_sign or "",
                    "good_card": dict(good_card) if good_card else {},
                    "is_new_chat": any(event.is_new_chat for event in chat_events),
                },
                **_good_card_fields(good_card),
            )
        )
    return items


# --------------------------------------------------------------------------- product cards
def parse_card(raw: Mapping[str, Any]) -> ProductCard:
    """A Content API card (`/content/v2/get/cards/list`)."""
    nm_id = _int(raw, "nmID", required=True)
    photos = [photo for photo in get_list(raw, "photos") if isinstance(photo, dict)]
    characteristics = {
        item["name"]: item.get("value")
        for item in get_list(raw, "characteristics")
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }
    sizes = [
        {"tech_size": size.get("techSize") or "", "wb_size": size.get("wbSize") or ""}
        for size in get_list(raw, "sizes")
        if isinstance(size, dict)
    ]
    first = photos[0] if photos else {}
    return ProductCard(
        external_id=str(nm_id),
        name=_str(raw, "title"),
        brand=_str(raw, "brand"),
        article=_str(raw, "vendorCode"),
        image_url=first.get("big") or first.get("c516x688") or "",
        card_data={
            "source": "content_api",
            "imt_id": raw.get("imtID"),
            "subject_id": raw.get("subjectID"),
            "subject": raw.get("subjectName") or "",
            "description": raw.get("description") or "",
            "characteristics": characteristics,
            "photos": [photo.get("big") or "" for photo in photos],
            "sizes": sizes,
            "updated_at": raw.get("updatedAt") or "",
        },
    )


def parse_card_json(raw: Mapping[str, Any], *, nm_id: int, media_base_url: str) -> ProductCard:
    """The public storefront `card.json` (unofficial: every field is optional)."""
    if raw.get("nm_id") not in (None, nm_id):
        raise ItemError("nm_id: does not match the requested card")
    selling = get_dict(raw, "selling")
    media = get_dict(raw, "media")
    photo_count = media.get("photo_count")
    photo_count = photo_count if isinstance(photo_count, int) and photo_count > 0 else 0
    photos = [f"{media_base_url}/images/big/{index}.webp" for index in range(1, photo_count + 1)]
    characteristics = {
        option["name"]: option.get("value")
        for option in get_list(raw, "options")
        if isinstance(option, dict) and isinstance(option.get("name"), str)
    }
    return ProductCard(
        external_id=str(nm_id),
        name=get_str(raw, "imt_name"),
        brand=get_str(selling, "brand_name"),
        article=get_str(raw, "vendor_code"),
        image_url=photos[0] if photos else "",
        card_data={
            "source": "card_json",
            "imt_id": raw.get("imt_id"),
            "subject": raw.get("subj_name") or "",
            "subject_root": raw.get("subj_root_name") or "",
            "description": raw.get("description") or "",
            "characteristics": characteristics,
            "photos": photos,
            "updated_at": raw.get("update_date") or "",
        },
    )
