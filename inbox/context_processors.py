from typing import Any, cast

from django.http import HttpRequest
from django.urls import reverse

from inbox.tenancy import WorkspaceRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current workspace and the user's other workspaces, for the header switcher."""
    ws = getattr(request, "workspace", None)
    if ws is None:
        return {}
    # WorkspaceMiddleware sets a workspace only for a logged-in member, with their membership.
    member_request = cast(WorkspaceRequest, request)
    return {
        "inbox_url": reverse("inbox:inbox"),  # printed many times on inbox pages
        "workspace": ws,
        "membership": member_request.membership,
        "user_memberships": sorted(
            member_request.memberships, key=lambda m: (m.workspace.name, m.workspace_id)
        ),
    }
