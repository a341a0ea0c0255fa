"""Ozon wire objects → marketplace-agnostic values, one item at a time.

Every parser raises `ItemError` when an item breaks the contract (missing id, wrong type, bad
date); the caller turns that into a `MalformedItem` and keeps the rest of the page. Unknown
fields are ignored. Large ids (sku, product_id, message_id) may come as numbers or numeric
strings (specs/README.md): both are accepted.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.parsing import ItemError, get_dict, get_list
from connectors.types import ItemData, MessageData, ProductCard

# FBO: the seller may write within 48 h of the buyer's last message (ozon-chats.md). For
# FBS/rFBS the window can be longer (72 h after delivery), but the delivery date is not in the
# chat API, so the conservative 48 h is what we can promise.
CHAT_REPLY_WINDOW = timedelta(hours=48)
ATTRIBUTE_BRAND = 85
ATTRIBUTE_ANNOTATION = 4191
# Ozon's chat participants (`user.type`) → (direction, author type).
CHAT_AUTHORS = {
    "customer": ("in", "customer"),
    "seller": ("out", "seller"),
}


def parse_datetime(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise ItemError(f"{field}: expected an RFC 3339 string")
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ItemError(f"{field}: not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # "Seller API работает по UTC"
    return moment.astimezone(UTC)


def get_int64(raw: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise ItemError(f"{key}: missing")
        return None
    if isinstance(value, bool):
        raise ItemError(f"{key}: expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ItemError(f"{key}: expected an integer")


def get_str(raw: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise ItemError(f"{key}: missing")
        return ""
    if not isinstance(value, str):
        raise ItemError(f"{key}: expected a string")
    if required and not value.strip():
        raise ItemError(f"{key}: empty")
    return value


def get_bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):  # the chat list example serialises booleans as strings
        return value == "true"
    raise ItemError(f"{key}: expected a boolean")


# --------------------------------------------------------------------------- reviews, questions
def parse_review(raw: Any) -> ItemData:
    if not isinstance(raw, dict):
        raise ItemError("review: expected an object")
    review_id = get_str(raw, "id", required=True)
    rating = get_int64(raw, "rating")
    assert rating is not None
    if not 1 <= rating <= 5:
        raise ItemError("rating: expected 1..5")
    sku = get_int64(raw, "sku")
    comments = get_int64(raw, "comments_amount", required=False) or 0
    status = get_str(raw, "status")
    return ItemData(
        channel="review",
        external_id=review_id,
        occurred_at=parse_datetime(raw.get("published_at"), "published_at"),
        text=get_str(raw, "text"),
        rating=rating,
        product_external_id=str(sku),
        # The seller's comment is not in the list (comment/list, read_answer); a comment
        # there means the review was answered (the list counts them).
        is_answered=comments > 0,
        answer_editable=comments > 0,
        extra={
            "status": status,
            "order_status": get_str(raw, "order_status"),
            "comments_amount": comments,
            "photos_amount": get_int64(raw, "photos_amount", required=False) or 0,
            "videos_amount": get_int64(raw, "videos_amount", required=False) or 0,
            "is_rating_participant": get_bool(raw, "is_rating_participant"),
        },
    )


def parse_question(raw: Any) -> ItemData:
    if not isinstance(raw, dict):
        raise ItemError("question: expected an object")
    question_id = get_str(raw, "id", required=True)
    sku = get_int64(raw, "sku")
    answers = get_int64(raw, "answers_count", required=False) or 0
    return ItemData(
        channel="question",
        external_id=question_id,
        occurred_at=parse_datetime(raw.get("published_at"), "published_at"),
        text=get_str(raw, "text"),
        product_external_id=str(sku),
        customer_name=get_str(raw, "author_name"),
        is_answered=answers > 0,
        answer_editable=answers > 0,
        extra={
            "status": get_str(raw, "status"),
            "answers_count": answers,
            "product_url": get_str(raw, "product_url"),
            "question_link": get_str(raw, "question_link"),
        },
    )


# --------------------------------------------------------------------------- chats
def parse_chat_summary(raw: Any) -> tuple[str, str, str, datetime, int]:
    """(chat_id, chat_type, chat_status, created_at, last_message_id) of a `/v3/chat/list` entry."""
    if not isinstance(raw, dict):
        raise ItemError("chat: expected an object")
    chat = raw.get("chat")
    if not isinstance(chat, dict):
        raise ItemError("chat: missing")
    chat_id = get_str(chat, "chat_id", required=True)
    last_message_id = get_int64(raw, "last_message_id", required=False) or 0
    return (
        chat_id,
        get_str(chat, "chat_type").upper(),
        get_str(chat, "chat_status").upper(),
        parse_datetime(chat.get("created_at"), "chat.created_at"),
        last_message_id,
    )


def parse_chat_message(raw: Any) -> tuple[int, MessageData, Mapping[str, Any], str]:
    """(message_id, message, context, user id) of a `/v3/chat/history` message."""
    if not isinstance(raw, dict):
        raise ItemError("message: expected an object")
    message_id = get_int64(raw, "message_id")
    assert message_id is not None
    user = get_dict(raw, "user")
    user_type = get_str(user, "type")
    direction, author = CHAT_AUTHORS.get(user_type.lower(), ("in", "system"))
    parts = [part for part in get_list(raw, "data") if isinstance(part, str)]
    attachments: tuple[Mapping[str, Any], ...] = ()
    if get_bool(raw, "is_image"):
        attachments = ({"type": "image", "moderation": get_str(raw, "moderate_image_status")},)
    message = MessageData(
        external_id=str(message_id),
        direction=direction,
        author_type=author,
        text="\n".join(parts),
        occurred_at=parse_datetime(raw.get("created_at"), "created_at"),
        attachments=attachments,
    )
    return message_id, message, get_dict(raw, "context"), get_str(user, "id")


def chat_item(
    chat_id: str,
    created_at: datetime,
    messages: list[tuple[int, MessageData, Mapping[str, Any], str]],
    *,
    chat_type: str,
    chat_status: str,
) -> ItemData:
    """A chat with its messages (oldest first) as one item."""
    ordered = sorted(messages, key=lambda m: m[0])
    order_number = sku = customer_id = ""
    last_customer_at: datetime | None = None
    for _message_id, message, context, user_id in ordered:
        order_number = str(context.get("order_number") or order_number)
        sku = str(context.get("sku") or sku)
        if message.direction == "in" and message.author_type == "customer":
            customer_id = user_id or customer_id
            last_customer_at = message.occurred_at
    items = tuple(m[1] for m in ordered)
    return ItemData(
        channel="chat",
        external_id=chat_id,
        occurred_at=created_at,
        text=next((m.text for m in items if m.direction == "in"), ""),
        product_external_id=sku,
        customer_external_id=customer_id,
        order_id=order_number,
        messages=items,
        last_message_at=items[-1].occurred_at if items else None,
        reply_window_ends_at=(
            last_customer_at + CHAT_REPLY_WINDOW if last_customer_at is not None else None
        ),
        extra={"chat_type": chat_type, "chat_status": chat_status},
    )


# --------------------------------------------------------------------------- products
def _image_url(value: Any) -> str:
    """An image is a URL string (info/list) or `{file_name, default, index}` (attributes, per
    the official schema)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("file_name"), str):
        return value["file_name"]
    return ""


