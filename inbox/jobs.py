"""RQ entry points of the inbox app (thin: re-load, call one service)."""

from django.contrib.sessions.models import Session
from django.utils import timezone

from inbox.models import Workspace
from inbox.services import bulk


def clear_expired_sessions_job() -> int:
    """Delete expired sessions (cross-tenant housekeeping, hence unscoped)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def bulk_action_job(workspace_id: int, batch: str) -> None:
    """Approve-and-publish or close everything a filter matches (`inbox.services.bulk`)."""
    bulk.run_batch(Workspace.objects.get(pk=workspace_id), batch)
