"""AI analysis of interactions: one entry point, `analyze`, whatever the engine.

The engine follows `settings.LLM_ENGINE`: "rules" (offline, the default) or "llm" (with the
rules engine as fallback and at most `LLM_MAX_PER_SYNC` LLM analyses per account per sync
cycle; the rest get the rules engine now and are upgraded by `analyze_pending` later).
The HTTP call happens outside any transaction; the result is saved under a row lock together
with its `analyzed` event and, when the priority moved, a recomputed SLA deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from agentiq.redis import get_redis
from inbox.models import (
    LIVE_OR_DRY_RUN_STATUSES,
    LIVE_REPLY_STATUSES,
    Channel,
    Interaction,
    InteractionEvent,
    Membership,
    Message,
    Notification,
    Priority,
    User,
)
from inbox.services.interactions import change_status
from inbox.services.sla import refresh_sla_deadlines
from intelligence import llm
from intelligence.analysis import Analysis, AnalysisInput, analyze_text, greeting_name
from intelligence.guardrails import Finding, Severity, Verdict, check_reply, similarity

logger = logging.getLogger(__name__)

# Above this a draft reads as a copy of a recent reply (word-bigram Jaccard).
SIMILARITY_THRESHOLD = 0.7
RECENT_REPLIES = 30
CHAT_INBOUND_MESSAGES = 5
# Messages read to find the buyer's latest ones and the seller's reply before them.
CHAT_MESSAGES = 12
RULES_VARIANTS = 6
# An item whose LLM analysis failed this many times stays with the rules engine.
MAX_LLM_ATTEMPTS = 3
LOCK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `analyze` decided; `awaiting_llm` means a later upgrade to the LLM is due."""

    analysis: Analysis
    fallback_reason: str
    awaiting_llm: bool
    llm_attempts: int
    similarity: float


# --- input ------------------------------------------------------------------------------------


def customer_name_of(interaction: Interaction) -> str:
    """The name a reply greets the buyer by ("" when the marketplace gave none)."""
    name = interaction.customer_name
    if not name and interaction.customer is not None:
        name = interaction.customer.display_name
    return greeting_name(name)


def build_input(interaction: Interaction, *, seed: str = "") -> AnalysisInput:
    """The analyser's view of an interaction (chats: the latest inbound messages)."""
    product = interaction.product
    card: dict[str, Any] = {}
    product_name = ""
    if product is not None:
        product_name = product.name
        card = dict(product.card_data or {})
        if product.brand and not card.get("brand"):
            card["brand"] = product.brand
    text, follow_up, last_reply = interaction.text, "", ""
    if interaction.channel == Channel.CHAT:
        text, follow_up, last_reply = _chat_turns(interaction)
    return AnalysisInput(
        channel=interaction.channel,
        marketplace=interaction.marketplace,
        text=text,
        rating=interaction.rating,
        pros=interaction.pros,
        cons=interaction.cons,
        customer_name=customer_name_of(interaction),
        product_name=product_name,
        product_card=MappingProxyType(card),
        seed=seed or f"{interaction.pk}",
        follow_up=follow_up,
        last_reply=last_reply,
    )


def _chat_turns(interaction: Interaction) -> tuple[str, str, str]:
    """A chat's latest buyer messages, those of them written after the seller's last reply
    (empty if the seller has not replied), and that reply."""
    latest = list(
        interaction.messages.filter(
            Q(direction=Message.Direction.INBOUND)
            | Q(direction=Message.Direction.OUTBOUND, delivery_status__in=LIVE_OR_DRY_RUN_STATUSES)
        )
        .order_by("-occurred_at", "-id")
        .values_list("direction", "text")[:CHAT_MESSAGES]
    )
    inbound = [t for d, t in latest if d == Message.Direction.INBOUND and t]
    text = "\n".join(reversed(inbound[:CHAT_INBOUND_MESSAGES])) or interaction.text
    replied = next((i for i, (d, _t) in enumerate(latest) if d == Message.Direction.OUTBOUND), None)
    if replied is None:
        return text, "", ""
    since = [t for d, t in latest[:replied] if t]
    return text, "\n".join(reversed(since)), latest[replied][1]


def recent_replies(interaction: Interaction, *, limit: int = RECENT_REPLIES) -> list[str]:
    """The account's latest outbound replies to other items, public answers (reviews,
    questions) or chat messages like `interaction` (for repetition checks)."""
    if interaction.channel == Channel.CHAT:
        alike = Q(interaction__channel=Channel.CHAT)
    else:
        alike = ~Q(interaction__channel=Channel.CHAT)
    return list(
        Message.objects.for_workspace(interaction.workspace)
        .filter(
            alike,
            interaction__account_id=interaction.account_id,
            direction=Message.Direction.OUTBOUND,
            delivery_status__in=LIVE_REPLY_STATUSES,
        )
        .exclude(interaction_id=interaction.pk)
        .order_by("-id")
        .values_list("text", flat=True)[:limit]
    )


