"""Workspace settings: SLA minutes, reply templates, auto-reply rules, stop-words, LLM usage."""

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from inbox.exceptions import OwnerRoleRequired, TemplateNameTaken
from inbox.models import (
    AutoReplyRule,
    Channel,
    LLMUsage,
    Membership,
    Priority,
    ReplyTemplate,
    SLARule,
    User,
    Workspace,
)
from inbox.selectors import forget_reply_templates

logger = logging.getLogger(__name__)

AUTOREPLY_FIELDS = (
    "name",
    "is_enabled",
    "marketplace",
    "channel",
    "rating_min",
    "rating_max",
    "product",
    "brand",
    "text_presence",
    "sentiments",
    "source",
    "template",
    "publish_delay_minutes",
    "allow_low_ratings",
    "priority_order",
)
LLM_USAGE_DAYS = 30


# --- SLA -----------------------------------------------------------------------------------
def sla_minutes(workspace: Workspace) -> dict[tuple[str, str], int]:
    """Minutes to answer keyed by (channel, priority)."""
    return {
        (rule.channel, rule.priority): rule.minutes
        for rule in SLARule.objects.for_workspace(workspace)
    }


@transaction.atomic
def update_sla_rules(
    workspace: Workspace, *, actor: User | None, minutes: Mapping[tuple[str, str], int]
) -> None:
    """Set the minutes of each (channel, priority); missing rules are created.

    Deadlines of interactions that are already open are not recomputed.
    """
    existing = {
        (rule.channel, rule.priority): rule
        for rule in SLARule.objects.for_workspace(workspace).select_for_update()
    }
    changed, created = [], []
    for (channel, priority), value in minutes.items():
        if channel not in Channel.values or priority not in Priority.values:
            continue
        rule = existing.get((channel, priority))
        if rule is None:
            created.append(
                SLARule(workspace=workspace, channel=channel, priority=priority, minutes=value)
            )
        elif rule.minutes != value:
            rule.minutes = value
            changed.append(rule)
    SLARule.objects.bulk_create(created)
    SLARule.objects.bulk_update(changed, ["minutes", "updated_at"])
    logger.info(
        "SLA rules updated",
        extra={"workspace_id": workspace.pk, "changed": len(changed) + len(created)},
    )


# --- Reply templates -----------------------------------------------------------------------
def _check_template_name(workspace: Workspace, name: str, *, exclude_pk: int | None) -> None:
    taken = ReplyTemplate.objects.for_workspace(workspace).filter(name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise TemplateNameTaken


def create_reply_template(
    workspace: Workspace, *, actor: User | None, name: str, text: str, channel: str = ""
) -> ReplyTemplate:
    """Raises TemplateNameTaken when the workspace already has a template of that name."""
    _check_template_name(workspace, name, exclude_pk=None)
    template = ReplyTemplate.objects.create(
        workspace=workspace, name=name, text=text, channel=channel
    )
    forget_reply_templates(workspace.pk)
    return template


def update_reply_template(
    template: ReplyTemplate, *, actor: User | None, name: str, text: str, channel: str = ""
) -> ReplyTemplate:
    _check_template_name(template.workspace, name, exclude_pk=template.pk)
    template.name, template.text, template.channel = name, text, channel
    template.save(update_fields=["name", "text", "channel", "updated_at"])
    forget_reply_templates(template.workspace_id)
    return template


def delete_reply_template(template: ReplyTemplate, *, actor: User | None) -> None:
    """Auto-reply rules that used it keep running without a template (SET_NULL)."""
    template.delete()
    forget_reply_templates(template.workspace_id)


# --- Auto-reply rules ----------------------------------------------------------------------
def create_autoreply_rule(
    workspace: Workspace, *, actor: User | None, **fields: Any
) -> AutoReplyRule:
    """A new rule always starts in shadow mode: it only records what it would have sent."""
    values = {name: fields[name] for name in AUTOREPLY_FIELDS if name in fields}
    return AutoReplyRule.objects.create(
        workspace=workspace, mode=AutoReplyRule.Mode.SHADOW, **values
    )


def update_autoreply_rule(
    rule: AutoReplyRule, *, actor: User | None, **fields: Any
) -> AutoReplyRule:
    """Change a rule's conditions; its mode changes only through `set_autoreply_mode`."""
    for name in AUTOREPLY_FIELDS:
        if name in fields:
            setattr(rule, name, fields[name])
    rule.save()
    return rule


def set_autoreply_mode(
    rule: AutoReplyRule, *, actor: User | None, actor_membership: Membership, mode: str
) -> AutoReplyRule:
    """Only an owner lets a rule publish for real; anyone allowed to edit may go back to shadow.

    Raises OwnerRoleRequired when a non-owner asks for publish mode.
    """
    if mode == AutoReplyRule.Mode.PUBLISH and not actor_membership.has_role(Membership.Role.OWNER):
        raise OwnerRoleRequired
    rule.mode = AutoReplyRule.Mode(mode)
    rule.save(update_fields=["mode", "updated_at"])
    logger.info(
        "Auto-reply mode changed",
        extra={"workspace_id": rule.workspace_id, "rule_id": rule.pk, "mode": rule.mode},
    )
    return rule


def delete_autoreply_rule(rule: AutoReplyRule, *, actor: User | None) -> None:
    rule.delete()


def shadow_summary_function() -> Callable[[AutoReplyRule], Any] | None:
    """`intelligence.autoreply.shadow_summary`, when that module provides it."""
    try:
        module = importlib.import_module("intelligence.autoreply")
    except ImportError:
        return None
    function = getattr(module, "shadow_summary", None)
    return function if callable(function) else None


# --- Stop-words ----------------------------------------------------------------------------
def normalize_stop_words(words: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, without blanks or repeats, in the order given."""
    seen: dict[str, None] = {}
    for word in words:
        cleaned = " ".join(word.split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def update_stop_words(
    workspace: Workspace, *, actor: User | None, words: Iterable[str]
) -> list[str]:
    """Replace the workspace's guardrail stop-words; returns the stored list."""
    workspace.stop_words = normalize_stop_words(words)
    workspace.save(update_fields=["stop_words", "updated_at"])
    return workspace.stop_words


# --- LLM usage -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UsageDay:
    day: date
    requests: int
    prompt_tokens: int
    completion_tokens: int
    failures: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class LLMUsageReport:
    days: tuple[UsageDay, ...]  # newest first, one per day (zeros where nothing was used)
    requests: int
    prompt_tokens: int
    completion_tokens: int
    failures: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def llm_usage_report(workspace: Workspace, *, today: date) -> LLMUsageReport:
    """LLM usage per day for the last 30 days (today included), with totals; one query."""
    since = today - timedelta(days=LLM_USAGE_DAYS - 1)
    rows = LLMUsage.objects.for_workspace(workspace).filter(day__gte=since, day__lte=today)
    by_day = {row.day: row for row in rows}
    days = []
    for offset in range(LLM_USAGE_DAYS):
        day = today - timedelta(days=offset)
        row = by_day.get(day)
        days.append(
            UsageDay(
                day=day,
                requests=row.requests if row else 0,
                prompt_tokens=row.prompt_tokens if row else 0,
                completion_tokens=row.completion_tokens if row else 0,
                failures=row.failures if row else 0,
            )
        )
    return LLMUsageReport(
        days=tuple(days),
        requests=sum(d.requests for d in days),
        prompt_tokens=sum(d.prompt_tokens for d in days),
        completion_tokens=sum(d.completion_tokens for d in days),
        failures=sum(d.failures for d in days),
    )
