"""Settings pages: SLA, reply templates, auto-reply rules, stop-words, team, LLM usage.

Reading and changing settings needs an admin (agents get 403); granting or touching the owner
role, and letting an auto-reply rule publish, needs an owner (checked in the services).
"""

from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from agentiq.errors import DomainError
from inbox.forms import (
    AutoReplyModeForm,
    AutoReplyRuleForm,
    MemberInviteForm,
    MemberRoleForm,
    ReplyTemplateForm,
    SLARulesForm,
    StopWordsForm,
)
from inbox.models import AutoReplyRule, Membership, Priority, ReplyTemplate
from inbox.services import settings as settings_services
from inbox.services import team as team_services
from inbox.tenancy import WorkspaceRequest, workspace_required
from intelligence.services import engine_status

ADMIN = Membership.Role.ADMIN


def _is_partial(request: WorkspaceRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _context(request: WorkspaceRequest, section: str, **extra: Any) -> dict[str, Any]:
    return {
        "settings_section": section,
        "can_manage": request.membership.has_role(Membership.Role.ADMIN),
        "is_owner": request.membership.has_role(Membership.Role.OWNER),
        **extra,
    }


@require_GET
@workspace_required
def settings_index(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "inbox/settings/index.html", _context(request, "index"))


# --- SLA -----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def sla_rules(request: WorkspaceRequest) -> HttpResponse:
    current = settings_services.sla_minutes(request.workspace)
    form = SLARulesForm(request.POST or None, initial_minutes=current)
    if request.method == "POST" and form.is_valid():
        settings_services.update_sla_rules(
            request.workspace, actor=request.user, minutes=form.minutes()
        )
        messages.success(request, _("The SLA rules are saved."))
        return redirect("inbox:sla-rules")
    context = _context(request, "sla", form=form, priorities=Priority.choices)
    return render(request, "inbox/settings/sla.html", context)


# --- Reply templates -----------------------------------------------------------------------
@require_GET
@workspace_required(role=ADMIN)
def template_list(request: WorkspaceRequest) -> HttpResponse:
    templates = ReplyTemplate.objects.for_workspace(request.workspace).order_by("name")
    return render(
        request,
        "inbox/settings/templates.html",
        _context(request, "templates", templates=templates),
    )


@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def template_create(request: WorkspaceRequest) -> HttpResponse:
    form = ReplyTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            settings_services.create_reply_template(
                request.workspace, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("The template is saved."))
            return redirect("inbox:template-list")
    return render(
        request, "inbox/settings/template_form.html", _context(request, "templates", form=form)
    )


@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def template_update(request: WorkspaceRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(
        ReplyTemplate.objects.for_workspace(request.workspace), pk=template_id
    )
    initial = {"name": template.name, "text": template.text, "channel": template.channel}
    form = ReplyTemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            settings_services.update_reply_template(
                template, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("The template is saved."))
            return redirect("inbox:template-list")
    context = _context(request, "templates", form=form, template=template)
    return render(request, "inbox/settings/template_form.html", context)


@require_POST
@workspace_required(role=ADMIN)
def template_delete(request: WorkspaceRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(
        ReplyTemplate.objects.for_workspace(request.workspace), pk=template_id
    )
    settings_services.delete_reply_template(template, actor=request.user)
    messages.success(request, _("The template is deleted."))
    return redirect("inbox:template-list")


# --- Auto-reply rules ----------------------------------------------------------------------
def _rule_rows(rules: list[AutoReplyRule]) -> list[tuple[AutoReplyRule, Any]]:
    summarize = settings_services.shadow_summary_function()
    return [(rule, summarize(rule) if summarize else None) for rule in rules]


@require_GET
@workspace_required(role=ADMIN)
def autoreply_list(request: WorkspaceRequest) -> HttpResponse:
    rules = list(
        AutoReplyRule.objects.for_workspace(request.workspace).select_related(
            "workspace", "product", "template"
        )
    )
    context = _context(request, "autoreplies", rows=_rule_rows(rules))
    return render(request, "inbox/settings/autoreplies.html", context)


@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def autoreply_create(request: WorkspaceRequest) -> HttpResponse:
    form = AutoReplyRuleForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        settings_services.create_autoreply_rule(
            request.workspace, actor=request.user, **form.cleaned_data
        )
        messages.success(
            request, _("The rule is saved in shadow mode: it records what it would send.")
        )
        return redirect("inbox:autoreply-list")
    return render(
        request, "inbox/settings/autoreply_form.html", _context(request, "autoreplies", form=form)
    )


@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def autoreply_update(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(AutoReplyRule.objects.for_workspace(request.workspace), pk=rule_id)
    initial = {name: getattr(rule, name) for name in settings_services.AUTOREPLY_FIELDS}
    form = AutoReplyRuleForm(request.POST or None, initial=initial, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        settings_services.update_autoreply_rule(rule, actor=request.user, **form.cleaned_data)
        messages.success(request, _("The rule is saved."))
        return redirect("inbox:autoreply-list")
    context = _context(request, "autoreplies", form=form, rule=rule)
    return render(request, "inbox/settings/autoreply_form.html", context)


@require_POST
@workspace_required(role=ADMIN)
@vary_on_headers("HX-Request")
def autoreply_mode(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(AutoReplyRule.objects.for_workspace(request.workspace), pk=rule_id)
    form = AutoReplyModeForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Choose shadow or publish mode.")
    else:
        try:
            settings_services.set_autoreply_mode(
                rule,
                actor=request.user,
                actor_membership=request.membership,
                mode=form.cleaned_data["mode"],
            )
        except DomainError as failure:
            error = str(failure)
    if _is_partial(request):
        (row,) = _rule_rows([rule])
        context = _context(request, "autoreplies", row=row, row_error=error)
        return render(request, "inbox/settings/autoreplies.html#autoreply-row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The rule's mode is changed."))
    return redirect("inbox:autoreply-list")


@require_POST
@workspace_required(role=ADMIN)
def autoreply_delete(request: WorkspaceRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(AutoReplyRule.objects.for_workspace(request.workspace), pk=rule_id)
    settings_services.delete_autoreply_rule(rule, actor=request.user)
    messages.success(request, _("The rule is deleted."))
    return redirect("inbox:autoreply-list")


# --- Stop-words ----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@workspace_required(role=ADMIN)
def stop_words(request: WorkspaceRequest) -> HttpResponse:
    initial = {"stop_words": "\n".join(request.workspace.stop_words)}
    form = StopWordsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = settings_services.update_stop_words(
            request.workspace, actor=request.user, words=form.cleaned_data["stop_words"]
        )
        messages.success(request, _("Stop-words saved: %(count)d.") % {"count": len(saved)})
        return redirect("inbox:stop-words")
    return render(
        request, "inbox/settings/stop_words.html", _context(request, "stop-words", form=form)
    )


# --- Team ----------------------------------------------------------------------------------
def _team_context(request: WorkspaceRequest, **extra: Any) -> dict[str, Any]:
    choices = team_services.roles_grantable_by(request.membership)
    return _context(
        request,
        "team",
        members=team_services.team_members(request.workspace),
        role_choices=choices,
        invite_form=extra.pop("invite_form", None) or MemberInviteForm(role_choices=choices),
        **extra,
    )


def _membership(request: WorkspaceRequest, membership_id: int) -> Membership:
    # Membership is keyed by workspace too, but not a TenantModel: scope it explicitly.
    return get_object_or_404(
        Membership.objects.filter(workspace=request.workspace).select_related("user"),
        pk=membership_id,
    )


@require_GET
@workspace_required(role=ADMIN)
def member_list(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "inbox/settings/team.html", _team_context(request))


@require_POST
@workspace_required(role=ADMIN)
def member_invite(request: WorkspaceRequest) -> HttpResponse:
    choices = team_services.roles_grantable_by(request.membership)
    form = MemberInviteForm(request.POST, role_choices=choices)
    if form.is_valid():
        try:
            team_services.invite_member(
                request.workspace,
                actor=request.user,
                actor_membership=request.membership,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except DomainError as error:
            form.add_error("email", str(error))
        else:
            messages.success(
                request,
                _("%(email)s is added. We sent them an e-mail with a link to sign in.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("inbox:member-list")
    return render(request, "inbox/settings/team.html", _team_context(request, invite_form=form))


@require_POST
@workspace_required(role=ADMIN)
@vary_on_headers("HX-Request")
def member_role(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = MemberRoleForm(request.POST)
    error = ""
    if not form.is_valid():
        error = _("Choose a role.")
    else:
        try:
            team_services.change_member_role(
                membership,
                actor=request.user,
                actor_membership=request.membership,
                role=form.cleaned_data["role"],
            )
        except DomainError as failure:
            error = str(failure)
            membership.refresh_from_db()
    if _is_partial(request):
        context = _team_context(request, member=membership, row_error=error)
        return render(request, "inbox/settings/team.html#member-row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The role is changed."))
    return redirect("inbox:member-list")


@require_POST
@workspace_required(role=ADMIN)
def member_remove(request: WorkspaceRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    try:
        team_services.remove_member(
            membership, actor=request.user, actor_membership=request.membership
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(email)s is removed.") % {"email": membership.user.email})
    return redirect("inbox:member-list")


# --- LLM usage -----------------------------------------------------------------------------
@require_GET
@workspace_required(role=ADMIN)
def llm_usage(request: WorkspaceRequest) -> HttpResponse:
    report = settings_services.llm_usage_report(request.workspace, today=timezone.localdate())
    context = _context(
        request, "llm", report=report, engine=engine_status(), model=django_settings.LLM_MODEL
    )
    return render(request, "inbox/settings/llm_usage.html", context)
