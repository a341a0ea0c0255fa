"""Auto-replies: which rule answers an item, with what text, and publishing (or shadowing) it.

Every real auto-reply goes through `queue_reply` (so guardrails and exactly-once publishing
apply) with `publish_after = now + rule.publish_delay_minutes`, so a person can stop it with
`cancel_auto_reply` until it is sent. A rule in shadow mode only records what it would have
published. Low ratings (3★ and below) and negative sentiment are never answered unless the rule
says so explicitly (`allow_low_ratings`, "negative" in `sentiments`); a review that mainly asks
something never is, and a template answers only what needs no response (plain praise, "bought as a
gift"), since it cannot address a stated shortcoming or a question.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agentiq.errors import DomainError
from agentiq.redis import get_redis
from inbox.models import (
    LIVE_OR_DRY_RUN_STATUSES,
    AutoReplyRule,
    Channel,
    Intent,
    Interaction,
    InteractionEvent,
    Message,
    Priority,
    Sentiment,
    User,
)
from inbox.services.replies import queue_reply
from intelligence.analysis import analyze_text
from intelligence.exceptions import AutoReplyAlreadySent
from intelligence.rules import replies
from intelligence.services import (
    SIMILARITY_THRESHOLD,
    build_input,
    customer_name_of,
    guardrail_verdict,
    max_similarity,
    recent_replies,
)

logger = logging.getLogger(__name__)

LOW_RATING_MAX = 3
CACHE_SIZE = 20
LOCK_SECONDS = 60
_PLACEHOLDER_RE = re.compile(r"\{(name|product)\}")
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")
_GREETING_RE = re.compile(r"^[^.!?]{0,40}\b(здравствуйте|добрый день|приветствуем)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReplyChoice:
    """The chosen auto-reply text and how it was found."""

    text: str
    source: str  # "template", "draft", "cache" or "variant"
    similarity: float
    repetition_warning: bool


@dataclass(frozen=True, slots=True)
class ShadowSummary:
    """What a shadow-mode rule would have published, for the settings page."""

    total: int
    by_rating: Mapping[int, int]
    by_channel: Mapping[str, int]
    samples: tuple[str, ...]


# --- matching ---------------------------------------------------------------------------------


def _has_text(interaction: Interaction) -> bool:
    return any(part.strip() for part in (interaction.text, interaction.pros, interaction.cons))


def _defers_the_answer(text: str) -> bool:
    """A question's draft that answers nothing yet ("Уточним детали и дополним ответ здесь
    же"): a person answers it, once they know."""
    return any(sentence in text for sentence in replies.DEFERRING)


def rule_matches(rule: AutoReplyRule, interaction: Interaction) -> bool:
    """Does this rule cover the item? Includes the low-rating / negative-sentiment guard."""
    if not rule.is_enabled or rule.workspace_id != interaction.workspace_id:
        return False
    if rule.marketplace and rule.marketplace != interaction.marketplace:
        return False
    if rule.channel != interaction.channel:
        return False
    rating = interaction.rating
    if rating is not None:
        if not rule.rating_min <= rating <= rule.rating_max:
            return False
        if rating <= LOW_RATING_MAX and not rule.allow_low_ratings:
            return False
    elif interaction.channel == Channel.REVIEW:
        return False
    if rule.product_id and rule.product_id != interaction.product_id:
        return False
    if rule.brand:
        brand = interaction.product.brand if interaction.product else ""
        if brand.casefold().strip() != rule.brand.casefold().strip():
            return False
    has_text = _has_text(interaction)
    if rule.text_presence == AutoReplyRule.TextPresence.WITH_TEXT and not has_text:
        return False
    if rule.text_presence == AutoReplyRule.TextPresence.WITHOUT_TEXT and has_text:
        return False
    allowed = set(rule.sentiments or [Sentiment.POSITIVE, Sentiment.NEUTRAL])
    if not interaction.sentiment or interaction.sentiment not in allowed:
        return False
    if interaction.channel == Channel.REVIEW and interaction.intent == Intent.PRODUCT_QUESTION:
        return False  # a review that mainly asks something needs a person's answer
    if interaction.priority == Priority.URGENT:
        return False  # harm to health, a hazard, legal action: a person answers, whatever rule
    if interaction.channel == Channel.QUESTION and _defers_the_answer(interaction.draft):
        return False  # "we'll find out and answer here" is no answer to publish unattended
    # A fixed text would pass over the shortcoming or question the analysis found; the AI
    # draft answers it.
    return not (rule.source == AutoReplyRule.Source.TEMPLATE and interaction.needs_response)


