"""The unified inbox: list, conversation, context, bulk triage, saved views, presence."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotModified, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget, trigger_client_event

from agentiq.errors import DomainError
from connectors.registry import answer_edits
from inbox import selectors
from inbox.forms import (
    AssignForm,
    BulkActionForm,
    GuardrailCheckForm,
    InboxCursorForm,
    InboxFilterForm,
    NoteForm,
    PresenceForm,
    ProductSearchForm,
    ReplyForm,
    SavedViewForm,
    StatusForm,
    TemplateInsertForm,
)
from inbox.models import Interaction, Membership, Message, ReplyTemplate
from inbox.services import bulk as bulk_services
from inbox.services import interactions as interaction_services
from inbox.services import presence
from inbox.services import saved_views as saved_view_services
from inbox.services.replies import queue_reply
from inbox.services.reply_checks import answer_is_editable, chat_draft_predates
from inbox.tenancy import WorkspaceRequest, workspace_required
from intelligence.guardrails import Verdict
from intelligence.services import check_outgoing_guardrails

TEMPLATE = "inbox/inbox.html"
FINAL_DELIVERY = {"sent", "confirmed", "failed", "dry_run", "cancelled"}


def _notify(request: WorkspaceRequest, level: int, text: str) -> None:
    """A flash notice for full-page (PRG) responses; htmx responses show their own state."""
    if not request.htmx:
        messages.add_message(request, level, text)


def _is_partial(request: WorkspaceRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _as_query(filters: dict[str, Any]) -> str:
    """The filters as a query string (only what is set), for links, polls and saved views."""
    pairs = []
    for name in InboxFilterForm.FILTER_FIELDS:
        value = filters.get(name)
        if value in (None, "", False) or (name == "sort" and value == "newest"):
            continue
        pairs.append((name, "on" if value is True else str(value)))
    return urlencode(pairs)


def _list_part(request: WorkspaceRequest) -> str:
    """What an inbox request renders: the full page (""), the list, or more rows of it."""
    if not _is_partial(request):
        return ""
    target = request.htmx.target or ""
    if target.startswith("interaction-list-more"):
        return "interaction-rows"
    if target == "filter-controls":
        return "filter-controls"
    return "interaction-list"


def _filter_controls(
    request: WorkspaceRequest, form: InboxFilterForm, *, shown: bool
) -> dict[str, Any]:
    """The filter form (`form`: parsed, without choices). Its account, product and member
    choices are loaded when the filters are `shown`: with the page when some are set, else
    when the seller opens them."""
    if not shown:
        return {"filter_form": form, "filter_choices_pending": True}
    choices = selectors.inbox_choices(request.workspace, product_id=form.filters()["product"])
    return {"filter_form": InboxFilterForm(form.data, choices=choices)}


def _list_context(request: WorkspaceRequest, data: QueryDict, *, part: str = "") -> dict[str, Any]:
    """The list pane for `part` (see `_list_part`): more rows need no total; the full page
    also gets the filter controls."""
    form = InboxFilterForm(data)
    filters = form.filters()
    now = timezone.now()
    cursor_form = InboxCursorForm(data)
    cursor_form.is_valid()
    page = selectors.inbox_page(
        request.workspace,
        filters,
        user=request.user,
        now=now,
        cursor=cursor_form.cleaned_data.get("cursor", ""),
        with_total=part != "interaction-rows",
    )
    filter_query = _as_query(filters)
    link_query = f"?{filter_query}" if filter_query else ""
    context = {
        "list_url": reverse("inbox:inbox") + link_query,
        "filter_query": filter_query,
        "page": page,
        "rows": selectors.inbox_rows(page.rows, now=now, link_query=link_query),
        "now": now,
        "bulk_actions": BulkActionForm.ACTIONS,
    }
    if not part:
        context.update(_filter_controls(request, form, shown=bool(filter_query)))
        # counting every view's matches can take long: the page asks for them once loaded
        context.update(_saved_views_context(request, with_counts=False))
    return context


@require_GET
@vary_on_headers("HX-Request")
@workspace_required
def inbox(request: WorkspaceRequest) -> HttpResponse:
    """The inbox page; with htmx, the list (or the next rows) only. A poll carrying the
    fingerprint it last saw gets 204 ("nothing changed", htmx swaps nothing)."""
    if _is_partial(request):
        seen = InboxCursorForm(request.GET)
        seen.is_valid()
        if seen.cleaned_data.get("fingerprint"):
            filters = InboxFilterForm(request.GET).filters()
            current = selectors.inbox_fingerprint(
                request.workspace, filters, user=request.user, now=timezone.now()
            )
            if current == seen.cleaned_data["fingerprint"]:
                return HttpResponse(status=204)
    part = _list_part(request)
    if part == "filter-controls":
        form = InboxFilterForm(request.GET)
        controls = {
            "filter_query": _as_query(form.filters()),
            **_filter_controls(request, form, shown=True),
        }
        return render(request, f"{TEMPLATE}#filter-controls", controls)
    context = _list_context(request, request.GET, part=part)
    if request.GET.get("batch", "").isalnum():
        context.update(_bulk_context(request, request.GET["batch"][:64]))
    fingerprint = context["page"].fingerprint  # none for more rows
    etag = f'"{fingerprint}"'
    if fingerprint and request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    response = render(request, f"{TEMPLATE}#{part}" if part else TEMPLATE, context)
    if fingerprint:
        response["ETag"] = etag
    return response


@require_GET
@workspace_required
def inbox_product_options(request: WorkspaceRequest) -> HttpResponse:
    """The product filter's options for what the seller typed into its search box."""
    form = ProductSearchForm(request.GET)
    form.is_valid()
    chosen = form.cleaned_data.get("product")
    products = selectors.product_search(
        request.workspace, form.cleaned_data.get("product_q", ""), chosen=chosen
    )
    return render(request, f"{TEMPLATE}#product-options", {"products": products, "chosen": chosen})


