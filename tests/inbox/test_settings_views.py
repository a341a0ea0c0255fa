"""Settings pages: every page and partial, role permissions, validation, masked secrets."""

from datetime import date

import django_rq
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, override

from connectors.simulator.tokens import make_wb_token
from inbox.models import (
    AutoReplyRule,
    LLMUsage,
    MarketplaceAccount,
    Membership,
    ReplyTemplate,
    SLARule,
    User,
)
from tests.factories import make_account, make_interaction, make_member

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
SECRET = "wb-secret-token-value-4321"


def _ru(msgid: str) -> str:
    with override("ru"):
        return gettext(msgid)


def _html(response) -> str:
    return response.content.decode()


def _queries(client, url: str) -> int:
    client.get(url)  # the first visit stores the workspace in the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# --- navigation -----------------------------------------------------------------------------
def test_settings_link_is_in_the_header(owner_client):
    response = owner_client.get(reverse("inbox:home"))

    assert f'href="{reverse("inbox:settings-index")}"' in _html(response)


def test_settings_index_shows_every_section_to_an_owner(owner_client):
    response = owner_client.get(reverse("inbox:settings-index"))

    body = _html(response)
    for name in (
        "account-list",
        "sla-rules",
        "template-list",
        "autoreply-list",
        "stop-words",
        "member-list",
        "llm-usage",
    ):
        assert f'href="{reverse(f"inbox:{name}")}"' in body


def test_settings_index_shows_an_agent_only_the_accounts(agent_client):
    response = agent_client.get(reverse("inbox:settings-index"))

    body = _html(response)
    assert f'href="{reverse("inbox:account-list")}"' in body
    assert f'href="{reverse("inbox:sla-rules")}"' not in body


# --- permissions ----------------------------------------------------------------------------
ADMIN_ONLY_GETS = [
    "account-connect",
    "sla-rules",
    "template-list",
    "template-create",
    "autoreply-list",
    "autoreply-create",
    "stop-words",
    "member-list",
    "llm-usage",
]


@pytest.mark.parametrize("name", ADMIN_ONLY_GETS)
def test_agent_cannot_open_settings_pages(agent_client, name):
    assert agent_client.get(reverse(f"inbox:{name}")).status_code == 403


@pytest.mark.parametrize("name", ADMIN_ONLY_GETS)
def test_admin_opens_settings_pages(admin_client_member, name):
    response = admin_client_member.get(reverse(f"inbox:{name}"))

    assert response.status_code == 200
    assert "<html" in _html(response)


def test_agent_writes_are_refused_with_403(agent_client, workspace, owner):
    account = make_account(workspace=workspace)
    template = ReplyTemplate.objects.create(workspace=workspace, name="t", text="x")
    rule = AutoReplyRule.objects.create(workspace=workspace, name="r")
    membership = Membership.objects.get(user=owner, workspace=workspace)
    posts = [
        reverse("inbox:account-connect"),
        reverse("inbox:account-check"),
        reverse("inbox:account-update", args=[account.pk]),
        reverse("inbox:account-credentials-update", args=[account.pk]),
        reverse("inbox:account-toggle", args=[account.pk]),
        reverse("inbox:account-delete", args=[account.pk]),
        reverse("inbox:account-sync-start", args=[account.pk]),
        reverse("inbox:sla-rules"),
        reverse("inbox:template-create"),
        reverse("inbox:template-update", args=[template.pk]),
        reverse("inbox:template-delete", args=[template.pk]),
        reverse("inbox:autoreply-create"),
        reverse("inbox:autoreply-update", args=[rule.pk]),
        reverse("inbox:autoreply-mode", args=[rule.pk]),
        reverse("inbox:autoreply-delete", args=[rule.pk]),
        reverse("inbox:stop-words"),
        reverse("inbox:member-invite"),
        reverse("inbox:member-role", args=[membership.pk]),
        reverse("inbox:member-remove", args=[membership.pk]),
    ]

    statuses = {url: agent_client.post(url, {"role": "agent"}).status_code for url in posts}

    assert set(statuses.values()) == {403}
    assert MarketplaceAccount.objects.filter(pk=account.pk).exists()
    assert ReplyTemplate.objects.filter(pk=template.pk).exists()


