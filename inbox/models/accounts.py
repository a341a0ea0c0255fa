from django.db import models
from django.utils.translation import gettext_lazy as _

from agentiq.crypto import EncryptedJSONField
from inbox.models.base import TenantModel


class Marketplace(models.TextChoices):
    WB = "wb", _("Wildberries")
    OZON = "ozon", _("Ozon")


class Channel(models.TextChoices):
    REVIEW = "review", _("Review")
    QUESTION = "question", _("Question")
    CHAT = "chat", _("Chat")


class MarketplaceAccount(TenantModel):
    """A seller's connection to one marketplace (WB token, or Ozon Client-Id + Api-Key)."""

    class SyncStatus(models.TextChoices):
        IDLE = "idle", _("Waiting")
        RUNNING = "running", _("Syncing")
        OK = "ok", _("OK")
        ERROR = "error", _("Error")
        AUTH_ERROR = "auth_error", _("Authorisation error")

    marketplace = models.CharField(_("marketplace"), max_length=8, choices=Marketplace.choices)
    name = models.CharField(_("name"), max_length=200)
    # WB: {"token": "..."}; Ozon: {"client_id": "...", "api_key": "..."}. Fernet-encrypted.
    credentials = EncryptedJSONField(_("credentials"), blank=True, default=dict)
    sandbox_mode = models.BooleanField(
        _("sandbox mode"), default=False, help_text=_("Replies are stored, never published.")
    )
    base_url = models.URLField(
        _("base URL override"),
        blank=True,
        default="",
        help_text=_("Send every API call to this address instead of the marketplace (simulator)."),
    )
    enabled_channels = models.JSONField(_("enabled channels"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sync_status = models.CharField(
        _("sync status"), max_length=16, choices=SyncStatus.choices, default=SyncStatus.IDLE
    )
    sync_error = models.TextField(_("sync error"), blank=True, default="")
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    next_sync_at = models.DateTimeField(_("next sync"), null=True, blank=True)
    # What the connection check learnt: token type, scopes, expiry, per-channel limits/errors.
    token_info = models.JSONField(_("token information"), default=dict, blank=True)
    channel_errors = models.JSONField(_("channel errors"), default=dict, blank=True)

    class Meta:
        verbose_name = _("marketplace account")
        verbose_name_plural = _("marketplace accounts")
        indexes = [
            # cron: accounts due for a sync
            models.Index(fields=["is_active", "next_sync_at"], name="account_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(marketplace__in=["wb", "ozon"]), name="account_marketplace_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_marketplace_display()}: {self.name}"


class SyncCursor(TenantModel):
    """Where the last committed sync page of one account+channel ended."""

    account = models.ForeignKey(
        MarketplaceAccount, on_delete=models.CASCADE, related_name="cursors"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    cursor = models.CharField(_("cursor"), max_length=500, blank=True, default="")
    watermark_at = models.DateTimeField(_("watermark"), null=True, blank=True)
    state = models.JSONField(_("state"), default=dict, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    items_seen = models.PositiveBigIntegerField(_("items seen"), default=0)

    class Meta:
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel"], name="cursor_unique_account_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.channel}: {self.cursor or self.watermark_at}"