# --- one interaction ---------------------------------------------------------------------------


def _load(request: WorkspaceRequest, pk: int) -> Interaction:
    return get_object_or_404(Interaction.objects.for_workspace(request.workspace), pk=pk)


def _answer_state(interaction: Interaction, now: Any) -> dict[str, Any]:
    can_edit = answer_is_editable(interaction, now=now)
    is_chat = interaction.channel == "chat"
    return {
        "can_edit_answer": can_edit,
        "answer_replaceable": answer_edits(interaction.marketplace).by_replacing,
        "can_reply": is_chat or not interaction.is_answered or can_edit,
        "is_edit_mode": (not is_chat) and interaction.is_answered and can_edit,
    }


def _verdict(interaction: Interaction, text: str) -> Verdict | None:
    """The same guardrail verdict `queue_reply` will apply (rules, stop-words, repetition)."""
    if not text.strip():
        return None
    return check_outgoing_guardrails(interaction, text)


def _composer_context(
    interaction: Interaction,
    *,
    now: Any,
    text: str | None = None,
    reply_form: ReplyForm | None = None,
    outbound: Message | None = None,
    templates: list[ReplyTemplate] | None = None,
    just_sent: bool = False,
) -> dict[str, Any]:
    state = _answer_state(interaction, now)
    if text is None:
        text = interaction.draft
        if state["is_edit_mode"] and outbound is not None:
            text = outbound.text
        elif chat_draft_predates(interaction, outbound):
            text = ""  # it would repeat what the buyer already has
    form = reply_form or ReplyForm(initial={"text": text, "is_edit": state["is_edit_mode"]})
    return {
        **state,
        "interaction": interaction,
        "reply_form": form,
        "verdict": _verdict(interaction, text),
        "outbound": outbound,
        "templates": templates if templates is not None else [],
        "template_form": TemplateInsertForm(templates=templates or []),
        "just_sent": just_sent,
        "final_delivery": FINAL_DELIVERY,
    }


def _detail_context(request: WorkspaceRequest, interaction: Interaction) -> dict[str, Any]:
    now = timezone.now()
    conversation = selectors.conversation_messages(interaction)
    # the newest reply of ours, as `selectors.latest_outbound` would load it
    outbound = next(
        (m for m in reversed(conversation) if m.direction == Message.Direction.OUTBOUND), None
    )
    templates = selectors.reply_templates(request.workspace, channel=interaction.channel)
    return {
        **_composer_context(interaction, now=now, outbound=outbound, templates=templates),
        "conversation": conversation,
        "timeline_pending": True,  # the history loads when it is opened
        "journey": selectors.customer_journey(interaction),
        "analysis": interaction.ai_analysis or {},
        "note_form": NoteForm(),
        "status_form": StatusForm(initial={"status": interaction.status}),
        "assign_form": AssignForm(
            initial={"assignee": interaction.assignee_id},
            members=selectors.member_choices(request.workspace),
        ),
        "viewers": presence.interaction_viewers(interaction, exclude=request.user),
        "restore_draft": True,
        "now": now,
    }


