from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Field, URLField
from django.utils.translation import gettext_lazy as _

from agentiq.crypto import mask_secret
from inbox import models

# Admin forms read a URL typed without a scheme as https (Django 6's default, no warning).
HTTPS_URL_FIELDS: Mapping[type[Field[Any, Any]], Mapping[str, Any]] = {
    URLField: {"assume_scheme": "https"}
}


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(models.MarketplaceAccount)
class MarketplaceAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "workspace",
        "marketplace",
        "sync_status",
        "last_sync_at",
        "sandbox_mode",
        "is_active",
    ]
    list_filter = ["marketplace", "sync_status", "sandbox_mode", "is_active"]
    search_fields = ["name", "workspace__name"]
    autocomplete_fields = ["workspace"]
    # Credentials are never shown in clear: only a masked read-only summary.
    exclude = ["credentials"]
    readonly_fields = ["masked_credentials", "token_info", "channel_errors", "last_sync_at"]
    formfield_overrides = HTTPS_URL_FIELDS

    @admin.display(description=_("credentials"))
    def masked_credentials(self, obj: models.MarketplaceAccount) -> str:
        return ", ".join(
            f"{key}: {mask_secret(str(value))}" for key, value in obj.credentials.items()
        )


@admin.register(models.SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ["account", "channel", "cursor", "watermark_at", "last_run_at", "items_seen"]
    list_filter = ["channel"]
    raw_id_fields = ["account", "workspace"]


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "brand", "article", "account", "cached_at"]
    search_fields = ["name", "external_id", "brand", "article"]
    raw_id_fields = ["account", "workspace"]
    formfield_overrides = HTTPS_URL_FIELDS


@admin.register(models.Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "external_id",
        "marketplace",
        "interactions_count",
        "last_seen_at",
    ]
    list_filter = ["marketplace"]
    search_fields = ["display_name", "external_id"]
    raw_id_fields = ["workspace"]


_MESSAGE_INLINE_FIELDS = ("direction", "author_type", "text", "delivery_status", "sent_at")


class MessageInline(admin.TabularInline):
    model = models.Message
    extra = 0
    fields = _MESSAGE_INLINE_FIELDS
    readonly_fields = _MESSAGE_INLINE_FIELDS
    show_change_link = True


@admin.register(models.Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "channel",
        "marketplace",
        "rating",
        "status",
        "priority",
        "sentiment",
        "sla_deadline_at",
        "occurred_at",
    ]
    list_filter = [
        "marketplace",
        "channel",
        "status",
        "priority",
        "sentiment",
        "intent",
        "needs_response",
    ]
    search_fields = ["external_id", "order_id", "customer_name"]
    raw_id_fields = ["workspace", "account", "product", "customer", "assignee"]
    date_hierarchy = "occurred_at"
    list_select_related = ["account"]
    inlines = [MessageInline]


@admin.register(models.Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "interaction",
        "direction",
        "author_type",
        "delivery_status",
        "sent_at",
        "occurred_at",
    ]
    list_filter = ["direction", "author_type", "delivery_status"]
    search_fields = ["external_id", "idempotency_key"]
    raw_id_fields = ["workspace", "interaction", "author"]


@admin.register(models.InteractionEvent)
class InteractionEventAdmin(admin.ModelAdmin):
    list_display = ["kind", "interaction", "account", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["workspace", "interaction", "account", "actor"]


@admin.register(models.InteractionLink)
class InteractionLinkAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "strength", "reason", "created_at"]
    list_filter = ["strength"]
    raw_id_fields = ["workspace", "source", "target"]


@admin.register(models.SLARule)
class SLARuleAdmin(admin.ModelAdmin):
    list_display = ["workspace", "channel", "priority", "minutes"]
    list_filter = ["channel", "priority"]
    raw_id_fields = ["workspace"]


@admin.register(models.ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "channel"]
    search_fields = ["name", "text"]
    raw_id_fields = ["workspace"]


@admin.register(models.AutoReplyRule)
class AutoReplyRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "workspace",
        "mode",
        "is_enabled",
        "channel",
        "rating_min",
        "rating_max",
    ]
    list_filter = ["mode", "is_enabled", "channel"]
    raw_id_fields = ["workspace", "product", "template"]


@admin.register(models.SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "owner", "is_shared"]
    raw_id_fields = ["workspace", "owner"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["text", "user", "read_at", "created_at"]
    raw_id_fields = ["workspace", "user", "interaction"]


@admin.register(models.LLMUsage)
class LLMUsageAdmin(admin.ModelAdmin):
    list_display = [
        "workspace",
        "day",
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "failures",
    ]
    raw_id_fields = ["workspace"]


@admin.register(models.Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "company", "phone", "created_at"]
    search_fields = ["name", "email", "company"]
