from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import Channel, Marketplace, MarketplaceAccount
from inbox.models.base import TenantModel, WorkspaceQuerySet, covered_workspace
from inbox.models.catalog import Customer, Product


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Intent(models.TextChoices):
    QUALITY_DEFECT = "quality_defect", _("Quality defect")
    SIZE_FIT = "size_fit", _("Size and fit")
    WRONG_ITEM = "wrong_item", _("Wrong or incomplete item")
    DELIVERY_PACKAGING = "delivery_packaging", _("Delivery and packaging")
    MATERIAL_SMELL = "material_smell", _("Material, smell, look")
    PRICE_VALUE = "price_value", _("Price and value")
    RETURN_REFUND = "return_refund", _("Return and refund")
    PRODUCT_QUESTION = "product_question", _("Product question")
    PRAISE = "praise", _("Praise")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


def needing_response_q() -> Q:
    """Items that still need an answer: a review or question never answered, or a chat whose
    buyer wrote last (a chat needs an answer again after every new buyer message)."""
    return Q(needs_response=True) & (Q(first_response_at__isnull=True) | Q(channel=Channel.CHAT))


def awaiting_answer_q() -> Q:
    """Open items that still need an answer (the inbox filter, the home page, SLA overdue)."""
    return needing_response_q() & ~Q(status=Interaction.Status.CLOSED)


class InteractionQuerySet(WorkspaceQuerySet):
    def open(self) -> Self:
        return self.exclude(status=Interaction.Status.CLOSED)

    def needing_response(self) -> Self:
        return self.filter(needing_response_q())

    def overdue(self, *, at: "models.DateTimeField") -> Self:
        return self.needing_response().open().filter(sla_deadline_at__lt=at)