def max_similarity(text: str, others: Sequence[str]) -> tuple[float, str]:
    """The highest similarity of `text` to any of `others`, and that text."""
    best, closest = 0.0, ""
    for other in others:
        value = similarity(text, other)
        if value > best:
            best, closest = value, other
    return best, closest


def guardrail_verdict(interaction: Interaction, text: str) -> Verdict:
    """The guardrail verdict for a reply to `interaction` (its marketplace, channel and the
    workspace's stop words)."""
    return check_reply(
        text,
        marketplace=interaction.marketplace,
        channel=interaction.channel,
        stop_words=tuple(interaction.workspace.stop_words or ()),
    )


def check_outgoing_guardrails(interaction: Interaction, text: str) -> Verdict:
    """Guardrails for one outgoing reply, plus a `repetition` warning for near-copies.

    The repetition finding compares a public answer (review, question) with the account's
    recent public answers to other items, which marketplaces judge (Ozon limits sellers who
    post repetitive answers); it never blocks. A private chat message is not compared: a
    standard "Заказ передан в доставку" to many buyers is fine. Warnings are logged here
    (categories only, never the text).
    """
    verdict = guardrail_verdict(interaction, text)
    score = 0.0
    if interaction.channel != Channel.CHAT:
        score, _closest = max_similarity(text, recent_replies(interaction))
    if score >= SIMILARITY_THRESHOLD:
        repetition = Finding(
            category="repetition",
            severity=Severity.WARN.value,
            span=(0, len(text)),
            matched="",
            explanation=gettext("This reply is almost the same as a recent reply to another item."),
            suggestion=gettext("Rephrase it so that each customer gets a personal answer."),
        )
        worst = verdict.verdict if verdict.verdict != Severity.OK else Severity.WARN.value
        verdict = Verdict(verdict=worst, findings=(*verdict.findings, repetition))
    if verdict.verdict == Severity.WARN:
        logger.info(
            "Reply passed guardrails with warnings",
            extra={
                "workspace_id": interaction.workspace_id,
                "interaction_id": interaction.pk,
                "categories": sorted({f.category for f in verdict.findings}),
                "similarity": round(score, 3),
            },
        )
    return verdict


# --- engine choice ----------------------------------------------------------------------------


def take_llm_slot(account_id: int) -> bool:
    """Count one LLM analysis against the account's budget for this sync cycle."""
    key = f"llm:cap:{account_id}"
    ttl = settings.LLM_SYNC_CYCLE_SECONDS
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, ttl, nx=True)
    count, _ = pipe.execute()
    return int(count) <= settings.LLM_MAX_PER_SYNC


def _rules_variant(inp: AnalysisInput, others: Sequence[str]) -> tuple[Analysis, float]:
    """The rules analysis whose draft is least like the recent replies (varying the seed)."""
    best = analyze_text(inp)
    best_score, _ = max_similarity(best.draft, others)
    for n in range(1, RULES_VARIANTS):
        if best_score < SIMILARITY_THRESHOLD:
            break
        candidate = analyze_text(replace(inp, seed=f"{inp.seed}:v{n}"))
        score, _ = max_similarity(candidate.draft, others)
        if score < best_score:
            best, best_score = candidate, score
    return best, best_score


def engine_status() -> str:
    """Who writes the drafts now, for the seller: "rules" (no LLM configured), "llm", or
    "llm_down" (configured, but its circuit breaker has given the drafts to the rules)."""
    if settings.LLM_ENGINE != llm.ENGINE:
        return "rules"
    return "llm" if llm.breaker().state() == llm.BreakerState.CLOSED else "llm_down"


