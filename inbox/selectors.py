"""Reads for pages and jobs (CONVENTIONS §4)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from inbox.models import Interaction, MarketplaceAccount, Workspace


@dataclass(frozen=True, slots=True)
class WorkspaceSummary:
    accounts: int
    open_interactions: int
    awaiting_reply: int
    overdue: int
    new_today: int


def workspace_summary(workspace: Workspace, *, now: datetime) -> WorkspaceSummary:
    """Headline counts for the workspace home page, in one query per table."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    awaiting = Q(needs_response=True, first_response_at__isnull=True) & ~Q(
        status=Interaction.Status.CLOSED
    )
    counts = Interaction.objects.for_workspace(workspace).aggregate(
        open=Count("id", filter=~Q(status=Interaction.Status.CLOSED)),
        awaiting=Count("id", filter=awaiting),
        overdue=Count("id", filter=awaiting & Q(sla_deadline_at__lt=now)),
        new_today=Count("id", filter=Q(occurred_at__gte=day_start)),
    )
    return WorkspaceSummary(
        accounts=MarketplaceAccount.objects.for_workspace(workspace).count(),
        open_interactions=counts["open"],
        awaiting_reply=counts["awaiting"],
        overdue=counts["overdue"],
        new_today=counts["new_today"],
    )
