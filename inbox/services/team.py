"""Team members of a workspace: invite, change role, remove.

Rules: admins and owners manage members; only an owner grants the owner role or changes or
removes an owner; a workspace always keeps at least one owner.
"""

import logging

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from inbox.exceptions import AlreadyMember, LastOwnerCannotLeave, OwnerRoleRequired
from inbox.models import Membership, User, Workspace
from inbox.selectors import forget_member_choices

logger = logging.getLogger(__name__)


def team_members(workspace: Workspace) -> list[Membership]:
    """Memberships with their users, owners first."""
    order = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.AGENT: 2}
    members = list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__email")
    )
    return sorted(members, key=lambda m: order.get(Membership.Role(m.role), 9))


def roles_grantable_by(actor_membership: Membership) -> list[tuple[str, str]]:
    """The role choices the actor may hand out."""
    allowed = [Membership.Role.ADMIN, Membership.Role.AGENT]
    if actor_membership.has_role(Membership.Role.OWNER):
        allowed.insert(0, Membership.Role.OWNER)
    return [(role.value, str(role.label)) for role in allowed]


def _require_may_touch(actor_membership: Membership, *, role: str) -> None:
    if role == Membership.Role.OWNER and not actor_membership.has_role(Membership.Role.OWNER):
        raise OwnerRoleRequired
    if not actor_membership.has_role(Membership.Role.ADMIN):
        raise OwnerRoleRequired


def _invite_link(user: User, *, base_url: str) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


@transaction.atomic
def invite_member(
    workspace: Workspace,
    *,
    actor: User,
    actor_membership: Membership,
    email: str,
    role: str,
    full_name: str = "",
    base_url: str,
) -> Membership:
    """Add a person to the workspace and e-mail them.

    A new person gets a user with an unusable password and a link to choose one (the password
    reset link). Someone who already has an account is told they were added. The e-mail is sent
    after commit. Raises AlreadyMember, OwnerRoleRequired.
    """
    _require_may_touch(actor_membership, role=role)
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    is_new = user is None
    if user is None:
        user = User.objects.create_user(email, None, full_name=full_name)
    elif Membership.objects.filter(workspace=workspace, user=user).exists():
        raise AlreadyMember
    membership = Membership.objects.create(user=user, workspace=workspace, role=role)
    forget_member_choices(workspace.pk)
    context = {
        "workspace": workspace,
        "inviter": actor,
        "role": membership.get_role_display(),
        "is_new": is_new,
        "link": _invite_link(user, base_url=base_url)
        if is_new
        else base_url.rstrip("/") + reverse("login"),
    }
    subject = render_to_string("inbox/settings/invite_subject.txt", context).strip()
    body = render_to_string("inbox/settings/invite_email.txt", context)
    recipient = user.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [recipient]))
    logger.info(
        "Member invited",
        extra={
            "workspace_id": workspace.pk,
            "actor_id": actor.pk,
            "membership_id": membership.pk,
            "is_new_user": is_new,
        },
    )
    return membership


def _owners_left_without(membership: Membership) -> int:
    owners = (
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
    )
    return len(list(owners))


@transaction.atomic
def change_member_role(
    membership: Membership, *, actor: User, actor_membership: Membership, role: str
) -> Membership:
    """Raises OwnerRoleRequired, LastOwnerCannotLeave."""
    _require_may_touch(actor_membership, role=role)
    _require_may_touch(actor_membership, role=membership.role)
    if (
        membership.role == Membership.Role.OWNER
        and role != Membership.Role.OWNER
        and _owners_left_without(membership) == 0
    ):
        raise LastOwnerCannotLeave
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    logger.info(
        "Member role changed",
        extra={
            "workspace_id": membership.workspace_id,
            "actor_id": actor.pk,
            "membership_id": membership.pk,
            "role": role,
        },
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, actor: User, actor_membership: Membership) -> None:
    """Raises OwnerRoleRequired, LastOwnerCannotLeave. The user account itself is kept."""
    _require_may_touch(actor_membership, role=membership.role)
    if membership.role == Membership.Role.OWNER and _owners_left_without(membership) == 0:
        raise LastOwnerCannotLeave
    membership_id, workspace_id = membership.pk, membership.workspace_id
    membership.delete()
    forget_member_choices(workspace_id)
    logger.info(
        "Member removed",
        extra={"workspace_id": workspace_id, "actor_id": actor.pk, "membership_id": membership_id},
    )
