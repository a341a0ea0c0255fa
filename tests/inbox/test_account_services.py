"""Account, settings and team services: connect, re-key, health, SLA, stop-words, members."""

from datetime import UTC, date, datetime, timedelta

import django_rq
import pytest
from django.core import mail
from django.utils import timezone

from connectors.simulator.tokens import make_wb_token
from connectors.types import ChannelAccess, ConnectionReport
from inbox.exceptions import (
    AlreadyMember,
    ConnectionCheckFailed,
    LastOwnerCannotLeave,
    OwnerRoleRequired,
    TemplateNameTaken,
)
from inbox.models import (
    AutoReplyRule,
    InteractionEvent,
    LLMUsage,
    MarketplaceAccount,
    Membership,
    Message,
    SLARule,
    SyncCursor,
)
from inbox.services import accounts as account_services
from inbox.services import settings as settings_services
from inbox.services import team as team_services
from tests.factories import (
    make_account,
    make_event,
    make_interaction,
    make_member,
    make_message,
)

pytestmark = pytest.mark.django_db

REVIEWS_ONLY = ConnectionReport(
    ok=True,
    token_type="service",
    expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    channels=(
        ChannelAccess("review", True),
        ChannelAccess("question", True),
        ChannelAccess("chat", False, "Нет доступа к категории «Чат с покупателями»."),
        ChannelAccess("product", True),
    ),
    warnings=("Предупреждение",),
    suggested_interval_seconds=60,
)


def _sync_jobs() -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in django_rq.get_queue("sync").jobs]


# --- connect -------------------------------------------------------------------------------
def test_connect_account_stores_report_and_enables_only_available_channels(
    workspace, owner, django_capture_on_commit_callbacks
):
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    with django_capture_on_commit_callbacks(execute=True):
        account = account_services.connect_account(
            workspace,
            actor=owner,
            marketplace="wb",
            name="Основной",
            credentials={"token": "secret-token-1234"},
            report=REVIEWS_ONLY,
            now=now,
        )

    account.refresh_from_db()
    assert account.enabled_channels == ["review", "question"]
    assert account.channel_errors == {"chat": "Нет доступа к категории «Чат с покупателями»."}
    assert account.token_info == {
        "token_type": "service",
        "expires_at": "2030-01-01T00:00:00+00:00",
        "warnings": ["Предупреждение"],
        "suggested_interval_seconds": 60,
        "channels": {
            "review": {"available": True, "message": ""},
            "question": {"available": True, "message": ""},
            "chat": {
                "available": False,
                "message": "Нет доступа к категории «Чат с покупателями».",
            },
            "product": {"available": True, "message": ""},
        },
        "checked_at": "2026-03-01T12:00:00+00:00",
    }
    assert account.credentials == {"token": "secret-token-1234"}
    assert account.sync_status == MarketplaceAccount.SyncStatus.IDLE
    assert _sync_jobs() == [("connectors.jobs.sync_account_job", (account.pk, False))]


def test_connect_account_refused_raises_and_saves_nothing(workspace, owner):
    refused = ConnectionReport(ok=False, error="Токен отозван.")

    with pytest.raises(ConnectionCheckFailed) as caught:
        account_services.connect_account(
            workspace,
            actor=owner,
            marketplace="wb",
            name="x",
            credentials={"token": "bad"},
            report=refused,
        )

    assert str(caught.value) == "Токен отозван."
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []
    assert _sync_jobs() == []


def test_connect_account_without_report_checks_the_real_simulator(
    workspace,
    owner,
    simulator,
    django_capture_on_commit_callbacks,
):
    handle = simulator.create_wb_account(token_type="service", reviews=3, questions=1, chats=1)

    with django_capture_on_commit_callbacks(execute=True):
        account = account_services.connect_account(
            workspace,
            actor=owner,
            marketplace="wb",
            name="Симулятор",
            credentials={"token": handle.token},
            base_url=simulator.url,
        )

    assert account.enabled_channels == ["review", "question", "chat"]
    assert account.token_info["token_type"] == "service"
    assert _sync_jobs() == [("connectors.jobs.sync_account_job", (account.pk, False))]


def test_connect_account_with_ozon_is_refused_until_a_client_exists(workspace, owner):
    with pytest.raises(ConnectionCheckFailed):
        account_services.connect_account(
            workspace,
            actor=owner,
            marketplace="ozon",
            name="Ozon",
            credentials={"client_id": "123", "api_key": "key-5678"},
        )
    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


