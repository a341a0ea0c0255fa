from inbox.models.accounts import Channel, Marketplace, MarketplaceAccount, SyncCursor
from inbox.models.base import TenantModel, TimestampedModel, WorkspaceQuerySet
from inbox.models.catalog import Customer, Product
from inbox.models.configuration import (
    AutoReplyRule,
    Lead,
    LLMUsage,
    Notification,
    ReplyTemplate,
    SavedView,
    SLARule,
)
from inbox.models.interactions import (
    LIVE_OR_DRY_RUN_STATUSES,
    LIVE_REPLY_STATUSES,
    Intent,
    Interaction,
    InteractionEvent,
    InteractionLink,
    Message,
    Priority,
    Sentiment,
    awaiting_answer_q,
)
from inbox.models.tenancy import Membership, User, Workspace

__all__ = [
    "LIVE_OR_DRY_RUN_STATUSES",
    "LIVE_REPLY_STATUSES",
    "AutoReplyRule",
    "Channel",
    "Customer",
    "Intent",
    "Interaction",
    "InteractionEvent",
    "InteractionLink",
    "LLMUsage",
    "Lead",
    "Marketplace",
    "MarketplaceAccount",
    "Membership",
    "Message",
    "Notification",
    "Priority",
    "Product",
    "ReplyTemplate",
    "SLARule",
    "SavedView",
    "Sentiment",
    "SyncCursor",
    "TenantModel",
    "TimestampedModel",
    "User",
    "Workspace",
    "WorkspaceQuerySet",
    "awaiting_answer_q",
]
