"""Marketplace accounts: connect, re-key, enable/disable, delete — and their sync health.

Credentials are checked against the marketplace *before* anything is saved, and never in a
transaction (CONVENTIONS §4: no lock waits on a marketplace). Credentials are never logged;
pages only see them through `masked_credentials`.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from django.db import transaction
from django.db.models import Count
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agentiq.crypto import mask_secret
from connectors import jobs
from connectors.exceptions import MarketplaceError
from connectors.registry import UnsupportedMarketplace, client_for
from connectors.types import ConnectionReport
from inbox.exceptions import ConnectionCheckFailed
from inbox.models import (
    Channel,
    Interaction,
    InteractionEvent,
    Marketplace,
    MarketplaceAccount,
    Message,
    SyncCursor,
    User,
    Workspace,
    awaiting_answer_q,
)

logger = logging.getLogger(__name__)

# Messages waiting to be published (the outbox backlog shown on the health page).
OUTBOX_PENDING = (
    Message.DeliveryStatus.SCHEDULED,
    Message.DeliveryStatus.QUEUED,
    Message.DeliveryStatus.SENDING,
)
RECENT_ERRORS_DAYS = 7
RECENT_ERRORS_PER_ACCOUNT = 3
# Below this many days the page warns that the token is about to expire.
EXPIRY_WARNING_DAYS = 14


class ChannelInfo(TypedDict):
    available: bool
    message: str


class TokenInfo(TypedDict, total=False):
    """`MarketplaceAccount.token_info`: what the last connection check learnt."""

    token_type: str
    expires_at: str | None
    warnings: list[str]
    suggested_interval_seconds: int
    channels: dict[str, ChannelInfo]
    checked_at: str


# WB token types (the connectors report them in lower case); Ozon has one kind of key.
TOKEN_TYPE_LABELS = {
    "api_key": gettext_lazy("API key"),
    "base": gettext_lazy("Base token"),
    "personal": gettext_lazy("Personal token"),
    "service": gettext_lazy("Service token"),
    "test": gettext_lazy("Test token"),
}


def token_type_label(token_type: str) -> str:
    return str(TOKEN_TYPE_LABELS.get(token_type.lower(), token_type))


# --- Credentials ---------------------------------------------------------------------------
# Ozon's fields keep the names its seller portal gives them.
CREDENTIAL_LABELS: dict[str, dict[str, Any]] = {
    Marketplace.WB: {"token": gettext_lazy("API token")},
    Marketplace.OZON: {"client_id": "Client-Id", "api_key": "Api-Key"},
}


def masked_credentials(account: MarketplaceAccount) -> list[tuple[str, str]]:
    """(label, masked value) pairs: only the last 4 characters of each secret are shown."""
    labels = CREDENTIAL_LABELS.get(account.marketplace, {})
    # EncryptedJSONField is a TextField to the type checker, a dict at run time.
    credentials = cast(dict[str, Any], account.credentials)
    return [
        (str(label), mask_secret(str(credentials.get(key, "")))) for key, label in labels.items()
    ]


def build_account(
    workspace: Workspace,
    *,
    marketplace: str,
    name: str,
    credentials: dict[str, str],
    base_url: str = "",
    sandbox_mode: bool = False,
) -> MarketplaceAccount:
    """An unsaved account, for checking credentials before anything is stored."""
    return MarketplaceAccount(
        workspace=workspace,
        marketplace=marketplace,
        name=name,
        credentials=credentials,  # type: ignore[misc]  # EncryptedJSONField holds a dict
        base_url=base_url,
        sandbox_mode=sandbox_mode,
    )


def check_connection(account: MarketplaceAccount) -> ConnectionReport:
    """Ask the marketplace what these credentials may do; never raises for a refusal.

    Works with unsaved accounts (see `build_account`). A refusal or an unreachable marketplace
    becomes a report with `ok=False` and a message for the seller.
    """
    try:
        report = client_for(account).check_connection()
    except UnsupportedMarketplace:
        report = ConnectionReport(
            ok=False, error=_("This marketplace cannot be connected yet. We are working on it.")
        )
    except MarketplaceError as error:
        report = ConnectionReport(ok=False, error=str(error))
    logger.info(
        "Connection checked",
        extra={
            "workspace_id": account.workspace_id,
            "account_id": account.pk,
            "marketplace": account.marketplace,
            "ok": report.ok,
            "token_type": report.token_type,
        },
    )
    return report


@dataclass(frozen=True, slots=True)
class ChannelAccessRow:
    label: str
    available: bool
    message: str


def report_channel_rows(report: ConnectionReport) -> list[ChannelAccessRow]:
    """The report's channel access with Russian channel names, in the inbox's order."""
    labels = {**dict(Channel.choices), "product": gettext_lazy("Product cards")}
    return [
        ChannelAccessRow(
            label=str(labels.get(access.channel, access.channel)),
            available=access.available,
            message=access.message,
        )
        for access in report.channels
    ]


def token_info_from_report(report: ConnectionReport, *, now: datetime) -> TokenInfo:
    return TokenInfo(
        token_type=report.token_type,
        expires_at=report.expires_at.isoformat() if report.expires_at else None,
        warnings=list(report.warnings),
        suggested_interval_seconds=report.suggested_interval_seconds,
        channels={
            access.channel: ChannelInfo(available=access.available, message=access.message)
            for access in report.channels
        },
        checked_at=now.isoformat(),
    )


def _available_channels(report: ConnectionReport) -> list[str]:
    """Inbox channels the credentials reach (the report may list others, e.g. product cards)."""
    inbox_access = [access for access in report.channels if access.channel in Channel.values]
    if not inbox_access:
        return list(Channel.values)
    return [access.channel for access in inbox_access if access.available]


def _channel_errors(report: ConnectionReport) -> dict[str, str]:
    return {
        access.channel: access.message or _("Not available with these credentials.")
        for access in report.channels
        if not access.available and access.channel in Channel.values
    }


def enqueue_sync(account: MarketplaceAccount) -> None:
    """Start a sync of `account` (on the "sync" queue) once the current transaction commits.

    `connectors.jobs.enqueue_sync` skips it when a sync of the account is already waiting.
    """
    account_id = account.pk
    transaction.on_commit(lambda: jobs.enqueue_sync(account_id))


def connect_account(
    workspace: Workspace,
    *,
    actor: User | None,
    marketplace: str,
    name: str,
    credentials: dict[str, str],
    base_url: str = "",
    sandbox_mode: bool = False,
    report: ConnectionReport | None = None,
    now: datetime | None = None,
) -> MarketplaceAccount:
    """Check the credentials, save the account and start its first sync.

    `report` is a check that was just made with the same credentials; without it the
    marketplace is asked here (before any write). Only the channels the credentials can reach
    are enabled; the others keep their reason in `channel_errors`. The first sync is enqueued
    on the "sync" queue after commit.

    Raises ConnectionCheckFailed when the marketplace refuses the credentials.
    """
    draft = build_account(
        workspace,
        marketplace=marketplace,
        name=name,
        credentials=credentials,
        base_url=base_url,
        sandbox_mode=sandbox_mode,
    )
    if report is None:
        report = check_connection(draft)
    if not report.ok:
        raise ConnectionCheckFailed(report.error or None)
    now = now or timezone.now()
    draft.token_info = token_info_from_report(report, now=now)
    draft.enabled_channels = _available_channels(report)
    draft.channel_errors = _channel_errors(report)
    draft.sync_status = MarketplaceAccount.SyncStatus.IDLE
    draft.next_sync_at = now
    with transaction.atomic():
        draft.save()
        enqueue_sync(draft)
    logger.info(
        "Account connected",
        extra={
            "workspace_id": workspace.pk,
            "account_id": draft.pk,
            "marketplace": marketplace,
            "actor_id": actor.pk if actor else None,
            "channels": draft.enabled_channels,
        },
    )
    return draft


def update_credentials(
    account: MarketplaceAccount,
    *,
    actor: User | None,
    credentials: dict[str, str],
    report: ConnectionReport | None = None,
    now: datetime | None = None,
) -> MarketplaceAccount:
    """Replace the credentials after checking them, and resume syncing.

    An authorisation error of the old credentials is cleared (sync_status back to idle), the
    token information and channel availability are refreshed, and a sync is enqueued.
    Raises ConnectionCheckFailed when the marketplace refuses the new credentials.
    """
    draft = build_account(
        account.workspace,
        marketplace=account.marketplace,
        name=account.name,
        credentials=credentials,
        base_url=account.base_url,
        sandbox_mode=account.sandbox_mode,
    )
    draft.pk = account.pk
    if report is None:
        report = check_connection(draft)
    if not report.ok:
        raise ConnectionCheckFailed(report.error or None)
    now = now or timezone.now()
    available = _available_channels(report)
    account.credentials = credentials  # type: ignore[assignment]  # EncryptedJSONField: a dict
    account.token_info = token_info_from_report(report, now=now)
    account.channel_errors = _channel_errors(report)
    # Keep the seller's choice, minus what the new credentials cannot reach.
    account.enabled_channels = [c for c in account.enabled_channels if c in available] or available
    if account.sync_status in (
        MarketplaceAccount.SyncStatus.AUTH_ERROR,
        MarketplaceAccount.SyncStatus.ERROR,
    ):
        account.sync_status = MarketplaceAccount.SyncStatus.IDLE
        account.sync_error = ""
    account.next_sync_at = now
    with transaction.atomic():
        account.save()
        if account.is_active:
            enqueue_sync(account)
    logger.info(
        "Account credentials replaced",
        extra={
            "workspace_id": account.workspace_id,
            "account_id": account.pk,
            "actor_id": actor.pk if actor else None,
        },
    )
    return account


def update_account(
    account: MarketplaceAccount,
    *,
    actor: User | None,
    name: str,
    sandbox_mode: bool,
    enabled_channels: Iterable[str],
) -> MarketplaceAccount:
    """Rename, switch sandbox mode, or choose channels (only those the credentials reach)."""
    unavailable = set(account.channel_errors)
    account.name = name
    account.sandbox_mode = sandbox_mode
    account.enabled_channels = [
        c for c in Channel.values if c in set(enabled_channels) and c not in unavailable
    ]
    account.save(update_fields=["name", "sandbox_mode", "enabled_channels", "updated_at"])
    return account


def set_account_enabled(
    account: MarketplaceAccount,
    *,
    actor: User | None,
    is_enabled: bool,
    now: datetime | None = None,
) -> MarketplaceAccount:
    """Pause or resume syncing and publishing; resuming starts a sync right away."""
    with transaction.atomic():
        account.is_active = is_enabled
        fields = ["is_active", "updated_at"]
        if is_enabled:
            account.next_sync_at = now or timezone.now()
            fields.append("next_sync_at")
            enqueue_sync(account)
        account.save(update_fields=fields)
    logger.info(
        "Account enabled" if is_enabled else "Account disabled",
        extra={"workspace_id": account.workspace_id, "account_id": account.pk},
    )
    return account


def start_sync(account: MarketplaceAccount, *, actor: User | None) -> None:
    """Sync an active account now (the seller's "sync now" button)."""
    with transaction.atomic():
        enqueue_sync(account)


def delete_account(account: MarketplaceAccount, *, actor: User | None) -> None:
    """Delete the account with everything synced from it (interactions, cursors, events)."""
    account_id, workspace_id = account.pk, account.workspace_id
    account.delete()
    logger.info(
        "Account deleted",
        extra={
            "workspace_id": workspace_id,
            "account_id": account_id,
            "actor_id": actor.pk if actor else None,
        },
    )


# --- Health (reads) ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    label: str
    is_enabled: bool
    items_synced: int  # SyncCursor.items_seen: what the sync has read so far
    interactions: int  # rows stored for this channel
    unanswered: int
    last_run_at: datetime | None
    error: str


@dataclass(frozen=True, slots=True)
class SyncErrorNote:
    created_at: datetime
    channel: str
    text: str


@dataclass(frozen=True, slots=True)
class AccountHealth:
    account: MarketplaceAccount
    channels: tuple[ChannelHealth, ...]
    unanswered: int
    outbox_queued: int
    recent_errors: tuple[SyncErrorNote, ...]
    token_type: str
    expires_at: datetime | None
    expires_soon: bool
    warnings: tuple[str, ...]
    interval_seconds: int
    is_slow_cadence: bool

    @property
    def token_label(self) -> str:
        return token_type_label(self.token_type)

    @property
    def interval_minutes(self) -> int:
        return max(1, round(self.interval_seconds / 60))

    @property
    def is_first_sync_running(self) -> bool:
        return self.account.last_sync_at is None and self.account.sync_status in (
            MarketplaceAccount.SyncStatus.IDLE,
            MarketplaceAccount.SyncStatus.RUNNING,
        )

    @property
    def has_problem(self) -> bool:
        return bool(
            self.account.sync_error or self.account.channel_errors or self.recent_errors
        ) or self.account.sync_status in (
            MarketplaceAccount.SyncStatus.ERROR,
            MarketplaceAccount.SyncStatus.AUTH_ERROR,
        )


def _parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _token_expiry(account: MarketplaceAccount, *, now: datetime) -> tuple[datetime | None, bool]:
    """When the account's token expires (if the marketplace says), and whether that is soon."""
    expires_at = _parse_datetime((account.token_info or {}).get("expires_at"))
    return expires_at, bool(expires_at and expires_at - now < timedelta(days=EXPIRY_WARNING_DAYS))


def _error_text(payload: dict[str, Any]) -> str:
    for key in ("message", "error", "text"):
        if payload.get(key):
            return str(payload[key])
    return _("Sync error")


@dataclass(frozen=True, slots=True)
class AccountAlert:
    account: MarketplaceAccount
    problems: tuple[str, ...]


def accounts_needing_attention(workspace: Workspace, *, now: datetime) -> list[AccountAlert]:
    """Active accounts the seller must act on (a rejected token, a failing sync or channel, a
    token about to expire), with what is wrong in Russian; one query over the accounts."""
    alerts = []
    labels = dict(Channel.choices)
    for account in MarketplaceAccount.objects.for_workspace(workspace).filter(is_active=True):
        problems = []
        if account.sync_status == MarketplaceAccount.SyncStatus.AUTH_ERROR:
            problems.append(_("The marketplace no longer accepts the token: enter a new one."))
        elif account.sync_status == MarketplaceAccount.SyncStatus.ERROR:
            problems.append(account.sync_error or _("The last sync failed."))
        for channel, error in sorted((account.channel_errors or {}).items()):
            problems.append(f"{labels.get(channel, channel)}: {error}")
        expires_at, expires_soon = _token_expiry(account, now=now)
        if expires_at and expires_soon:
            problems.append(
                _("The token expires on %(date)s.")
                % {"date": formats.date_format(timezone.localtime(expires_at), "SHORT_DATE_FORMAT")}
            )
        if problems:
            alerts.append(AccountAlert(account=account, problems=tuple(str(p) for p in problems)))
    return alerts


def account_health(
    workspace: Workspace, *, account_ids: Iterable[int] | None = None, now: datetime
) -> list[AccountHealth]:
    """Sync health of the workspace's accounts (or of `account_ids`), in five queries.

    Counts come from grouped queries over all listed accounts, so the number of queries does
    not grow with the number of accounts.
    """
    accounts_qs = MarketplaceAccount.objects.for_workspace(workspace).order_by("name", "id")
    if account_ids is not None:
        accounts_qs = accounts_qs.filter(pk__in=list(account_ids))
    accounts = list(accounts_qs)
    if not accounts:
        return []
    ids = [a.pk for a in accounts]

    awaiting = awaiting_answer_q()
    per_channel: dict[tuple[int, str], Mapping[str, Any]] = {
        (row["account_id"], row["channel"]): row
        for row in Interaction.objects.for_workspace(workspace)
        .filter(account_id__in=ids)
        .values("account_id", "channel")
        .annotate(total=Count("id"), unanswered=Count("id", filter=awaiting))
        .order_by()
    }
    cursors = {
        (c.account_id, c.channel): c
        for c in SyncCursor.objects.for_workspace(workspace).filter(account_id__in=ids)
    }
    outbox = {
        row["interaction__account_id"]: row["queued"]
        for row in Message.objects.for_workspace(workspace)
        .filter(interaction__account_id__in=ids, delivery_status__in=OUTBOX_PENDING)
        .values("interaction__account_id")
        .annotate(queued=Count("id"))
        .order_by()
    }
    errors: dict[int, list[SyncErrorNote]] = defaultdict(list)
    # ix_event_account_kind; bounded so that a flood of errors cannot slow the page down.
    recent = (
        InteractionEvent.objects.for_workspace(workspace)
        .filter(
            account_id__in=ids,
            kind=InteractionEvent.Kind.SYNC_ERROR,
            created_at__gte=now - timedelta(days=RECENT_ERRORS_DAYS),
        )
        .order_by("-created_at")
        .only("account_id", "created_at", "payload")[: RECENT_ERRORS_PER_ACCOUNT * len(ids) * 4]
    )
    for event in recent:
        if (
            event.account_id is not None
            and len(errors[event.account_id]) < RECENT_ERRORS_PER_ACCOUNT
        ):
            errors[event.account_id].append(
                SyncErrorNote(
                    created_at=event.created_at,
                    channel=str(event.payload.get("channel", "")),
                    text=_error_text(event.payload),
                )
            )

    result = []
    for account in accounts:
        channels = []
        for channel, label in Channel.choices:
            counts = per_channel.get((account.pk, channel), {})
            cursor = cursors.get((account.pk, channel))
            channels.append(
                ChannelHealth(
                    channel=channel,
                    label=str(label),
                    is_enabled=channel in account.enabled_channels,
                    items_synced=cursor.items_seen if cursor else 0,
                    interactions=counts.get("total", 0),
                    unanswered=counts.get("unanswered", 0),
                    last_run_at=cursor.last_run_at if cursor else None,
                    error=str(account.channel_errors.get(channel, "")),
                )
            )
        info = account.token_info or {}
        expires_at, expires_soon = _token_expiry(account, now=now)
        interval = int(info.get("suggested_interval_seconds") or 60)
        result.append(
            AccountHealth(
                account=account,
                channels=tuple(channels),
                unanswered=sum(c.unanswered for c in channels),
                outbox_queued=outbox.get(account.pk, 0),
                recent_errors=tuple(errors.get(account.pk, ())),
                token_type=str(info.get("token_type", "")),
                expires_at=expires_at,
                expires_soon=expires_soon,
                warnings=tuple(str(w) for w in info.get("warnings", [])),
                interval_seconds=interval,
                is_slow_cadence=interval > 5 * 60,
            )
        )
    return result
