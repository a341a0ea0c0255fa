from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agentiq.errors import DomainError
from inbox import selectors
from inbox.forms import LeadForm, SignUpForm, SwitchWorkspaceForm, WorkspaceForm
from inbox.models import Membership
from inbox.services import accounts as account_services
from inbox.services.workspaces import create_workspace, sign_up
from inbox.tenancy import SESSION_WORKSPACE_KEY, WorkspaceRequest, workspace_required


@require_http_methods(["GET", "POST"])
def landing(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Thank you! We will contact you within one working day."))
        return redirect("landing")
    return render(request, "inbox/landing.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_up(**form.cleaned_data)
        except DomainError as error:
            form.add_error("email", str(error.message))
        else:
            login(request, user, backend="inbox.tenancy.MemberBackend")
            messages.success(
                request, _("Welcome to AgentIQ! Connect a marketplace account to start.")
            )
            return redirect("inbox:home")
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def workspace_create(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = create_workspace(form.cleaned_data["name"], owner=request.user)  # type: ignore[arg-type]
        request.session[SESSION_WORKSPACE_KEY] = workspace.pk
        return redirect("inbox:home")
    return render(request, "inbox/workspace_create.html", {"form": form})


@require_POST
@workspace_required
def workspace_switch(request: WorkspaceRequest) -> HttpResponse:
    form = SwitchWorkspaceForm(request.POST)
    if not form.is_valid():
        return redirect("inbox:home")
    membership = get_object_or_404(
        Membership.objects.select_related("workspace"),
        user=request.user,
        workspace_id=form.cleaned_data["workspace"],
    )
    request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
    messages.info(request, _("Switched to %(name)s.") % {"name": membership.workspace.name})
    return redirect("inbox:home")


@require_GET
@workspace_required
def home(request: WorkspaceRequest) -> HttpResponse:
    now = timezone.now()
    summary = selectors.workspace_summary(request.workspace, now=now)
    alerts = account_services.accounts_needing_attention(request.workspace, now=now)
    return render(request, "inbox/home.html", {"summary": summary, "alerts": alerts})