def matching_rule(interaction: Interaction) -> AutoReplyRule | None:
    """The first enabled rule (by `priority_order`) that covers the item."""
    rules = (
        AutoReplyRule.objects.for_workspace(interaction.workspace)
        .filter(is_enabled=True, channel=interaction.channel)
        .select_related("template")
        .order_by("priority_order", "id")
    )
    return next((rule for rule in rules if rule_matches(rule, interaction)), None)


# --- composing --------------------------------------------------------------------------------


def fill_placeholders(text: str, *, name: str, product: str) -> str:
    """Fill `{name}` and `{product}`; an empty name leaves no stray comma ("Здравствуйте!")."""
    values = {"name": name.strip(), "product": product.strip()}
    filled = _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], text)
    filled = re.sub(r"\s*,\s*([!.?])", r"\1", filled)
    filled = re.sub(r"^\s*,\s*", "", filled)
    filled = re.sub(r"([!.?])\s*,\s*", r"\1 ", filled)
    filled = re.sub(r"\s+«»", "", filled)
    return re.sub(r"[ \t]{2,}", " ", filled).strip()


def _pick(options: Sequence[str], seed: str, avoid: str = "") -> str:
    pool = [o for o in options if o != avoid] or list(options)
    return pool[zlib.crc32(seed.encode()) % len(pool)]


def vary(text: str, *, name: str, seed: str) -> str:
    """Swap the greeting and the closing phrase for other variants, addressing `name`."""
    sentences = _SENTENCE_RE.split(text.strip())
    if not sentences or not sentences[0]:
        return text
    if _GREETING_RE.match(sentences[0]):
        options = replies.GREETING_NAMED if name else replies.GREETING_ANONYMOUS
        sentences[0] = _pick(options, seed + ":g", avoid=sentences[0]).format(name=name)
    for index in range(len(sentences) - 1, 0, -1):
        if sentences[index] in replies.CLOSING_POSITIVE:
            sentences[index] = _pick(replies.CLOSING_POSITIVE, seed + ":c", avoid=sentences[index])
            break
    return " ".join(sentences)


def cached_replies(interaction: Interaction, *, limit: int = CACHE_SIZE) -> list[str]:
    """Confirmed answers to other reviews of the same product that were plain praise: the
    response cache (an answer that addressed someone's remark fits no one else)."""
    # `product_id=None` in a filter means "no product" (IS NULL); spelled out for the types.
    same_product = (
        Q(interaction__product_id__isnull=True)
        if interaction.product_id is None
        else Q(interaction__product_id=interaction.product_id)
    )
    return list(
        Message.objects.for_workspace(interaction.workspace)
        .filter(
            same_product,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.DeliveryStatus.CONFIRMED,
            interaction__channel=Channel.REVIEW,
            interaction__sentiment=Sentiment.POSITIVE,
            interaction__intent=Intent.PRAISE,
            interaction__ai_analysis__needs_response=False,
            interaction__rating__gte=4,
        )
        .exclude(interaction_id=interaction.pk)
        .order_by("-id")
        .values_list("text", flat=True)[:limit]
    )


def _is_plain_praise(interaction: Interaction) -> bool:
    return (
        interaction.channel == Channel.REVIEW
        and interaction.sentiment == Sentiment.POSITIVE
        and interaction.intent == Intent.PRAISE
        and not interaction.needs_response
        and (interaction.rating or 0) >= 4
    )


