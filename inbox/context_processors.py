from typing import Any, cast

from django.http import HttpRequest

from inbox.models import Membership
from inbox.tenancy import WorkspaceRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current workspace and the user's other workspaces, for the header switcher."""
    ws = getattr(request, "workspace", None)
    if ws is None:
        return {}
    # WorkspaceMiddleware sets a workspace only for a logged-in member, with their membership.
    member_request = cast(WorkspaceRequest, request)
    return {
        "workspace": ws,
        "membership": member_request.membership,
        "user_memberships": Membership.objects.filter(user=member_request.user)
        .select_related("workspace")
        .order_by("workspace__name"),
    }
