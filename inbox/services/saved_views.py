"""Saved inbox views: a named filter, personal or shared with the team."""

from django.utils.translation import gettext_lazy as _

from agentiq.errors import DomainError
from inbox.models import Membership, SavedView, User, Workspace
from inbox.selectors import forget_saved_views


class SharingNeedsAdmin(DomainError):
    code = "sharing_needs_admin"
    message = _("Only an administrator can share a view with the team.")


class NotYourView(DomainError):
    code = "not_your_view"
    message = _("Only its author or an administrator can delete this view.")


def _is_admin(workspace: Workspace, user: User) -> bool:
    membership = Membership.objects.filter(workspace=workspace, user=user).first()
    return membership is not None and membership.has_role(Membership.Role.ADMIN)


def create_saved_view(
    workspace: Workspace, *, name: str, query: str, is_shared: bool, actor: User
) -> SavedView:
    """Save a filter. Raises `SharingNeedsAdmin` when an agent tries to share it."""
    if is_shared and not _is_admin(workspace, actor):
        raise SharingNeedsAdmin
    view = SavedView.objects.create(
        workspace=workspace, owner=actor, name=name, query=query, is_shared=is_shared
    )
    forget_saved_views(workspace.pk)
    return view


def delete_saved_view(view: SavedView, *, actor: User) -> None:
    """Delete a view; only its owner, or an administrator for a shared one."""
    if view.owner_id != actor.pk and not (view.is_shared and _is_admin(view.workspace, actor)):
        raise NotYourView
    view.delete()
    forget_saved_views(view.workspace_id)