def compute(
    interaction: Interaction, *, engine: str | None = None, upgrade_only: bool = False
) -> Outcome | None:
    """Run the analyser (may call the LLM over HTTP: never inside a transaction).

    With `upgrade_only`, returns None instead of a rules result when no LLM slot is free.
    """
    engine = engine or settings.LLM_ENGINE
    inp = build_input(interaction)
    others = recent_replies(interaction)
    attempts = int((interaction.ai_analysis or {}).get("llm_attempts", 0))
    if engine != llm.ENGINE:
        analysis, score = _rules_variant(inp, others)
        return Outcome(analysis, "", False, attempts, score)
    if upgrade_only and llm.breaker().state() == llm.BreakerState.OPEN:
        return None
    if not take_llm_slot(interaction.account_id):
        if upgrade_only:
            return None
        analysis, score = _rules_variant(inp, others)
        return Outcome(analysis, "llm_cap", True, attempts, score)
    result = llm.analyze_with_fallback(
        inp, workspace=interaction.workspace, account_id=interaction.account_id
    )
    attempts += 1
    if result.fallback_reason:
        if upgrade_only:
            return None
        analysis, score = _rules_variant(inp, others)
        awaiting = attempts < MAX_LLM_ATTEMPTS
        return Outcome(analysis, result.fallback_reason, awaiting, attempts, score)
    analysis = result.analysis
    score, closest = max_similarity(analysis.draft, others)
    if score >= SIMILARITY_THRESHOLD:
        retry = llm.analyze_with_fallback(
            replace(inp, seed=f"{inp.seed}:v1"),
            workspace=interaction.workspace,
            avoid=closest,
            account_id=interaction.account_id,
        )
        if not retry.fallback_reason:
            retry_score, _ = max_similarity(retry.analysis.draft, others)
            if retry_score < score:
                analysis, score = retry.analysis, retry_score
    if guardrail_verdict(interaction, analysis.draft).is_blocked:
        # The model wrote what may not be published (a promise, a link…): the seller gets the
        # rules' draft, which the guardrails pass, beside the model's reading of the item.
        rules, score = _rules_variant(inp, others)
        analysis = replace(analysis, draft=rules.draft)
        logger.warning(
            "LLM draft blocked by guardrails; the rules draft is used",
            extra={"workspace_id": interaction.workspace_id, "interaction_id": interaction.pk},
        )
    return Outcome(analysis, "", False, attempts, score)


# --- saving -----------------------------------------------------------------------------------


def save_analysis(
    interaction: Interaction, outcome: Outcome, *, now: datetime | None = None
) -> Interaction:
    """Store an analysis with its `analyzed` event; refresh the SLA deadline on a new priority.

    Keeps a draft a person has edited since the last analysis, and never replaces an LLM
    analysis with a rules one written concurrently.
    """
    now = now or timezone.now()
    analysis = outcome.analysis
    with transaction.atomic():
        locked = (
            Interaction.objects.for_workspace(interaction.workspace)
            .select_for_update()
            .get(pk=interaction.pk)
        )
        previous = locked.ai_analysis or {}
        if (
            previous.get("engine") == llm.ENGINE
            and analysis.engine != llm.ENGINE
            and locked.analyzed_at is not None
            and locked.analyzed_at >= locked.last_message_at
        ):
            return locked
        data = analysis.to_dict()
        data.update(
            fallback_reason=outcome.fallback_reason,
            awaiting_llm=outcome.awaiting_llm,
            llm_attempts=outcome.llm_attempts,
            similarity=round(outcome.similarity, 3),
        )
        previous_priority = locked.priority
        draft_edited = bool(locked.draft) and locked.draft != previous.get("draft", "")
        locked.sentiment = analysis.sentiment
        locked.intent = analysis.intent
        locked.priority = analysis.priority
        # What the text asks for; nothing is needed once the item is answered (a chat whose
        # seller wrote last).
        locked.needs_response = analysis.needs_response and not locked.is_answered
        locked.ai_analysis = data
        locked.analyzed_at = now
        if not draft_edited:
            locked.draft = analysis.draft
        locked.save(
            update_fields=[
                "sentiment",
                "intent",
                "priority",
                "needs_response",
                "ai_analysis",
                "analyzed_at",
                "draft",
                "updated_at",
            ]
        )
        InteractionEvent.objects.create(
            workspace_id=locked.workspace_id,
            interaction=locked,
            account_id=locked.account_id,
            kind=InteractionEvent.Kind.ANALYZED,
            payload={
                "engine": analysis.engine,
                "sentiment": analysis.sentiment,
                "intent": analysis.intent,
                "priority": analysis.priority,
                "previous_priority": previous_priority,
                "fallback_reason": outcome.fallback_reason,
            },
        )
        if previous_priority != analysis.priority or locked.sla_deadline_at is None:
            refresh_sla_deadlines([locked.pk])
            locked.refresh_from_db(fields=["sla_deadline_at"])
    return locked


