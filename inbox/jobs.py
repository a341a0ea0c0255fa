"""RQ entry points of the inbox app (thin: re-load, call one service)."""

from django.contrib.sessions.models import Session
from django.utils import timezone


def clear_expired_sessions_job() -> int:
    """Delete expired sessions (cross-tenant housekeeping, hence unscoped)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