def parse_product(info: Any, attributes: Mapping[str, Any] | None) -> ProductCard:
    if not isinstance(info, dict):
        raise ItemError("product: expected an object")
    sku = get_int64(info, "sku")
    name = get_str(info, "name")
    primary = [_image_url(v) for v in get_list(info, "primary_image")]
    images = [_image_url(v) for v in get_list(info, "images")]
    image = next((url for url in primary + images if url), "")
    brand = description = ""
    values: dict[str, list[str]] = {}
    for attribute in (attributes or {}).get("attributes") or []:
        if not isinstance(attribute, dict):
            continue
        texts = [
            str(v.get("value"))
            for v in attribute.get("values") or []
            if isinstance(v, dict) and v.get("value") not in (None, "")
        ]
        values[str(attribute.get("id"))] = texts
        if attribute.get("id") == ATTRIBUTE_BRAND and texts:
            brand = texts[0]
        if attribute.get("id") == ATTRIBUTE_ANNOTATION and texts:
            description = texts[0]
    return ProductCard(
        external_id=str(sku),
        name=name,
        brand=brand,
        article=get_str(info, "offer_id"),
        image_url=image,
        card_data={
            "product_id": get_int64(info, "id", required=False),
            "sku": sku,
            "offer_id": get_str(info, "offer_id"),
            "description": description,
            "description_category_id": info.get("description_category_id"),
            "type_id": info.get("type_id"),
            "images": [url for url in images if url],
            "attributes": values,
            "price": get_str(info, "price"),
            "updated_at": get_str(info, "updated_at"),
        },
    )