class Interaction(TenantModel):
    """One review, question or chat, whatever the marketplace."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        SNOOZED = "snoozed", _("Snoozed")
        CLOSED = "closed", _("Closed")

    # Foreign keys without an index of their own lead a composite index (named beside them).
    workspace = covered_workspace()  # ix_ws_*
    account = models.ForeignKey(  # interaction_unique_external
        MarketplaceAccount, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    marketplace = models.CharField(_("marketplace"), max_length=8, choices=Marketplace.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    external_id = models.CharField(_("marketplace id"), max_length=128)
    product = models.ForeignKey(  # ix_product_channel_name
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        db_index=False,
    )
    customer = models.ForeignKey(  # ix_customer_occurred
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
        db_index=False,
    )
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True, default="")
    order_id = models.CharField(_("order"), max_length=128, blank=True, default="")
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True, default="")
    pros = models.TextField(_("pros"), blank=True, default="")
    cons = models.TextField(_("cons"), blank=True, default="")
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    sentiment = models.CharField(
        _("sentiment"), max_length=8, choices=Sentiment.choices, blank=True, default=""
    )
    intent = models.CharField(
        _("intent"), max_length=24, choices=Intent.choices, blank=True, default=""
    )
    needs_response = models.BooleanField(_("needs a response"), default=True)
    sla_deadline_at = models.DateTimeField(_("SLA deadline"), null=True, blank=True)
    # Until when the marketplace accepts an answer at all (WB archive, Ozon chat window).
    reply_window_ends_at = models.DateTimeField(_("reply window ends"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    assignee = models.ForeignKey(  # ix_assignee
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_interactions",
        db_index=False,
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    last_message_at = models.DateTimeField(_("last message at"))
    unread_count = models.PositiveIntegerField(_("unread"), default=0)
    # The marketplace's answer state: whether an answer is published, and what editing allows.
    is_answered = models.BooleanField(_("answered on the marketplace"), default=False)
    answer_editable_until = models.DateTimeField(_("answer editable until"), null=True, blank=True)
    answer_edits_left = models.PositiveSmallIntegerField(_("answer edits left"), default=0)
    ai_analysis = models.JSONField(_("AI analysis"), default=dict, blank=True)
    analyzed_at = models.DateTimeField(_("analysed at"), null=True, blank=True)
    draft = models.TextField(_("draft"), blank=True, default="")
    # Marketplace-specific raw bits that have no column (kept for support and re-mapping).
    extra = models.JSONField(_("extra data"), default=dict, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects: ClassVar = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel", "external_id"], name="interaction_unique_external"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="interaction_rating_1_5",
            ),
        ]
        indexes = [
            # inbox default list: newest first within a workspace (keyset pagination)
            models.Index(fields=["workspace", "-last_message_at", "-id"], name="ix_ws_recent"),
            # inbox "by SLA": open items needing an answer ordered by deadline
            models.Index(
                fields=["workspace", "status", "sla_deadline_at"], name="ix_ws_status_sla"
            ),
            # filters by channel / marketplace with recency
            models.Index(
                fields=["workspace", "channel", "-last_message_at"], name="ix_ws_chan_recent"
            ),
            # journey linking: same order / same customer (linking._newest); most items have
            # neither (WB reviews and questions), so only those with one are indexed
            models.Index(
                fields=["workspace", "order_id"], condition=~Q(order_id=""), name="ix_ws_order"
            ),
            models.Index(
                fields=["customer", "occurred_at"],
                condition=Q(customer__isnull=False),
                name="ix_customer_occurred",
            ),
            # inbox list: count and newest change of the open items on every request
            # (index-only with count(*); selectors._fingerprint_and_total)
            models.Index(
                fields=["workspace", "updated_at"],
                condition=~Q(status="closed"),
                name="ix_ws_open_updated",
            ),
            # AI job: items still waiting for analysis
            models.Index(fields=["workspace", "analyzed_at"], name="ix_ws_analyzed"),
            # a product's items (the inbox product filter, product deletion) and journey
            # linking's weak links: the same product and customer name in another channel
            # within a few days (linking._weak_candidates_by_row)
            models.Index(
                fields=["product", "channel", "customer_name", "occurred_at"],
                name="ix_product_channel_name",
            ),
            # "assigned to me"; most items have no assignee, so only assigned ones are indexed
            models.Index(
                fields=["assignee"], condition=Q(assignee__isnull=False), name="ix_assignee"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.external_id}"


class Message(TenantModel):
    """A message inside an interaction: the customer's text, a reply, or a private note."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")
        INTERNAL = "note", _("Private note")

    class AuthorType(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        SELLER = "seller", _("Seller")
        AI = "ai", _("AI")
        SYSTEM = "system", _("System")

    class DeliveryStatus(models.TextChoices):
        RECEIVED = "received", _("Received")
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", _("Failed")
        DRY_RUN = "dry_run", _("Dry run")
        CANCELLED = "cancelled", _("Cancelled")

    interaction = models.ForeignKey(  # ix_msg_interaction_time
        Interaction, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    external_id = models.CharField(_("marketplace id"), max_length=128, blank=True, default="")
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    author_type = models.CharField(_("author"), max_length=16, choices=AuthorType.choices)
    author = models.ForeignKey(  # ix_msg_author
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    text = models.TextField(_("text"), blank=True, default="")
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    delivery_status = models.CharField(
        _("delivery status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.RECEIVED,
    )
    is_edit = models.BooleanField(_("edit of a published answer"), default=False)
    publish_after = models.DateTimeField(_("publish after"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Backs exactly-once publishing: one outbound message per key, ever.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField(_("occurred at"))

    objects: ClassVar = WorkspaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "external_id"],
                condition=~Q(external_id=""),
                name="message_unique_external",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            ),
        ]
        indexes = [
            # conversation pane: messages of one interaction in order
            models.Index(fields=["interaction", "occurred_at"], name="ix_msg_interaction_time"),
            # outbox jobs: queued and sending messages by age (the rest is never looked up so)
            models.Index(
                fields=["delivery_status", "updated_at"],
                condition=Q(delivery_status__in=["queued", "sending"]),
                name="ix_msg_outbox",
            ),
            models.Index(
                fields=["author"], condition=Q(author__isnull=False), name="ix_msg_author"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"


# An outbound message that is on the marketplace, or will be in a moment (queued, scheduled).
LIVE_REPLY_STATUSES = (
    Message.DeliveryStatus.SCHEDULED,
    Message.DeliveryStatus.QUEUED,
    Message.DeliveryStatus.SENDING,
    Message.DeliveryStatus.SENT,
    Message.DeliveryStatus.CONFIRMED,
)
# The same, or a sandbox account's dry run: what the buyer has (or would have) been told.
LIVE_OR_DRY_RUN_STATUSES = (*LIVE_REPLY_STATUSES, Message.DeliveryStatus.DRY_RUN)


class InteractionEvent(TenantModel):
    """The audit timeline of an interaction: who or what did what, and when."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Arrived")
        UPDATED = "updated", _("Changed on the marketplace")
        READ = "read", _("Read by the team")
        ANALYZED = "analyzed", _("Analysed")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        REPLY_QUEUED = "reply_queued", _("Reply queued")
        REPLY_SENT = "reply_sent", _("Reply sent")
        REPLY_CONFIRMED = "reply_confirmed", _("Reply confirmed")
        REPLY_FAILED = "reply_failed", _("Reply failed")
        REPLY_BLOCKED = "reply_blocked", _("Reply blocked by guardrails")
        AUTO_REPLY = "auto_reply", _("Auto-reply")
        NOTE_ADDED = "note_added", _("Note added")
        LINKED = "linked", _("Linked to another interaction")
        SLA_ESCALATED = "sla_escalated", _("SLA escalated")
        SYNC_ERROR = "sync_error", _("Sync error")

    interaction = models.ForeignKey(  # ix_event_interaction_time
        Interaction,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    account = models.ForeignKey(  # ix_event_account_kind
        MarketplaceAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(  # ix_event_actor
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        verbose_name = _("interaction event")
        verbose_name_plural = _("interaction events")
        indexes = [
            # timeline of one interaction
            models.Index(fields=["interaction", "created_at"], name="ix_event_interaction_time"),
            # account health page: recent sync errors
            models.Index(fields=["account", "kind", "-created_at"], name="ix_event_account_kind"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="ix_event_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.created_at:%Y-%m-%d %H:%M}"


class InteractionLink(TenantModel):
    """Two interactions of one customer journey, with how sure the link is."""

    class Strength(models.TextChoices):
        CERTAIN = "certain", _("Certain (same order)")
        STRONG = "strong", _("Strong (same customer)")
        WEAK = "weak", _("Weak (same name and product)")

    source = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="links_in")
    strength = models.CharField(_("strength"), max_length=8, choices=Strength.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("interaction link")
        verbose_name_plural = _("interaction links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="link_unique_pair"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} ↔ {self.target_id} ({self.strength})"
