"""Per-workspace configuration: SLA rules, reply templates, auto-reply rules, saved views."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inbox.models.accounts import Channel, Marketplace
from inbox.models.base import TenantModel, TimestampedModel
from inbox.models.catalog import Product
from inbox.models.interactions import Interaction, Priority


class SLARule(TenantModel):
    """How many minutes the workspace gives itself to answer a channel at a priority."""

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    minutes = models.PositiveIntegerField(_("minutes to answer"))

    class Meta:
        verbose_name = _("SLA rule")
        verbose_name_plural = _("SLA rules")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "priority"], name="slarule_unique_channel_priority"
            ),
            models.CheckConstraint(condition=Q(minutes__gte=1), name="slarule_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}/{self.priority}: {self.minutes} min"


class ReplyTemplate(TenantModel):
    """A reusable answer; `{name}` and `{product}` are filled in when inserted."""

    name = models.CharField(_("name"), max_length=200)
    text = models.TextField(_("text"))
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="template_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class AutoReplyRule(TenantModel):
    """Which items are answered automatically, with what, and whether for real yet."""

    class Mode(models.TextChoices):
        SHADOW = "shadow", _("Shadow (dry run)")
        PUBLISH = "publish", _("Publish")

    class Source(models.TextChoices):
        TEMPLATE = "template", _("Template")
        AI_DRAFT = "ai_draft", _("AI draft")

    class TextPresence(models.TextChoices):
        ANY = "any", _("With or without text")
        WITH_TEXT = "with_text", _("Only with text")
        WITHOUT_TEXT = "without_text", _("Only without text")

    name = models.CharField(_("name"), max_length=200)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.SHADOW)
    marketplace = models.CharField(
        _("marketplace"), max_length=8, choices=Marketplace.choices, blank=True, default=""
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.REVIEW
    )
    rating_min = models.PositiveSmallIntegerField(_("minimum rating"), default=5)
    rating_max = models.PositiveSmallIntegerField(_("maximum rating"), default=5)
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    brand = models.CharField(_("brand"), max_length=200, blank=True, default="")
    text_presence = models.CharField(
        _("text"), max_length=16, choices=TextPresence.choices, default=TextPresence.ANY
    )
    # Empty list: positive and neutral only. Negative must be listed explicitly.
    sentiments = models.JSONField(_("sentiments"), default=list, blank=True)
    source = models.CharField(
        _("reply source"), max_length=16, choices=Source.choices, default=Source.AI_DRAFT
    )
    template = models.ForeignKey(
        ReplyTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    publish_delay_minutes = models.PositiveIntegerField(_("publish delay, minutes"), default=0)
    # Ratings of 3 and below or negative sentiment are answered only when this is set.
    allow_low_ratings = models.BooleanField(_("allow ratings of 3 and below"), default=False)
    priority_order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("auto-reply rule")
        verbose_name_plural = _("auto-reply rules")
        ordering = ["priority_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    rating_min__gte=1, rating_max__lte=5, rating_min__lte=models.F("rating_max")
                ),
                name="autoreply_rating_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SavedView(TenantModel):
    """A named inbox filter (its query string), personal or shared with the team."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    query = models.CharField(_("filter"), max_length=2000, blank=True, default="")
    is_shared = models.BooleanField(_("shared with the team"), default=False)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class Notification(TenantModel):
    """An in-app notice for one member (e.g. an SLA escalation)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(_("text"), max_length=500)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # unread counter in the header
            models.Index(fields=["user", "read_at"], name="ix_notification_unread"),
        ]

    def __str__(self) -> str:
        return self.text


class LLMUsage(TenantModel):
    """LLM tokens spent by a workspace per day."""

    day = models.DateField(_("day"))
    requests = models.PositiveIntegerField(_("requests"), default=0)
    prompt_tokens = models.PositiveBigIntegerField(_("prompt tokens"), default=0)
    completion_tokens = models.PositiveBigIntegerField(_("completion tokens"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)

    class Meta:
        verbose_name = _("LLM usage")
        verbose_name_plural = _("LLM usage")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day"], name="llmusage_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.day}"


class Lead(TimestampedModel):
    """A demo request from the public landing page (not tenant-owned)."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    company = models.CharField(_("company"), max_length=200, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    message = models.TextField(_("message"), blank=True, default="")

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
