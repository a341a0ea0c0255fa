"""Marketplace accounts: connect (with a live credentials check), health, first-sync progress."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agentiq.errors import DomainError
from inbox.forms import (
    AccountConnectForm,
    AccountCredentialsForm,
    AccountToggleForm,
    AccountUpdateForm,
)
from inbox.models import Marketplace, MarketplaceAccount, Membership
from inbox.services import accounts as account_services
from inbox.tenancy import WorkspaceRequest, workspace_required

ADMIN = Membership.Role.ADMIN


def _is_partial(request: WorkspaceRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _roles(request: WorkspaceRequest) -> dict[str, bool]:
    return {
        "can_manage": request.membership.has_role(Membership.Role.ADMIN),
        "is_owner": request.membership.has_role(Membership.Role.OWNER),
    }


def _account(request: WorkspaceRequest, account_id: int) -> MarketplaceAccount:
    return get_object_or_404(
        MarketplaceAccount.objects.for_workspace(request.workspace), pk=account_id
    )


def _health(request: WorkspaceRequest, account: MarketplaceAccount) -> Any:
    found = account_services.account_health(
        request.workspace, account_ids=[account.pk], now=timezone.now()
    )
    return found[0]


@require_GET
@workspace_required
@vary_on_headers("HX-Request")
def account_list(request: WorkspaceRequest) -> HttpResponse:
    health = account_services.account_health(request.workspace, now=timezone.now())
    template = "inbox/settings/accounts.html"
    if _is_partial(request):
        template += "#account-table"
    return render(
        request, template, {"health": health, "settings_section": "accounts", **_roles(request)}
    )


@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def account_connect(request: WorkspaceRequest) -> HttpResponse:
    form = AccountConnectForm(request.POST or None, initial={"marketplace": Marketplace.WB})
    if request.method == "POST" and form.is_valid():
        try:
            account = account_services.connect_account(
                request.workspace, actor=request.user, **form.account_fields()
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The account is connected. The first sync has started."))
            return redirect("inbox:account-sync-progress", account_id=account.pk)
    return render(
        request,
        "inbox/settings/account_connect.html",
        {"form": form, "settings_section": "accounts", **_roles(request)},
    )


@require_POST
@workspace_required(role=ADMIN)
@vary_on_headers("HX-Request")
def account_check(request: WorkspaceRequest) -> HttpResponse:
    """Check the credentials typed into the connect form, without saving anything."""
    form = AccountConnectForm(request.POST)
    report = None
    details: dict[str, Any] = {}
    if form.is_valid():
        draft = account_services.build_account(request.workspace, **form.account_fields())
        report = account_services.check_connection(draft)
        details = {
            "token_label": account_services.token_type_label(report.token_type),
            "interval_minutes": max(1, round(report.suggested_interval_seconds / 60)),
            "channel_rows": account_services.report_channel_rows(report),
        }
    template = "inbox/settings/account_connect.html"
    if _is_partial(request):
        template += "#check-result"
    return render(
        request,
        template,
        {
            "form": form,
            "report": report,
            "checked": True,
            "settings_section": "accounts",
            **details,
            **_roles(request),
        },
    )


def _detail_context(
    request: WorkspaceRequest,
    account: MarketplaceAccount,
    *,
    update_form: AccountUpdateForm | None = None,
    credentials_form: AccountCredentialsForm | None = None,
) -> dict[str, Any]:
    return {
        "account": account,
        "health": _health(request, account),
        "masked_credentials": account_services.masked_credentials(account),
        "update_form": update_form
        or AccountUpdateForm(
            initial={
                "name": account.name,
                "sandbox_mode": account.sandbox_mode,
                "enabled_channels": account.enabled_channels,
            }
        ),
        "credentials_form": credentials_form
        or AccountCredentialsForm(marketplace=account.marketplace),
        "settings_section": "accounts",
        **_roles(request),
    }


@require_GET
@workspace_required
def account_detail(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    return render(request, "inbox/settings/account_detail.html", _detail_context(request, account))


@require_POST
@workspace_required(role=ADMIN)
def account_update(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = AccountUpdateForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, account, update_form=form)
        return render(request, "inbox/settings/account_detail.html", context)
    account_services.update_account(account, actor=request.user, **form.cleaned_data)
    messages.success(request, _("The account settings are saved."))
    return redirect("inbox:account-detail", account_id=account.pk)


@require_POST
@workspace_required(role=ADMIN)
def account_credentials_update(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = AccountCredentialsForm(request.POST, marketplace=account.marketplace)
    if form.is_valid():
        try:
            account_services.update_credentials(
                account, actor=request.user, credentials=form.credentials()
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The new credentials work. Syncing resumes."))
            return redirect("inbox:account-detail", account_id=account.pk)
    context = _detail_context(request, account, credentials_form=form)
    return render(request, "inbox/settings/account_detail.html", context)


@require_POST
@workspace_required(role=ADMIN)
def account_toggle(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = AccountToggleForm(request.POST)
    form.is_valid()  # a single optional boolean: always valid
    is_enabled = form.cleaned_data["is_enabled"]
    account_services.set_account_enabled(account, actor=request.user, is_enabled=is_enabled)
    if is_enabled:
        messages.success(request, _("The account is enabled. A sync has started."))
    else:
        messages.info(request, _("The account is paused: nothing is synced or published."))
    return redirect("inbox:account-detail", account_id=account.pk)


@require_POST
@workspace_required(role=ADMIN)
def account_sync_start(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    if not account.is_active:
        messages.error(request, _("The account is paused. Enable it first."))
        return redirect("inbox:account-detail", account_id=account.pk)
    account_services.start_sync(account, actor=request.user)
    messages.success(request, _("A sync has started."))
    return redirect("inbox:account-sync-progress", account_id=account.pk)


@require_POST
@workspace_required(role=ADMIN)
def account_delete(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    name = account.name
    account_services.delete_account(account, actor=request.user)
    messages.success(request, _("The account “%(name)s” is deleted.") % {"name": name})
    return redirect("inbox:account-list")


@require_GET
@workspace_required
@vary_on_headers("HX-Request")
def account_sync_progress(request: WorkspaceRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    template = "inbox/settings/account_sync.html"
    if _is_partial(request):
        template += "#sync-progress"
    context = {
        "health": _health(request, account),
        "settings_section": "accounts",
        **_roles(request),
    }
    return render(request, template, context)