@require_GET
@vary_on_headers("HX-Request")
@workspace_required
def interaction_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """The conversation pane (a full page without htmx), or its history when opened."""
    if _is_partial(request) and request.htmx.target == "interaction-timeline":
        interaction = _load(request, pk)
        timeline = selectors.interaction_timeline(interaction)
        context = {"interaction": interaction, "timeline": timeline}
        return render(request, f"{TEMPLATE}#interaction-timeline", context)
    interaction = selectors.interaction_for_page(request.workspace, pk)
    context = _detail_context(request, interaction)
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#interaction-detail", context)
    context.update(_list_context(request, request.GET))
    return render(request, TEMPLATE, context)


def _back_to(interaction: Interaction) -> HttpResponse:
    return redirect("inbox:interaction-detail", pk=interaction.pk)


@require_POST
@workspace_required
def interaction_read(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = _load(request, pk)
    if interaction.unread_count:
        interaction_services.mark_read(interaction, actor=request.user)
    if request.htmx:
        response = HttpResponse(status=204)
        return trigger_client_event(response, "interaction-changed", {"pk": interaction.pk})
    return _back_to(interaction)


@require_POST
@workspace_required
def interaction_check(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Guardrail findings for the text being typed (debounced by htmx)."""
    interaction = selectors.interaction_for_page(request.workspace, pk)
    form = GuardrailCheckForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    context = {"verdict": _verdict(interaction, text), "interaction": interaction}
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#guardrail-findings", context)
    detail = _detail_context(request, interaction)
    detail.update(
        _composer_context(
            interaction,
            now=detail["now"],
            text=text,
            outbound=detail["outbound"],
            templates=detail["templates"],
        )
    )
    detail.update(_list_context(request, QueryDict()))
    return render(request, TEMPLATE, detail)


@require_POST
@workspace_required
def interaction_reply(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Queue the reply (or an edit of the published answer) through the outbox."""
    interaction = selectors.interaction_for_page(request.workspace, pk)
    form = ReplyForm(request.POST)
    outbound = None
    if form.is_valid():
        try:
            outbound = queue_reply(
                interaction,
                text=form.cleaned_data["text"],
                actor=request.user,
                is_edit=form.cleaned_data["is_edit"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
    now = timezone.now()
    sent = outbound is not None
    if sent:
        interaction = selectors.interaction_for_page(request.workspace, pk)
    if not request.htmx:
        if sent:
            _notify(request, messages.SUCCESS, _("The reply is queued for publishing."))
            return _back_to(interaction)
        # An ErrorList yields plain strings (the stubs say ValidationError | str | promise).
        for problem in form.non_field_errors() + form.errors.get("text", []):
            _notify(request, messages.ERROR, str(problem))
        return _back_to(interaction)
    templates = selectors.reply_templates(request.workspace, channel=interaction.channel)
    context = _composer_context(
        interaction,
        now=now,
        text=None if sent else request.POST.get("text", ""),
        reply_form=None if sent else form,
        outbound=outbound if sent else selectors.latest_outbound(interaction),
        templates=templates,
        just_sent=sent,
    )
    response = render(request, f"{TEMPLATE}#composer", context)
    if sent:
        trigger_client_event(response, "interaction-changed", {"pk": interaction.pk})
    return response


@require_GET
@workspace_required
def interaction_delivery(request: WorkspaceRequest, pk: int, message_id: int) -> HttpResponse:
    """The delivery state of one outbound message; polled by htmx until it is final."""
    interaction = selectors.interaction_for_page(request.workspace, pk)
    outbound = get_object_or_404(
        Message.objects.for_workspace(request.workspace).filter(interaction=interaction),
        pk=message_id,
        direction=Message.Direction.OUTBOUND,
    )
    if not _is_partial(request):
        return _back_to(interaction)
    if outbound.delivery_status in FINAL_DELIVERY:
        # The answer state changed with it (published text, edits left): the whole pane.
        detail = _detail_context(request, interaction)
        response = render(request, f"{TEMPLATE}#interaction-detail", detail)
        return reswap(retarget(response, "#interaction-detail"), "outerHTML")
    context = {"outbound": outbound, "interaction": interaction, "final_delivery": FINAL_DELIVERY}
    return render(request, f"{TEMPLATE}#delivery-state", context)


@require_POST
@workspace_required
def interaction_note(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = _load(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            interaction_services.add_note(
                interaction, text=form.cleaned_data["text"], actor=request.user
            )
        except DomainError as error:
            errors = [str(error)]
        else:
            errors = []
            _notify(request, messages.SUCCESS, _("Note added."))
    else:
        errors = [_("A note cannot be empty.")]
    for problem in errors:
        _notify(request, messages.ERROR, problem)
    return _refresh_detail(request, interaction, errors=errors)


def _refresh_detail(
    request: WorkspaceRequest, interaction: Interaction, *, errors: list[str] | None = None
) -> HttpResponse:
    """After a change: htmx gets the refreshed detail (and the list hears about it)."""
    if not request.htmx:
        return _back_to(interaction)
    interaction = selectors.interaction_for_page(request.workspace, interaction.pk)
    context = _detail_context(request, interaction)
    context["action_errors"] = errors or []
    response = render(request, f"{TEMPLATE}#interaction-detail", context)
    return trigger_client_event(response, "interaction-changed", {"pk": interaction.pk})


@require_POST
@workspace_required
def interaction_status(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = _load(request, pk)
    form = StatusForm(request.POST)
    errors: list[str] = []
    if form.is_valid():
        hours = form.cleaned_data.get("snooze_hours")
        try:
            interaction_services.change_status(
                interaction,
                status=form.cleaned_data["status"],
                actor=request.user,
                snoozed_until=timezone.now() + timedelta(hours=hours) if hours else None,
            )
        except DomainError as error:
            errors = [str(error)]
        else:
            _notify(request, messages.SUCCESS, _("Status changed."))
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
    for problem in errors:
        _notify(request, messages.ERROR, problem)
    return _refresh_detail(request, interaction, errors=errors)


@require_POST
@workspace_required
def interaction_assign(request: WorkspaceRequest, pk: int) -> HttpResponse:
    interaction = _load(request, pk)
    members = {m.user_id: m.user for m in selectors.workspace_members(request.workspace)}
    form = AssignForm(
        request.POST, members=[(user_id, user.get_full_name()) for user_id, user in members.items()]
    )
    if form.is_valid():
        assignee = members.get(form.cleaned_data["assignee"])
        interaction_services.assign_interaction(interaction, assignee=assignee, actor=request.user)
        _notify(request, messages.SUCCESS, _("Assignee changed."))
        errors = []
    else:
        errors = [_("Choose a member of this workspace.")]
        _notify(request, messages.ERROR, errors[0])
    return _refresh_detail(request, interaction, errors=errors)


@require_GET
@workspace_required
def interaction_template(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """The composer with a template's text ({name}, {product} filled) added to what's typed."""
    interaction = selectors.interaction_for_page(request.workspace, pk)
    templates = selectors.reply_templates(request.workspace, channel=interaction.channel)
    form = TemplateInsertForm(request.GET, templates=templates)
    typed = request.GET.get("text", "")
    text = typed
    if form.is_valid():
        template = next(t for t in templates if t.pk == form.cleaned_data["template"])
        filled = template.text.replace("{name}", interaction.customer_name or "").replace(
            "{product}", str(interaction.product) if interaction.product else ""
        )
        text = f"{typed.rstrip()}\n\n{filled}" if typed.strip() else filled
    now = timezone.now()
    context = _composer_context(
        interaction,
        now=now,
        text=text,
        reply_form=ReplyForm(
            initial={"text": text, "is_edit": _answer_state(interaction, now)["is_edit_mode"]}
        ),
        outbound=selectors.latest_outbound(interaction),
        templates=templates,
    )
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#composer", context)
    detail = _detail_context(request, interaction)
    detail.update(context)
    detail.update(_list_context(request, QueryDict()))
    return render(request, TEMPLATE, detail)


@require_POST
@workspace_required
def interaction_presence(request: WorkspaceRequest, pk: int) -> HttpResponse:
    """Heartbeat: "I have this open (and am typing)"; answers with who else is here."""
    interaction = _load(request, pk)
    form = PresenceForm(request.POST)
    is_typing = form.is_valid() and form.cleaned_data["typing"]
    presence.touch_presence(interaction, user=request.user, is_typing=is_typing)
    context = {
        "interaction": interaction,
        "viewers": presence.interaction_viewers(interaction, exclude=request.user),
    }
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#presence", context)
    return _back_to(interaction)


# --- bulk triage -------------------------------------------------------------------------------


def _bulk_context(request: WorkspaceRequest, batch: str) -> dict[str, Any]:
    progress = bulk_services.batch_progress(request.workspace, batch)
    if progress is None:
        return {"batch": None}
    states = selectors.delivery_summary(request.workspace, message_ids=progress.message_ids)
    done = sum(n for state, n in states.items() if state in FINAL_DELIVERY)
    total = len(progress.message_ids)
    return {
        "batch": batch,
        "action": progress.action,
        "running": progress.running,
        "stopped": progress.stopped,
        "total": total,
        "done": done,
        "failed": states.get("failed", 0),
        "closed": progress.closed,
        "skipped": sum(progress.skipped.values()),
        "skipped_by_reason": bulk_services.skip_reasons(progress.skipped),
        "is_finished": not progress.running
        and (progress.action == bulk_services.CLOSE or done >= total),
        "backlog": selectors.outbox_backlog(request.workspace, account_ids=progress.account_ids),
    }


@require_POST
@workspace_required
def inbox_bulk(request: WorkspaceRequest) -> HttpResponse:
    """Approve-and-publish (or close) the selected items, or everything the filter matches
    (in the background; the result area follows its progress)."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors():
            _notify(request, messages.ERROR, str(error))
        return _bulk_response(request, {"batch": None, "errors": form.non_field_errors()})
    targets: dict[str, Any] = (
        {"filters": InboxFilterForm(QueryDict(form.cleaned_data["filter"])).filters()}
        if form.cleaned_data["scope"] == "all"
        else {"ids": form.cleaned_data["ids"]}
    )
    batch = bulk_services.start_batch(
        request.workspace, actor=request.user, action=form.cleaned_data["action"], **targets
    )
    return _bulk_response(request, _bulk_context(request, batch), batch=batch)


def _bulk_response(
    request: WorkspaceRequest, context: dict[str, Any], *, batch: str | None = None
) -> HttpResponse:
    if not request.htmx:
        url = reverse("inbox:inbox")
        return redirect(f"{url}?{urlencode({'batch': batch})}" if batch else url)
    response = render(request, f"{TEMPLATE}#bulk-result", context)
    return trigger_client_event(response, "interaction-changed", {})


@require_GET
@workspace_required
def inbox_bulk_progress(request: WorkspaceRequest) -> HttpResponse:
    form = InboxCursorForm(request.GET)  # reuses its short text field shape
    batch = request.GET.get("batch", "")
    if not form.is_valid() or not batch.isalnum() or len(batch) > 64:
        return render(request, f"{TEMPLATE}#bulk-result", {"batch": None})
    context = _bulk_context(request, batch)
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#bulk-result", context)
    return redirect(f"{reverse('inbox:inbox')}?{urlencode({'batch': batch})}")


# --- saved views -------------------------------------------------------------------------------


def _saved_views_context(request: WorkspaceRequest, *, with_counts: bool = True) -> dict[str, Any]:
    """The saved views, with their live counts unless the page loads those right after."""
    views = selectors.visible_saved_views(request.workspace, user=request.user)
    labels: dict[int, str] = {}
    if with_counts:
        view_filters = {view.pk: InboxFilterForm(QueryDict(view.query)).filters() for view in views}
        counts = selectors.saved_view_counts(
            request.workspace, view_filters, user=request.user, now=timezone.now()
        )
        limit = selectors.SEARCH_COUNT_LIMIT
        labels = {pk: f"{limit}+" if n > limit else str(n) for pk, n in counts.items()}
    return {
        "saved_views": [(view, labels.get(view.pk, "")) for view in views],
        "saved_view_counts_pending": not with_counts,
        "can_share_views": request.membership.has_role(Membership.Role.ADMIN),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@workspace_required
def saved_views(request: WorkspaceRequest) -> HttpResponse:
    """GET: the saved views with live counts (partial). POST: save the current filter."""
    if request.method == "POST":
        form = SavedViewForm(request.POST)
        if form.is_valid():
            try:
                saved_view_services.create_saved_view(
                    request.workspace, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                _notify(request, messages.ERROR, str(error))
            else:
                _notify(request, messages.SUCCESS, _("View saved."))
        else:
            _notify(request, messages.ERROR, _("Give the view a name."))
        if not request.htmx:
            return redirect(f"{reverse('inbox:inbox')}?{form.data.get('query', '')}")
    if _is_partial(request):
        return render(request, f"{TEMPLATE}#saved-views", _saved_views_context(request))
    return redirect("inbox:inbox")


@require_POST
@workspace_required
def saved_view_delete(request: WorkspaceRequest, view_id: int) -> HttpResponse:
    visible = selectors.visible_saved_views(request.workspace, user=request.user)
    view = next((view for view in visible if view.pk == view_id), None)
    if view is None:
        raise Http404
    try:
        saved_view_services.delete_saved_view(view, actor=request.user)
    except DomainError as error:
        raise PermissionDenied(str(error)) from error
    _notify(request, messages.SUCCESS, _("View deleted."))
    if request.htmx:
        return render(request, f"{TEMPLATE}#saved-views", _saved_views_context(request))
    return redirect("inbox:inbox")