def _candidates(interaction: Interaction, rule: AutoReplyRule) -> Iterator[tuple[str, str]]:
    name = customer_name_of(interaction)
    product = interaction.product.name if interaction.product else ""
    seed = str(interaction.pk)
    if rule.source == AutoReplyRule.Source.TEMPLATE and rule.template is not None:
        base = fill_placeholders(rule.template.text, name=name, product=product)
        yield "template", base
        for n in range(1, 6):
            yield "template", vary(base, name=name, seed=f"{seed}:{n}")
        return
    if interaction.draft:
        yield "draft", interaction.draft
    if _is_plain_praise(interaction):
        for n, cached in enumerate(cached_replies(interaction)):
            yield "cache", vary(cached, name=name, seed=f"{seed}:cache:{n}")
    for n in range(1, 6):
        yield "variant", analyze_text(build_input(interaction, seed=f"{seed}:auto{n}")).draft


def choose_reply(interaction: Interaction, rule: AutoReplyRule) -> ReplyChoice | None:
    """The first candidate that passes guardrails and is not a near-copy of a recent reply.

    When every candidate repeats a recent reply, the least similar one is returned with
    `repetition_warning` set. None when no candidate passes the guardrails.
    """
    recent = recent_replies(interaction)
    fallback: ReplyChoice | None = None
    seen: set[str] = set()
    for source, text in _candidates(interaction, rule):
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        verdict = guardrail_verdict(interaction, text)
        if verdict.verdict == "block" or (source == "cache" and verdict.verdict != "ok"):
            continue
        score, _ = max_similarity(text, recent)
        if score < SIMILARITY_THRESHOLD:
            return ReplyChoice(text, source, score, False)
        if fallback is None or score < fallback.similarity:
            fallback = ReplyChoice(text, source, score, True)
    return fallback


# --- acting -----------------------------------------------------------------------------------


def _event(interaction: Interaction, payload: dict[str, object]) -> InteractionEvent:
    return InteractionEvent.objects.create(
        workspace_id=interaction.workspace_id,
        interaction=interaction,
        account_id=interaction.account_id,
        kind=InteractionEvent.Kind.AUTO_REPLY,
        payload=payload,
    )


def _already_handled(interaction: Interaction, rule: AutoReplyRule) -> bool:
    events = InteractionEvent.objects.for_workspace(interaction.workspace).filter(
        interaction=interaction, kind=InteractionEvent.Kind.AUTO_REPLY
    )
    if rule.mode == AutoReplyRule.Mode.SHADOW:
        return events.filter(payload__shadow=True, payload__rule_id=rule.pk).exists()
    if events.exclude(payload__shadow=True).exists():
        return True
    return (
        Message.objects.for_workspace(interaction.workspace)
        .filter(
            interaction=interaction,
            direction=Message.Direction.OUTBOUND,
            delivery_status__in=LIVE_OR_DRY_RUN_STATUSES,
        )
        .exists()
    )


def _is_answerable(interaction: Interaction) -> bool:
    return (
        interaction.analyzed_at is not None
        and not interaction.is_answered
        and interaction.first_response_at is None
        and interaction.status != Interaction.Status.CLOSED
    )


def evaluate_auto_reply(
    interaction: Interaction, *, now: datetime | None = None
) -> InteractionEvent | None:
    """Answer the item automatically if a rule covers it; returns the `auto_reply` event.

    Publish mode: queues the reply through `queue_reply` (guardrails, exactly-once) with the
    rule's delay and records an `auto_reply` event; a guardrail block is recorded instead.
    Shadow mode: records the text it would have published, publishes nothing. Idempotent: an
    item is auto-answered at most once (and shadowed at most once per rule), also when two
    workers evaluate it at the same time.
    """
    now = now or timezone.now()
    if not _is_answerable(interaction):
        return None
    rule = matching_rule(interaction)
    if rule is None:
        return None
    redis = get_redis()
    lock = f"autoreply:lock:{interaction.pk}"
    if not redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        return None
    try:
        if _already_handled(interaction, rule):
            return None
        choice = choose_reply(interaction, rule)
        if choice is None:
            return _record_skip(interaction, rule, reason="guardrail_blocked")
        if rule.mode == AutoReplyRule.Mode.SHADOW:
            return _event(
                interaction,
                {
                    "shadow": True,
                    "rule_id": rule.pk,
                    "text": choice.text,
                    "source": choice.source,
                    "similarity": round(choice.similarity, 3),
                    "repetition_warning": choice.repetition_warning,
                },
            )
        return _publish(interaction, rule, choice, now=now)
    finally:
        redis.delete(lock)


