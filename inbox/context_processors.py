from typing import Any

from django.http import HttpRequest

from inbox.models import Membership


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current workspace and the user's other workspaces, for the header switcher."""
    ws = getattr(request, "workspace", None)
    if ws is None:
        return {}
    return {
        "workspace": ws,
        "membership": request.membership,  # type: ignore[attr-defined]
        "user_memberships": Membership.objects.filter(user=request.user)
        .select_related("workspace")
        .order_by("workspace__name"),
    }
