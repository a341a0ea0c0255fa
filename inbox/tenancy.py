"""Tenancy plumbing: the request's workspace, role checks, and the typed request.

The workspace is decided once per request by `WorkspaceMiddleware` (the session's choice,
checked against the user's memberships). Views load rows only through
`Model.objects.for_workspace(request.workspace)`, so a foreign id gets the same 404 as a
missing one.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from inbox.models import Membership, User, Workspace

SESSION_WORKSPACE_KEY = "workspace_id"

P = ParamSpec("P")


class WorkspaceRequest(HttpRequest):
    user: User
    workspace: Workspace
    membership: Membership
    memberships: list[Membership]
    htmx: HtmxDetails


def _memberships_of(user_id: Any) -> list[Membership]:
    return list(
        Membership.objects.filter(user_id=user_id)
        .select_related("user", "workspace")
        .order_by("id")
    )


def user_memberships(user: User) -> list[Membership]:
    """The user's memberships with their workspaces, oldest first: those `MemberBackend`
    loaded with the user, else one query."""
    loaded: list[Membership] | None = getattr(user, "_loaded_memberships", None)
    return loaded if loaded is not None else _memberships_of(user.pk)


class MemberBackend(ModelBackend):
    """The model backend whose session lookup loads the user together with their memberships
    and workspaces (one query instead of two on every request)."""

    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        memberships = _memberships_of(user_id)
        if not memberships:  # not a member anywhere (yet)
            user = super().get_user(user_id)
            return user if isinstance(user, User) else None
        user = memberships[0].user
        if not self.user_can_authenticate(user):
            return None
        for membership in memberships:
            membership.user = user
        user._loaded_memberships = memberships  # type: ignore[attr-defined]
        return user


def current_membership(
    memberships: list[Membership], workspace_id: int | None
) -> Membership | None:
    """The membership of the chosen workspace, else of the user's first workspace."""
    chosen = next((m for m in memberships if m.workspace_id == workspace_id), None)
    return chosen or (memberships[0] if memberships else None)


class WorkspaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.workspace = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = user_memberships(user)
            request.memberships = memberships  # type: ignore[attr-defined]
            membership = current_membership(memberships, request.session.get(SESSION_WORKSPACE_KEY))
            if membership is not None:
                request.workspace = membership.workspace  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
                if request.session.get(SESSION_WORKSPACE_KEY) != membership.workspace_id:
                    request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
                timezone.activate(ZoneInfo(membership.workspace.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def workspace_required(
    view: Callable[..., HttpResponse] | None = None, *, role: str = Membership.Role.AGENT
) -> Any:
    """Require a logged-in member of the current workspace with at least `role`.

    An htmx request with an expired session gets a client-side redirect to the login page,
    so the login form is never swapped into a fragment.
    """

    def decorator(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                htmx: HtmxDetails | None = getattr(request, "htmx", None)
                if htmx:
                    back = htmx.current_url_abs_path or reverse(settings.LOGIN_REDIRECT_URL)
                    return HttpResponseClientRedirect(
                        reverse(settings.LOGIN_URL) + "?" + urlencode({"next": back})
                    )
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                return redirect("workspace-create")
            if not membership.has_role(role):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