@contextmanager
def interaction_lock(interaction_id: int, *, name: str = "analyze") -> Iterator[bool]:
    """A Redis lock so two workers never analyse the same item at once; yields if acquired."""
    redis = get_redis()
    key = f"{name}:lock:{interaction_id}"
    acquired = bool(redis.set(key, "1", nx=True, ex=LOCK_SECONDS))
    try:
        yield acquired
    finally:
        if acquired:
            redis.delete(key)


def analyze(
    interaction: Interaction,
    *,
    engine: str | None = None,
    upgrade_only: bool = False,
    now: datetime | None = None,
) -> Interaction | None:
    """Analyse one interaction and save the result (the one interface for every caller).

    Side effects: may call the LLM (outside any transaction), records LLM usage, writes an
    `analyzed` event and may move `sla_deadline_at`. Returns the updated interaction, or None
    when `upgrade_only` found no LLM capacity (nothing is written then).
    """
    outcome = compute(interaction, engine=engine, upgrade_only=upgrade_only)
    if outcome is None:
        return None
    saved = save_analysis(interaction, outcome, now=now)
    logger.info(
        "Interaction analysed",
        extra={
            "workspace_id": interaction.workspace_id,
            "account_id": interaction.account_id,
            "interaction_id": interaction.pk,
            "channel": interaction.channel,
            "engine": outcome.analysis.engine,
            "fallback_reason": outcome.fallback_reason,
        },
    )
    return saved


def is_stale(interaction: Interaction) -> bool:
    """Never analysed, or a newer message arrived since (chats)."""
    return interaction.analyzed_at is None or interaction.analyzed_at < interaction.last_message_at


def _with_relations() -> Any:
    return Interaction.objects.select_related("workspace", "product", "customer", "account")


def analyze_new(interaction_ids: Sequence[int]) -> list[Interaction]:
    """Analyse freshly ingested items that need it; returns those analysed by this call."""
    done: list[Interaction] = []
    # Cross-tenant by design: the ids come from the sync pipeline; each row keeps its workspace.
    for interaction in _with_relations().filter(pk__in=list(interaction_ids)).order_by("pk"):
        if not is_stale(interaction):
            continue
        with interaction_lock(interaction.pk) as acquired:
            if not acquired:
                continue
            interaction.refresh_from_db(fields=["analyzed_at", "ai_analysis", "draft"])
            if not is_stale(interaction):
                continue
            saved = analyze(interaction)
            if saved is not None:
                done.append(saved)
    return done


def _has_live_reply() -> Exists:
    return Exists(
        Message.objects.filter(
            interaction_id=OuterRef("pk"), direction=Message.Direction.OUTBOUND
        ).exclude(
            delivery_status__in=[Message.DeliveryStatus.CANCELLED, Message.DeliveryStatus.FAILED]
        )
    )


def pending_ids(*, limit: int) -> list[int]:
    """Items never analysed, plus, under the LLM engine, unanswered rules results to upgrade.

    Items that already have an outbound reply are not upgraded: the answer is out, and a new
    draft would only confuse.
    """
    # Cross-tenant housekeeping query, hence unscoped.
    unanswered = Interaction.objects.open().filter(first_response_at__isnull=True)
    query = Q(analyzed_at__isnull=True)
    if settings.LLM_ENGINE == llm.ENGINE:
        query |= Q(ai_analysis__awaiting_llm=True, is_answered=False) & ~Q(_has_live_reply())
    return list(unanswered.filter(query).order_by("pk").values_list("pk", flat=True)[:limit])


def analyze_pending(*, limit: int = 200) -> list[int]:
    """The 2-minute sweep: analyse what ingest missed, upgrade rules results to the LLM.

    Returns the ids analysed by this call. Safe to run concurrently: each item is taken under
    a Redis lock.
    """
    done: list[int] = []
    for interaction in _with_relations().filter(pk__in=pending_ids(limit=limit)).order_by("pk"):
        with interaction_lock(interaction.pk) as acquired:
            if not acquired:
                continue
            interaction.refresh_from_db(fields=["analyzed_at", "ai_analysis", "draft"])
            if interaction.analyzed_at is None:
                saved = analyze(interaction)
            elif (interaction.ai_analysis or {}).get("awaiting_llm"):
                saved = analyze(interaction, upgrade_only=True)
            else:
                saved = None
            if saved is not None:
                done.append(saved.pk)
    return done


# --- SLA escalation ---------------------------------------------------------------------------

# An item is "at risk" this long before its deadline.
SLA_AT_RISK = timedelta(minutes=30)
ESCALATION_BATCH = 500
_RAISE = MappingProxyType(
    {
        Priority.LOW: Priority.NORMAL,
        Priority.NORMAL: Priority.HIGH,
        Priority.HIGH: Priority.URGENT,
        Priority.URGENT: Priority.URGENT,
    }
)