def test_anonymous_htmx_request_gets_a_client_redirect_to_login(client, workspace):
    response = client.get(reverse("inbox:account-list"), **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login"))


# --- accounts list and detail ---------------------------------------------------------------
def test_account_list_shows_health_to_an_agent(agent_client, workspace, other_workspace):
    account = make_account(
        workspace=workspace,
        name="Основной WB",
        sync_error="Маркетплейс недоступен",
        token_info={"token_type": "base", "suggested_interval_seconds": 3600},
    )
    make_interaction(workspace=workspace, account=account)
    make_account(workspace=other_workspace, name="Чужой магазин")

    response = agent_client.get(reverse("inbox:account-list"))

    body = _html(response)
    assert "<html" in body
    assert "Основной WB" in body
    assert "Маркетплейс недоступен" in body
    assert "Чужой магазин" not in body
    assert reverse("inbox:account-connect") not in body  # agents cannot connect


def test_account_list_partial_for_htmx(owner_client, workspace):
    make_account(workspace=workspace, name="Основной WB")

    response = owner_client.get(reverse("inbox:account-list"), **HX)

    body = _html(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="account-table"')
    assert "Основной WB" in body
    assert response["Vary"] == "HX-Request, Cookie" or "HX-Request" in response["Vary"]


def test_account_list_query_count_does_not_grow_with_accounts(owner_client, workspace):
    make_account(workspace=workspace)
    one = _queries(owner_client, reverse("inbox:account-list"))
    for _ in range(2):
        account = make_account(workspace=workspace)
        make_interaction(workspace=workspace, account=account)

    three = _queries(owner_client, reverse("inbox:account-list"))

    assert one == three


def test_account_detail_masks_credentials(owner_client, workspace):
    account = make_account(workspace=workspace, credentials={"token": SECRET})

    response = owner_client.get(reverse("inbox:account-detail", args=[account.pk]))

    body = _html(response)
    assert "••••4321" in body
    assert SECRET not in body
    assert SECRET[:-4] not in body


def test_account_detail_for_an_agent_has_no_forms(agent_client, workspace):
    account = make_account(workspace=workspace)

    response = agent_client.get(reverse("inbox:account-detail", args=[account.pk]))

    assert response.status_code == 200
    assert reverse("inbox:account-credentials-update", args=[account.pk]) not in _html(response)


# --- connect --------------------------------------------------------------------------------
def test_connect_form_requires_the_wb_token_and_never_echoes_secrets(owner_client, workspace):
    response = owner_client.post(
        reverse("inbox:account-connect"),
        {"marketplace": "ozon", "name": "Ozon", "ozon_client_id": "", "ozon_api_key": SECRET},
    )

    body = _html(response)
    assert response.status_code == 200
    assert gettext("Enter the Ozon Client-Id.") in body or _ru("Enter the Ozon Client-Id.") in body
    assert SECRET not in body
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


def test_connect_form_wb_without_token_is_invalid(owner_client, workspace):
    response = owner_client.post(
        reverse("inbox:account-connect"), {"marketplace": "wb", "name": "WB"}
    )

    assert _ru("Enter the WB API token.") in _html(response)
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


def test_check_connection_partial_reports_an_invalid_form(owner_client):
    response = owner_client.post(reverse("inbox:account-check"), {"marketplace": "wb"}, **HX)

    body = _html(response)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="check-result"')
    assert _ru("Fill in the fields marked above, then check again.") in body


def test_check_connection_with_the_simulator_shows_a_working_token(
    owner_client,
    workspace,
    simulator,
):
    handle = simulator.create_wb_account(token_type="service")

    response = owner_client.post(
        reverse("inbox:account-check"),
        {"marketplace": "wb", "name": "WB", "wb_token": handle.token, "base_url": simulator.url},
        **HX,
    )

    body = _html(response)
    assert "<html" not in body
    assert _ru("Connection works.") in body
    assert handle.token not in body
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []  # nothing saved


def test_check_connection_without_htmx_renders_the_whole_page(
    owner_client,
    simulator,
):
    handle = simulator.create_wb_account(token_type="service")

    response = owner_client.post(
        reverse("inbox:account-check"),
        {"marketplace": "wb", "name": "WB", "wb_token": handle.token, "base_url": simulator.url},
    )

    body = _html(response)
    assert "<html" in body
    assert _ru("Connection works.") in body
    assert handle.token not in body


def test_check_connection_explains_an_expired_token(owner_client, simulator):
    token = make_wb_token(
        seller_id="s-9", token_type="service", expires_at=timezone.now().replace(year=2020)
    )
    simulator.create_wb_account(token=token)

    response = owner_client.post(
        reverse("inbox:account-check"),
        {"marketplace": "wb", "name": "WB", "wb_token": token, "base_url": simulator.url},
        **HX,
    )

    body = _html(response)
    assert _ru("The marketplace did not accept the connection.") in body
    assert "2020-" in body


def test_check_connection_explains_a_missing_scope_and_a_base_token(
    owner_client,
    simulator,
):
    handle = simulator.create_wb_account(token_type="base", categories=[1, 9])

    response = owner_client.post(
        reverse("inbox:account-check"),
        {"marketplace": "wb", "name": "WB", "wb_token": handle.token, "base_url": simulator.url},
        **HX,
    )

    body = _html(response)
    assert _ru("Connection works.") in body
    assert 'class="bad"' in body  # reviews and questions: no access
    assert 'class="warn"' in body  # a Base token's hourly limits
    assert _ru("Base token") in body


def test_connect_with_the_simulator_saves_and_starts_the_first_sync(
    owner_client,
    workspace,
    simulator,
    django_capture_on_commit_callbacks,
):
    handle = simulator.create_wb_account(token_type="service")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("inbox:account-connect"),
            {
                "marketplace": "wb",
                "name": "Симулятор",
                "wb_token": handle.token,
                "base_url": simulator.url,
                "sandbox_mode": "on",
            },
        )

    (account,) = MarketplaceAccount.objects.for_workspace(workspace)
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:account-sync-progress", args=[account.pk])
    assert (account.name, account.sandbox_mode, account.credentials) == (
        "Симулятор",
        True,
        {"token": handle.token},
    )
    assert account.enabled_channels == ["review", "question", "chat"]
    assert [(j.func_name, j.args) for j in django_rq.get_queue("sync").jobs] == [
        ("connectors.jobs.sync_account_job", (account.pk, False))
    ]


def test_connect_with_a_refused_token_shows_why_and_saves_nothing(
    owner_client,
    workspace,
    simulator,
):
    response = owner_client.post(
        reverse("inbox:account-connect"),
        {
            "marketplace": "wb",
            "name": "WB",
            "wb_token": "garbage-token-7777",
            "base_url": simulator.url,
        },
    )

    body = _html(response)
    assert response.status_code == 200
    assert 'class="errorlist nonfield"' in body
    assert "garbage-token-7777" not in body
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


# --- sync progress --------------------------------------------------------------------------
def test_sync_progress_page_and_partial_poll_during_the_first_sync(agent_client, workspace):
    account = make_account(workspace=workspace, name="Новый")

    page = agent_client.get(reverse("inbox:account-sync-progress", args=[account.pk]))
    partial = agent_client.get(reverse("inbox:account-sync-progress", args=[account.pk]), **HX)

    assert "<html" in _html(page)
    body = _html(partial)
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="sync-progress"')
    assert 'hx-trigger="every 2s"' in body


def test_sync_progress_stops_polling_when_the_sync_is_done(agent_client, workspace):
    account = make_account(
        workspace=workspace,
        sync_status=MarketplaceAccount.SyncStatus.OK,
        last_sync_at=timezone.now(),
    )
    make_interaction(workspace=workspace, account=account)

    response = agent_client.get(reverse("inbox:account-sync-progress", args=[account.pk]), **HX)

    body = _html(response)
    assert "hx-trigger" not in body
    assert "<td>1</td>" in body


# --- account actions ------------------------------------------------------------------------
def test_admin_pauses_and_deletes_an_account(admin_client_member, workspace):
    account = make_account(workspace=workspace)

    paused = admin_client_member.post(reverse("inbox:account-toggle", args=[account.pk]))
    account.refresh_from_db()
    was_active = account.is_active
    deleted = admin_client_member.post(reverse("inbox:account-delete", args=[account.pk]))

    assert (paused.status_code, was_active) == (302, False)
    assert deleted["Location"] == reverse("inbox:account-list")
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


def test_account_update_form_errors_rerender_the_page(owner_client, workspace):
    account = make_account(workspace=workspace, name="Старое")

    response = owner_client.post(reverse("inbox:account-update", args=[account.pk]), {"name": ""})

    account.refresh_from_db()
    assert response.status_code == 200
    assert 'class="errorlist"' in _html(response)
    assert account.name == "Старое"


def test_new_credentials_from_the_simulator_clear_an_auth_error(
    owner_client,
    workspace,
    simulator,
    django_capture_on_commit_callbacks,
):
    handle = simulator.create_wb_account(token_type="service")
    account = make_account(
        workspace=workspace,
        base_url=simulator.url,
        sync_status=MarketplaceAccount.SyncStatus.AUTH_ERROR,
        sync_error="Токен отозван",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("inbox:account-credentials-update", args=[account.pk]),
            {"wb_token": handle.token},
        )

    account.refresh_from_db()
    assert response["Location"] == reverse("inbox:account-detail", args=[account.pk])
    assert (account.sync_status, account.sync_error) == (MarketplaceAccount.SyncStatus.IDLE, "")
    assert account.credentials == {"token": handle.token}


# --- SLA ------------------------------------------------------------------------------------
def _sla_post(**overrides: int) -> dict[str, int]:
    data = {
        f"minutes_{channel}_{priority}": 100
        for channel in ("review", "question", "chat")
        for priority in ("urgent", "high", "normal", "low")
    }
    data.update(overrides)
    return data


def test_sla_rules_are_saved(admin_client_member, workspace):
    response = admin_client_member.post(
        reverse("inbox:sla-rules"), _sla_post(minutes_chat_urgent=7)
    )

    assert response["Location"] == reverse("inbox:sla-rules")
    assert (
        SLARule.objects.for_workspace(workspace).get(channel="chat", priority="urgent").minutes == 7
    )


def test_sla_rules_reject_zero_minutes(admin_client_member, workspace):
    response = admin_client_member.post(
        reverse("inbox:sla-rules"), _sla_post(minutes_chat_urgent=0)
    )

    assert response.status_code == 200
    assert 'class="errorlist"' in _html(response)
    assert (
        SLARule.objects.for_workspace(workspace).get(channel="chat", priority="urgent").minutes
        == 15
    )


# --- reply templates ------------------------------------------------------------------------
def test_template_crud(admin_client_member, workspace):
    created = admin_client_member.post(
        reverse("inbox:template-create"),
        {"name": "Спасибо", "text": "Спасибо, {name}!", "channel": ""},
    )
    template = ReplyTemplate.objects.for_workspace(workspace).get()
    updated = admin_client_member.post(
        reverse("inbox:template-update", args=[template.pk]),
        {"name": "Спасибо!", "text": "Благодарим", "channel": "review"},
    )
    template.refresh_from_db()
    values = (template.name, template.text, template.channel)
    deleted = admin_client_member.post(reverse("inbox:template-delete", args=[template.pk]))

    assert [r.status_code for r in (created, updated, deleted)] == [302, 302, 302]
    assert values == ("Спасибо!", "Благодарим", "review")
    assert list(ReplyTemplate.objects.for_workspace(workspace)) == []


def test_template_duplicate_name_is_a_form_error(admin_client_member, workspace):
    ReplyTemplate.objects.create(workspace=workspace, name="Спасибо", text="x")

    response = admin_client_member.post(
        reverse("inbox:template-create"), {"name": "Спасибо", "text": "y"}
    )

    assert response.status_code == 200
    assert _ru("A template with this name already exists.") in _html(response)
    assert ReplyTemplate.objects.for_workspace(workspace).count() == 1


def test_template_list_query_count_does_not_grow(admin_client_member, workspace):
    ReplyTemplate.objects.create(workspace=workspace, name="t0", text="x")
    one = _queries(admin_client_member, reverse("inbox:template-list"))
    ReplyTemplate.objects.create(workspace=workspace, name="t1", text="x")
    ReplyTemplate.objects.create(workspace=workspace, name="t2", text="x")

    assert _queries(admin_client_member, reverse("inbox:template-list")) == one


# --- auto-reply rules -----------------------------------------------------------------------
RULE = {
    "name": "Пятёрки",
    "is_enabled": "on",
    "marketplace": "wb",
    "channel": "review",
    "rating_min": 5,
    "rating_max": 5,
    "text_presence": "any",
    "source": "ai_draft",
    "publish_delay_minutes": 30,
    "priority_order": 10,
    "sentiments": ["positive"],
}


def test_autoreply_rule_is_created_in_shadow_mode(admin_client_member, workspace):
    response = admin_client_member.post(reverse("inbox:autoreply-create"), RULE)

    rule = AutoReplyRule.objects.for_workspace(workspace).get()
    assert response["Location"] == reverse("inbox:autoreply-list")
    assert (rule.mode, rule.publish_delay_minutes, rule.sentiments, rule.marketplace) == (
        AutoReplyRule.Mode.SHADOW,
        30,
        ["positive"],
        "wb",
    )


def test_the_rule_form_says_what_no_template_means(admin_client_member):
    body = _html(admin_client_member.get(reverse("inbox:autoreply-create")))

    assert '<option value="" selected>Без шаблона (черновик ИИ)</option>' in body


def test_autoreply_rule_validation_errors(admin_client_member, workspace):
    response = admin_client_member.post(
        reverse("inbox:autoreply-create"),
        {**RULE, "rating_min": 5, "rating_max": 3, "source": "template"},
    )

    body = _html(response)
    assert _ru("The maximum rating must not be below the minimum.") in body
    assert _ru("Choose the template to answer with.") in body
    assert list(AutoReplyRule.objects.for_workspace(workspace)) == []


def test_autoreply_rule_refuses_another_workspaces_template(
    admin_client_member, workspace, other_workspace
):
    foreign = ReplyTemplate.objects.create(workspace=other_workspace, name="чужой", text="x")

    response = admin_client_member.post(
        reverse("inbox:autoreply-create"), {**RULE, "source": "template", "template": foreign.pk}
    )

    assert response.status_code == 200
    assert list(AutoReplyRule.objects.for_workspace(workspace)) == []


def test_autoreply_update_keeps_the_mode(owner_client, workspace):
    rule = AutoReplyRule.objects.create(
        workspace=workspace, name="r", mode=AutoReplyRule.Mode.PUBLISH
    )

    owner_client.post(reverse("inbox:autoreply-update", args=[rule.pk]), {**RULE, "name": "новое"})

    rule.refresh_from_db()
    assert (rule.name, rule.mode) == ("новое", AutoReplyRule.Mode.PUBLISH)


def test_admin_cannot_switch_a_rule_to_publish(admin_client_member, workspace):
    rule = AutoReplyRule.objects.create(workspace=workspace, name="r")

    response = admin_client_member.post(
        reverse("inbox:autoreply-mode", args=[rule.pk]), {"mode": "publish"}, follow=True
    )

    rule.refresh_from_db()
    assert rule.mode == AutoReplyRule.Mode.SHADOW
    assert _ru("Only an owner can do this.") in _html(response)


def test_owner_switches_a_rule_to_publish_with_htmx(owner_client, workspace):
    rule = AutoReplyRule.objects.create(workspace=workspace, name="r")

    response = owner_client.post(
        reverse("inbox:autoreply-mode", args=[rule.pk]), {"mode": "publish"}, **HX
    )

    rule.refresh_from_db()
    body = _html(response)
    assert rule.mode == AutoReplyRule.Mode.PUBLISH
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article class="card rule-card" id="autoreply-row-{rule.pk}"')


def test_autoreply_list_and_delete(owner_client, workspace):
    rule = AutoReplyRule.objects.create(workspace=workspace, name="Пятёрки")

    listed = owner_client.get(reverse("inbox:autoreply-list"))
    deleted = owner_client.post(reverse("inbox:autoreply-delete", args=[rule.pk]))

    assert "Пятёрки" in _html(listed)
    # The page tells, in Russian, which items no rule answers.
    assert "шаблон не отправляется, если покупатель назвал недостаток" in _html(listed)
    assert deleted.status_code == 302
    assert list(AutoReplyRule.objects.for_workspace(workspace)) == []


# --- stop-words -----------------------------------------------------------------------------
def test_stop_words_are_saved_one_per_line(admin_client_member, workspace):
    response = admin_client_member.post(
        reverse("inbox:stop-words"), {"stop_words": "Развод\r\n\r\n  возврат денег \nразвод"}
    )

    workspace.refresh_from_db()
    assert response["Location"] == reverse("inbox:stop-words")
    assert workspace.stop_words == ["развод", "возврат денег"]


def test_stop_words_reject_overlong_lines(admin_client_member, workspace):
    response = admin_client_member.post(reverse("inbox:stop-words"), {"stop_words": "x" * 101})

    workspace.refresh_from_db()
    assert response.status_code == 200
    assert workspace.stop_words == []


# --- team -----------------------------------------------------------------------------------
def test_admin_invites_an_agent_who_gets_a_password_link(
    admin_client_member, workspace, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_member.post(
            reverse("inbox:member-invite"),
            {"email": "new@example.com", "full_name": "Новый", "role": "agent"},
        )

    user = User.objects.get(email="new@example.com")
    assert response["Location"] == reverse("inbox:member-list")
    assert Membership.objects.get(user=user, workspace=workspace).role == "agent"
    assert user.has_usable_password() is False
    assert "http://testserver/accounts/reset/" in mail.outbox[0].body


def test_the_invite_form_asks_for_a_colleagues_name_not_a_title(admin_client_member):
    body = _html(admin_client_member.get(reverse("inbox:member-list")))

    assert '<label for="id_full_name">Имя:</label>' in body


def test_admin_cannot_invite_an_owner(admin_client_member, workspace):
    response = admin_client_member.post(
        reverse("inbox:member-invite"), {"email": "boss@example.com", "role": "owner"}
    )

    assert response.status_code == 200
    assert 'class="errorlist"' in _html(response)
    assert not User.objects.filter(email="boss@example.com").exists()


def test_invite_with_a_bad_email_is_a_form_error(owner_client):
    response = owner_client.post(reverse("inbox:member-invite"), {"email": "nope", "role": "agent"})

    assert response.status_code == 200
    assert 'class="errorlist"' in _html(response)


def test_owner_changes_a_role_with_htmx(owner_client, workspace, agent):
    membership = Membership.objects.get(user=agent, workspace=workspace)

    response = owner_client.post(
        reverse("inbox:member-role", args=[membership.pk]), {"role": "admin"}, **HX
    )

    membership.refresh_from_db()
    body = _html(response)
    assert membership.role == "admin"
    assert "<html" not in body
    assert body.lstrip().startswith(f'<tr id="member-row-{membership.pk}"')


def test_admin_cannot_demote_an_owner(admin_client_member, workspace, owner):
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = admin_client_member.post(
        reverse("inbox:member-role", args=[membership.pk]), {"role": "agent"}
    )

    membership.refresh_from_db()
    assert response["Location"] == reverse("inbox:member-list")
    assert membership.role == "owner"


def test_the_last_owner_cannot_step_down(owner_client, workspace, owner):
    membership = Membership.objects.get(user=owner, workspace=workspace)

    response = owner_client.post(
        reverse("inbox:member-role", args=[membership.pk]), {"role": "admin"}, **HX
    )

    membership.refresh_from_db()
    assert membership.role == "owner"
    assert _ru("A workspace must keep at least one owner.") in _html(response)


def test_admin_removes_an_agent(admin_client_member, workspace, agent):
    membership = Membership.objects.get(user=agent, workspace=workspace)

    response = admin_client_member.post(reverse("inbox:member-remove", args=[membership.pk]))

    assert response["Location"] == reverse("inbox:member-list")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert User.objects.filter(pk=agent.pk).exists()


def test_team_list_query_count_does_not_grow(owner_client, workspace):
    one = _queries(owner_client, reverse("inbox:member-list"))
    make_member(workspace=workspace)
    make_member(workspace=workspace, role="admin")

    assert _queries(owner_client, reverse("inbox:member-list")) == one


# --- LLM usage ------------------------------------------------------------------------------
def test_llm_usage_page_shows_totals(admin_client_member, workspace):
    LLMUsage.objects.create(
        workspace=workspace,
        day=timezone.localdate(),
        requests=12,
        prompt_tokens=1000,
        completion_tokens=234,
    )
    LLMUsage.objects.create(workspace=workspace, day=date(2000, 1, 1), requests=999)

    response = admin_client_member.get(reverse("inbox:llm-usage"))

    body = _html(response)
    assert "<dd>12</dd>" in body
    assert "<dd>1234</dd>" in body
    assert "999" not in body


def test_llm_usage_page_says_who_writes_the_drafts_now(admin_client_member, settings):
    from intelligence import llm

    def status() -> str:
        body = _html(admin_client_member.get(reverse("inbox:llm-usage")))
        return body.split('id="engine-status"', 1)[1].split("</p>", 1)[0]

    assert "встроенный движок правил" in status() and "не подключена" in status()
    settings.LLM_ENGINE, settings.LLM_MODEL = "llm", "deepseek-chat"
    assert "«deepseek-chat»" in status() and "сейчас" not in status()
    for _ in range(settings.LLM_BREAKER_FAILURES):
        llm.breaker().record_failure()
    assert "«deepseek-chat» сейчас не отвечает" in status()