def _record_skip(interaction: Interaction, rule: AutoReplyRule, *, reason: str) -> InteractionEvent:
    logger.info(
        "Auto-reply skipped",
        extra={"interaction_id": interaction.pk, "rule_id": rule.pk, "reason": reason},
    )
    return _event(
        interaction,
        {"shadow": rule.mode == AutoReplyRule.Mode.SHADOW, "rule_id": rule.pk, "skipped": reason},
    )


def _publish(
    interaction: Interaction, rule: AutoReplyRule, choice: ReplyChoice, *, now: datetime
) -> InteractionEvent:
    publish_after = now + timedelta(minutes=rule.publish_delay_minutes)
    try:
        with transaction.atomic():
            message = queue_reply(
                interaction,
                text=choice.text,
                actor=None,
                author_type=Message.AuthorType.AI,
                publish_after=publish_after,
            )
            event = _event(
                interaction,
                {
                    "shadow": False,
                    "rule_id": rule.pk,
                    "message_id": message.pk,
                    "text": choice.text,
                    "source": choice.source,
                    "publish_after": publish_after.isoformat(),
                    "similarity": round(choice.similarity, 3),
                    "repetition_warning": choice.repetition_warning,
                },
            )
    except DomainError as error:
        # Guardrail block, already answered, window closed …: nothing was queued.
        return _record_skip(interaction, rule, reason=error.code)
    logger.info(
        "Auto-reply queued",
        extra={
            "workspace_id": interaction.workspace_id,
            "interaction_id": interaction.pk,
            "rule_id": rule.pk,
            "message_id": message.pk,
            "delay_minutes": rule.publish_delay_minutes,
        },
    )
    return event


def cancel_auto_reply(message: Message, *, actor: User | None) -> Message:
    """Stop a queued auto-reply before it is sent (the message becomes `cancelled`).

    Raises `AutoReplyAlreadySent` once the outbox has started sending it.
    """
    with transaction.atomic():
        locked = (
            Message.objects.for_workspace(message.workspace)
            .select_for_update()
            .select_related("interaction")
            .get(pk=message.pk)
        )
        if locked.delivery_status == Message.DeliveryStatus.CANCELLED:
            return locked
        # `publish_message` only claims `queued` messages, so a cancelled one is never sent.
        if locked.delivery_status not in (
            Message.DeliveryStatus.SCHEDULED,
            Message.DeliveryStatus.QUEUED,
            Message.DeliveryStatus.DRAFT,
        ):
            raise AutoReplyAlreadySent
        locked.delivery_status = Message.DeliveryStatus.CANCELLED
        locked.save(update_fields=["delivery_status", "updated_at"])
        InteractionEvent.objects.create(
            workspace_id=locked.workspace_id,
            interaction=locked.interaction,
            account_id=locked.interaction.account_id,
            kind=InteractionEvent.Kind.AUTO_REPLY,
            actor=actor,
            payload={"cancelled": True, "message_id": locked.pk},
        )
    return locked


# --- shadow mode report -----------------------------------------------------------------------


def shadow_summary(rule: AutoReplyRule, *, samples: int = 5) -> ShadowSummary:
    """Counts by rating and channel of what the rule would have published, and sample texts."""
    rows = list(
        InteractionEvent.objects.for_workspace(rule.workspace)
        .filter(
            kind=InteractionEvent.Kind.AUTO_REPLY,
            payload__shadow=True,
            payload__rule_id=rule.pk,
            payload__has_key="text",
        )
        .order_by("-created_at", "-id")
        .values_list("interaction__rating", "interaction__channel", "payload__text")
    )
    by_rating = Counter(rating for rating, _, _ in rows if rating is not None)
    by_channel = Counter(channel for _, channel, _ in rows if channel)
    return ShadowSummary(
        total=len(rows),
        by_rating=MappingProxyType(dict(sorted(by_rating.items()))),
        by_channel=MappingProxyType(dict(sorted(by_channel.items()))),
        samples=tuple(text for _, _, text in rows[:samples]),
    )