def _already_escalated() -> Exists:
    # An escalation for the current deadline can only have happened inside its at-risk window,
    # so an event created after (deadline - SLA_AT_RISK) means "done for this deadline".
    return Exists(
        InteractionEvent.objects.filter(
            interaction_id=OuterRef("pk"),
            kind=InteractionEvent.Kind.SLA_ESCALATED,
            created_at__gte=OuterRef("sla_deadline_at") - SLA_AT_RISK,
        )
    )


def _recipients(interaction: Interaction) -> list[User]:
    if interaction.assignee_id is not None and interaction.assignee is not None:
        return [interaction.assignee]
    return list(
        User.objects.filter(
            memberships__workspace_id=interaction.workspace_id,
            memberships__role=Membership.Role.OWNER,
            is_active=True,
        )
    )


def escalate_sla(*, now: datetime | None = None) -> int:
    """Escalate overdue and at-risk items once per deadline; returns how many.

    Side effects per item: priority raised one step (the deadline is kept, so an escalation
    does not cascade), a Notification to the assignee (or every owner), and an `sla_escalated`
    event. Cross-tenant (a cron job); rows are claimed with SKIP LOCKED, so two runs at once
    never escalate the same item twice.
    """
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        # Cross-tenant by design: the cron job sweeps every workspace.
        due = (
            Interaction.objects.needing_response()
            .open()
            .exclude(status=Interaction.Status.SNOOZED)
            .filter(sla_deadline_at__lt=now + SLA_AT_RISK)
            .filter(~Q(_already_escalated()))
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("assignee")
            .order_by("sla_deadline_at")[:ESCALATION_BATCH]
        )
        for interaction in due:
            _escalate(interaction, now=now)
            count += 1
    if count:
        logger.info("SLA escalations done", extra={"count": count})
    return count


def _escalate(interaction: Interaction, *, now: datetime) -> None:
    deadline = interaction.sla_deadline_at
    assert deadline is not None
    is_overdue = deadline < now
    previous = interaction.priority
    interaction.priority = _RAISE.get(Priority(previous), Priority.URGENT)
    interaction.save(update_fields=["priority", "updated_at"])
    values = {"item": str(interaction), "deadline": f"{timezone.localtime(deadline):%H:%M}"}
    text = (
        gettext("Overdue: %(item)s was due at %(deadline)s.")
        if is_overdue
        else gettext("SLA at risk: %(item)s is due at %(deadline)s.")
    ) % values
    Notification.objects.bulk_create(
        [
            Notification(
                workspace_id=interaction.workspace_id,
                user=user,
                interaction=interaction,
                text=text[:500],
            )
            for user in _recipients(interaction)
        ]
    )
    InteractionEvent.objects.create(
        workspace_id=interaction.workspace_id,
        interaction=interaction,
        account_id=interaction.account_id,
        kind=InteractionEvent.Kind.SLA_ESCALATED,
        payload={
            "deadline": deadline.isoformat(),
            "overdue": is_overdue,
            "previous_priority": previous,
            "priority": interaction.priority,
        },
    )


# --- idle chats -------------------------------------------------------------------------------

IDLE_CHAT_DAYS = 7


def idle_chat_ids(*, now: datetime, days: int = IDLE_CHAT_DAYS, limit: int = 500) -> list[int]:
    """Open chats with no message for `days` that await nothing: the last message is ours, or
    the buyer's last ones needed no answer ("Спасибо, всё получила")."""
    last_direction = Subquery(
        Message.objects.filter(interaction_id=OuterRef("pk"))
        .exclude(direction=Message.Direction.INTERNAL)
        .order_by("-occurred_at", "-id")
        .values("direction")[:1]
    )
    # Cross-tenant by design: the cron job sweeps every workspace.
    return list(
        Interaction.objects.open()
        .filter(channel=Channel.CHAT, last_message_at__lt=now - timedelta(days=days))
        .annotate(last_direction=last_direction)
        .filter(Q(last_direction=Message.Direction.OUTBOUND) | Q(needs_response=False))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def close_idle_chats(*, now: datetime | None = None, days: int = IDLE_CHAT_DAYS) -> int:
    """Close chats that await nothing and have been quiet for `days` (via `change_status`)."""
    now = now or timezone.now()
    closed = 0
    for interaction in Interaction.objects.filter(pk__in=idle_chat_ids(now=now, days=days)):
        result = change_status(interaction, status=Interaction.Status.CLOSED, actor=None, now=now)
        closed += result.closed_at == now
    return closed
