"""Workspaces, members and their defaults."""

from django.db import transaction

from inbox.exceptions import EmailAlreadyRegistered
from inbox.models import Channel, Membership, Priority, SLARule, User, Workspace

# Minutes to answer, per channel and priority: chats are live, reviews are public but slower.
DEFAULT_SLA_MINUTES: dict[str, dict[str, int]] = {
    Channel.CHAT: {Priority.URGENT: 15, Priority.HIGH: 30, Priority.NORMAL: 120, Priority.LOW: 480},
    Channel.QUESTION: {
        Priority.URGENT: 60,
        Priority.HIGH: 180,
        Priority.NORMAL: 720,
        Priority.LOW: 1440,
    },
    Channel.REVIEW: {
        Priority.URGENT: 120,
        Priority.HIGH: 480,
        Priority.NORMAL: 1440,
        Priority.LOW: 2880,
    },
}


@transaction.atomic
def create_workspace(name: str, *, owner: User, time_zone: str = "Europe/Moscow") -> Workspace:
    """Create a workspace with `owner` as its owner and the default SLA rules."""
    workspace = Workspace.objects.create(name=name, time_zone=time_zone)
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.Role.OWNER)
    SLARule.objects.bulk_create(
        SLARule(workspace=workspace, channel=channel, priority=priority, minutes=minutes)
        for channel, by_priority in DEFAULT_SLA_MINUTES.items()
        for priority, minutes in by_priority.items()
    )
    return workspace


@transaction.atomic
def sign_up(*, email: str, password: str, full_name: str, company: str) -> User:
    """Create a user and their first workspace, of which they are the owner."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyRegistered
    user = User.objects.create_user(email, password, full_name=full_name)
    create_workspace(company, owner=user)
    return user