# --- check_connection over HTTP -------------------------------------------------------------
def _draft(workspace, simulator, token):
    return account_services.build_account(
        workspace,
        marketplace="wb",
        name="x",
        credentials={"token": token},
        base_url=simulator.url,
    )


def test_check_connection_accepts_a_service_token(workspace, simulator):
    handle = simulator.create_wb_account(token_type="service")

    report = account_services.check_connection(_draft(workspace, simulator, handle.token))

    assert report.ok is True
    assert {(a.channel, a.available) for a in report.channels} >= {
        ("review", True),
        ("question", True),
        ("chat", True),
    }


def test_check_connection_reports_an_expired_token(workspace, simulator):
    token = make_wb_token(
        seller_id="s-1", token_type="service", expires_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    simulator.create_wb_account(token=token)

    report = account_services.check_connection(_draft(workspace, simulator, token))

    assert report.ok is False
    assert "2020-01-01" in report.error


def test_check_connection_reports_a_missing_scope(workspace, simulator):
    handle = simulator.create_wb_account(token_type="service", categories=[1, 9])

    report = account_services.check_connection(_draft(workspace, simulator, handle.token))

    assert report.ok is True
    access = {a.channel: a for a in report.channels}
    assert access["review"].available is False
    assert access["review"].message != ""
    assert access["chat"].available is True


def test_check_connection_warns_about_a_base_token(workspace, simulator):
    handle = simulator.create_wb_account(token_type="base")

    report = account_services.check_connection(_draft(workspace, simulator, handle.token))

    assert report.ok is True
    assert report.suggested_interval_seconds > 5 * 60
    assert len(report.warnings) >= 1


def test_check_connection_refuses_garbage(workspace, simulator):
    report = account_services.check_connection(_draft(workspace, simulator, "not-a-token"))

    assert report.ok is False
    assert report.error != ""


# --- update / enable / delete ---------------------------------------------------------------
def test_update_credentials_clears_auth_error_and_resumes_sync(
    workspace, owner, django_capture_on_commit_callbacks
):
    account = make_account(
        workspace=workspace,
        sync_status=MarketplaceAccount.SyncStatus.AUTH_ERROR,
        sync_error="Токен отозван",
        token_info={"auth_failed_fingerprint": "abc"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        account_services.update_credentials(
            account, actor=owner, credentials={"token": "new-token-9999"}, report=REVIEWS_ONLY
        )

    account.refresh_from_db()
    assert account.sync_status == MarketplaceAccount.SyncStatus.IDLE
    assert account.sync_error == ""
    assert account.credentials == {"token": "new-token-9999"}
    assert "auth_failed_fingerprint" not in account.token_info
    assert account.enabled_channels == ["review", "question"]
    assert _sync_jobs() == [("connectors.jobs.sync_account_job", (account.pk, False))]


def test_update_credentials_refused_keeps_old_credentials(workspace, owner):
    account = make_account(workspace=workspace, credentials={"token": "old-token-0000"})

    with pytest.raises(ConnectionCheckFailed):
        account_services.update_credentials(
            account,
            actor=owner,
            credentials={"token": "bad"},
            report=ConnectionReport(ok=False, error="Неверный токен"),
        )

    account.refresh_from_db()
    assert account.credentials == {"token": "old-token-0000"}


def test_set_account_enabled_pauses_and_resumes_with_a_sync(
    workspace, owner, django_capture_on_commit_callbacks
):
    account = make_account(workspace=workspace)

    with django_capture_on_commit_callbacks(execute=True):
        account_services.set_account_enabled(account, actor=owner, is_enabled=False)
    paused_jobs = _sync_jobs()
    with django_capture_on_commit_callbacks(execute=True):
        account_services.set_account_enabled(account, actor=owner, is_enabled=True)

    account.refresh_from_db()
    assert paused_jobs == []
    assert account.is_active is True
    assert _sync_jobs() == [("connectors.jobs.sync_account_job", (account.pk, False))]


def test_update_account_never_enables_an_unavailable_channel(workspace, owner):
    account = make_account(workspace=workspace, channel_errors={"chat": "нет доступа"})

    account_services.update_account(
        account,
        actor=owner,
        name="Новое имя",
        sandbox_mode=True,
        enabled_channels=["chat", "review"],
    )

    account.refresh_from_db()
    assert (account.name, account.sandbox_mode, account.enabled_channels) == (
        "Новое имя",
        True,
        ["review"],
    )


def test_delete_account_removes_its_interactions(workspace, owner):
    account = make_account(workspace=workspace)
    make_interaction(workspace=workspace, account=account)

    account_services.delete_account(account, actor=owner)

    assert list(MarketplaceAccount.objects.for_workspace(workspace)) == []


def test_masked_credentials_show_only_the_last_four_characters(workspace):
    wb = make_account(workspace=workspace, credentials={"token": "abcdefgh1234"})
    ozon = make_account(
        workspace=workspace,
        marketplace="ozon",
        credentials={"client_id": "778899", "api_key": "key-secret-5678"},
    )

    assert account_services.masked_credentials(wb) == [("API-токен", "••••1234")]
    assert account_services.masked_credentials(ozon) == [
        ("Client-Id", "••••8899"),
        ("Api-Key", "••••5678"),
    ]


# --- health ---------------------------------------------------------------------------------
def test_account_health_counts_channels_backlog_and_errors(workspace, other_workspace):
    now = timezone.now()
    account = make_account(
        workspace=workspace,
        token_info={"token_type": "base", "suggested_interval_seconds": 3600},
        channel_errors={"chat": "нет доступа"},
    )
    SyncCursor.objects.create(workspace=workspace, account=account, channel="review", items_seen=7)
    answered = make_interaction(workspace=workspace, account=account, first_response_at=now)
    waiting = make_interaction(workspace=workspace, account=account)
    make_interaction(workspace=workspace, account=account, channel="question")
    make_message(
        interaction=waiting,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.AuthorType.SELLER,
        delivery_status=Message.DeliveryStatus.QUEUED,
    )
    make_event(
        interaction=answered, kind=InteractionEvent.Kind.SYNC_ERROR, payload={"message": "500"}
    )
    make_interaction(workspace=other_workspace)

    (health,) = account_services.account_health(workspace, now=now)

    by_channel = {
        c.channel: (c.items_synced, c.interactions, c.unanswered, c.error) for c in health.channels
    }
    assert by_channel == {
        "review": (7, 2, 1, ""),
        "question": (0, 1, 1, ""),
        "chat": (0, 0, 0, "нет доступа"),
    }
    assert (health.unanswered, health.outbox_queued) == (2, 1)
    assert [e.text for e in health.recent_errors] == ["500"]
    assert (health.is_slow_cadence, health.interval_minutes, health.token_label) == (
        True,
        60,
        "базовый токен",
    )


def test_every_token_kind_a_connector_reports_has_a_russian_label():
    from connectors.ozon.client import KEY_TYPE

    labels = [account_services.token_type_label(t) for t in (KEY_TYPE, "Personal", "service")]

    assert labels == ["API-ключ", "персональный токен", "сервисный токен"]


# --- settings services ----------------------------------------------------------------------
def test_update_sla_rules_changes_only_given_cells(workspace, owner):
    settings_services.update_sla_rules(
        workspace, actor=owner, minutes={("chat", "urgent"): 5, ("review", "low"): 9999}
    )

    minutes = settings_services.sla_minutes(workspace)
    assert (minutes[("chat", "urgent")], minutes[("review", "low")], minutes[("chat", "high")]) == (
        5,
        9999,
        30,
    )
    assert SLARule.objects.for_workspace(workspace).count() == 12


def test_reply_template_names_are_unique_per_workspace(workspace, other_workspace, owner):
    settings_services.create_reply_template(workspace, actor=owner, name="Спасибо", text="a")
    settings_services.create_reply_template(other_workspace, actor=owner, name="Спасибо", text="b")

    with pytest.raises(TemplateNameTaken):
        settings_services.create_reply_template(workspace, actor=owner, name="спасибо", text="c")


def test_new_autoreply_rule_starts_in_shadow_mode(workspace, owner):
    rule = settings_services.create_autoreply_rule(
        workspace, actor=owner, name="5 звёзд", mode="publish", rating_min=5, rating_max=5
    )

    assert rule.mode == AutoReplyRule.Mode.SHADOW


def test_only_an_owner_lets_a_rule_publish(workspace, owner, admin_member):
    rule = settings_services.create_autoreply_rule(workspace, actor=owner, name="r")
    admin_membership = Membership.objects.get(user=admin_member, workspace=workspace)
    owner_membership = Membership.objects.get(user=owner, workspace=workspace)

    with pytest.raises(OwnerRoleRequired):
        settings_services.set_autoreply_mode(
            rule, actor=admin_member, actor_membership=admin_membership, mode="publish"
        )
    settings_services.set_autoreply_mode(
        rule, actor=owner, actor_membership=owner_membership, mode="publish"
    )

    rule.refresh_from_db()
    assert rule.mode == AutoReplyRule.Mode.PUBLISH


def test_update_stop_words_normalizes_lines(workspace, owner):
    saved = settings_services.update_stop_words(
        workspace, actor=owner, words=["  Развод ", "развод", "", "ВОЗВРАТ  денег"]
    )

    workspace.refresh_from_db()
    assert saved == workspace.stop_words == ["развод", "возврат денег"]


def test_llm_usage_report_covers_30_days_with_totals(workspace, other_workspace):
    today = date(2026, 3, 31)
    LLMUsage.objects.create(
        workspace=workspace, day=today, requests=3, prompt_tokens=100, completion_tokens=50
    )
    LLMUsage.objects.create(
        workspace=workspace, day=today - timedelta(days=29), requests=1, failures=1
    )
    LLMUsage.objects.create(workspace=workspace, day=today - timedelta(days=30), requests=100)
    LLMUsage.objects.create(workspace=other_workspace, day=today, requests=100)

    report = settings_services.llm_usage_report(workspace, today=today)

    assert len(report.days) == 30
    assert (report.days[0].day, report.days[0].requests) == (today, 3)
    assert (report.requests, report.total_tokens, report.failures) == (4, 150, 1)


# --- team -----------------------------------------------------------------------------------
def _membership(user, workspace) -> Membership:
    return Membership.objects.get(user=user, workspace=workspace)


def test_invite_member_creates_user_without_password_and_mails_a_link(
    workspace, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = team_services.invite_member(
            workspace,
            actor=owner,
            actor_membership=_membership(owner, workspace),
            email="New.Person@Example.com",
            role="agent",
            base_url="https://app.example.com/",
        )

    assert membership.user.email == "new.person@example.com"
    assert membership.user.has_usable_password() is False
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    assert "https://app.example.com/accounts/reset/" in mail.outbox[0].body


def test_invite_member_twice_is_refused(workspace, owner, agent):
    with pytest.raises(AlreadyMember):
        team_services.invite_member(
            workspace,
            actor=owner,
            actor_membership=_membership(owner, workspace),
            email=agent.email,
            role="agent",
            base_url="https://app.example.com/",
        )


def test_admin_cannot_grant_or_touch_the_owner_role(workspace, owner, admin_member, agent):
    admin_membership = _membership(admin_member, workspace)

    with pytest.raises(OwnerRoleRequired):
        team_services.change_member_role(
            _membership(agent, workspace),
            actor=admin_member,
            actor_membership=admin_membership,
            role="owner",
        )
    with pytest.raises(OwnerRoleRequired):
        team_services.remove_member(
            _membership(owner, workspace), actor=admin_member, actor_membership=admin_membership
        )

    assert _membership(agent, workspace).role == "agent"


def test_the_last_owner_cannot_be_demoted_or_removed(workspace, owner):
    owner_membership = _membership(owner, workspace)

    with pytest.raises(LastOwnerCannotLeave):
        team_services.change_member_role(
            owner_membership, actor=owner, actor_membership=owner_membership, role="admin"
        )
    with pytest.raises(LastOwnerCannotLeave):
        team_services.remove_member(
            owner_membership, actor=owner, actor_membership=owner_membership
        )

    assert _membership(owner, workspace).role == "owner"


def test_an_owner_can_step_down_when_another_owner_exists(workspace, owner):
    second = make_member(workspace=workspace, role="owner")
    owner_membership = _membership(owner, workspace)

    team_services.change_member_role(
        owner_membership, actor=owner, actor_membership=owner_membership, role="agent"
    )

    assert {m.user_id: m.role for m in Membership.objects.filter(workspace=workspace)} == {
        owner.pk: "agent",
        second.pk: "owner",
    }
