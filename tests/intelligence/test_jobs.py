from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq import SimpleWorker

from inbox.models import (
    AutoReplyRule,
    Interaction,
    InteractionEvent,
    Message,
    Notification,
    Workspace,
    awaiting_answer_q,
)
from inbox.services.pipeline_hooks import enqueue_interaction_analysis
from intelligence import jobs, services
from tests.factories import make_account, make_interaction, make_member, make_message

pytestmark = pytest.mark.django_db


def _work(queue_name: str) -> None:
    queue = django_rq.get_queue(queue_name)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _events(interaction: Interaction, kind: str) -> list[InteractionEvent]:
    return list(
        InteractionEvent.objects.for_workspace(interaction.workspace).filter(
            interaction=interaction, kind=kind
        )
    )


def _outbound(interaction: Interaction) -> list[Message]:
    return list(
        Message.objects.for_workspace(interaction.workspace).filter(
            interaction=interaction, direction=Message.Direction.OUTBOUND
        )
    )


def _publish_rule(workspace: Workspace) -> AutoReplyRule:
    return AutoReplyRule.objects.create(
        workspace=workspace, name="5★", mode=AutoReplyRule.Mode.PUBLISH, rating_min=5
    )


def test_analyze_job_after_ingest_analyses_and_auto_answers_five_star_review(
    workspace, django_capture_on_commit_callbacks
):
    _publish_rule(workspace)
    interaction = make_interaction(workspace=workspace, rating=5, text="Всё отлично, спасибо!")

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_interaction_analysis([interaction.pk])
    _work("ai")

    interaction.refresh_from_db()
    assert interaction.analyzed_at is not None
    assert interaction.sentiment == "positive"
    assert [m.delivery_status for m in _outbound(interaction)] == ["queued"]
    assert len(_events(interaction, InteractionEvent.Kind.ANALYZED)) == 1
    assert len(_events(interaction, InteractionEvent.Kind.AUTO_REPLY)) == 1


def test_analyze_job_enqueued_twice_analyses_and_answers_once(
    workspace, django_capture_on_commit_callbacks
):
    _publish_rule(workspace)
    interaction = make_interaction(workspace=workspace, rating=5, text="Всё отлично, спасибо!")

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_interaction_analysis([interaction.pk])
        enqueue_interaction_analysis([interaction.pk])
    _work("ai")

    assert len(_events(interaction, InteractionEvent.Kind.ANALYZED)) == 1
    assert len(_outbound(interaction)) == 1


def test_analyze_job_sets_sla_deadline_from_priority(workspace, django_capture_on_commit_callbacks):
    interaction = make_interaction(
        workspace=workspace, rating=1, text="Пришёл бракованный, шов разошёлся, хочу возврат"
    )

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_interaction_analysis([interaction.pk])
    _work("ai")

    interaction.refresh_from_db()
    assert interaction.priority == "high"
    assert interaction.sla_deadline_at is not None


def test_analyze_pending_job_picks_up_items_ingest_missed(
    workspace, django_capture_on_commit_callbacks
):
    missed = make_interaction(workspace=workspace, rating=4, text="Хорошая вещь")

    with django_capture_on_commit_callbacks(execute=True):
        django_rq.get_queue("ai").enqueue(jobs.analyze_pending_job)
        django_rq.get_queue("ai").enqueue(jobs.analyze_pending_job)
    _work("ai")

    missed.refresh_from_db()
    assert missed.analyzed_at is not None
    assert len(_events(missed, InteractionEvent.Kind.ANALYZED)) == 1


def _overdue(workspace: Workspace, **overrides) -> Interaction:
    now = timezone.now()
    fields = {
        "rating": 2,
        "text": "Не подошло",
        "needs_response": True,
        "priority": "normal",
        "sla_deadline_at": now - timedelta(minutes=5),
        "status": Interaction.Status.OPEN,
    }
    fields.update(overrides)
    return make_interaction(workspace=workspace, **fields)


def test_escalate_sla_job_raises_priority_and_notifies_owners_once(
    workspace, owner, django_capture_on_commit_callbacks
):
    interaction = _overdue(workspace)

    with django_capture_on_commit_callbacks(execute=True):
        django_rq.get_queue("default").enqueue(jobs.escalate_sla_job)
        django_rq.get_queue("default").enqueue(jobs.escalate_sla_job)
    _work("default")

    interaction.refresh_from_db()
    assert interaction.priority == "high"
    notes = Notification.objects.for_workspace(workspace).filter(interaction=interaction)
    assert [n.user_id for n in notes] == [owner.pk]
    [event] = _events(interaction, InteractionEvent.Kind.SLA_ESCALATED)
    assert event.payload["overdue"] is True
    assert event.payload["previous_priority"] == "normal"


def test_escalate_sla_notifies_the_assignee_of_an_at_risk_item(workspace):
    agent = make_member(workspace=workspace)
    interaction = _overdue(
        workspace, assignee=agent, sla_deadline_at=timezone.now() + timedelta(minutes=10)
    )

    jobs.escalate_sla_job()

    notes = Notification.objects.for_workspace(workspace).filter(interaction=interaction)
    assert [n.user_id for n in notes] == [agent.pk]
    [event] = _events(interaction, InteractionEvent.Kind.SLA_ESCALATED)
    assert event.payload["overdue"] is False


def test_escalate_sla_skips_answered_snoozed_and_distant_items(workspace):
    answered = _overdue(workspace, first_response_at=timezone.now())
    snoozed = _overdue(
        workspace,
        status=Interaction.Status.SNOOZED,
        snoozed_until=timezone.now() + timedelta(hours=1),
    )
    distant = _overdue(workspace, sla_deadline_at=timezone.now() + timedelta(hours=5))

    assert jobs.escalate_sla_job() == 0
    for item in (answered, snoozed, distant):
        assert _events(item, InteractionEvent.Kind.SLA_ESCALATED) == []


def test_escalate_sla_again_for_a_new_deadline(workspace):
    interaction = _overdue(workspace)
    jobs.escalate_sla_job()
    Interaction.objects.filter(pk=interaction.pk).update(
        sla_deadline_at=timezone.now() + timedelta(minutes=40)
    )
    assert jobs.escalate_sla_job() == 0

    Interaction.objects.filter(pk=interaction.pk).update(
        sla_deadline_at=timezone.now() + timedelta(minutes=20)
    )

    assert jobs.escalate_sla_job() == 0  # the event is newer than deadline − 30 min
    Interaction.objects.filter(pk=interaction.pk).update(
        sla_deadline_at=timezone.now() + timedelta(hours=2)
    )
    InteractionEvent.objects.filter(interaction=interaction).update(
        created_at=timezone.now() - timedelta(hours=3)
    )
    Interaction.objects.filter(pk=interaction.pk).update(
        sla_deadline_at=timezone.now() - timedelta(minutes=1)
    )
    assert jobs.escalate_sla_job() == 1
    interaction.refresh_from_db()
    assert interaction.priority == "urgent"


def _chat(workspace: Workspace, *, last_direction: str, days_ago: int) -> Interaction:
    at = timezone.now() - timedelta(days=days_ago)
    chat = make_interaction(
        workspace=workspace,
        channel="chat",
        rating=None,
        status=Interaction.Status.OPEN,
        now=at,
    )
    make_message(interaction=chat, occurred_at=at - timedelta(minutes=5))
    make_message(
        interaction=chat,
        direction=last_direction,
        author_type="seller" if last_direction == "out" else "customer",
        delivery_status="confirmed" if last_direction == "out" else "received",
        occurred_at=at,
    )
    return chat


def test_close_idle_chats_job_closes_answered_quiet_chats_once(
    workspace, django_capture_on_commit_callbacks
):
    idle = _chat(workspace, last_direction="out", days_ago=10)
    waiting = _chat(workspace, last_direction="in", days_ago=10)
    recent = _chat(workspace, last_direction="out", days_ago=1)

    with django_capture_on_commit_callbacks(execute=True):
        django_rq.get_queue("default").enqueue(jobs.close_idle_chats_job)
        django_rq.get_queue("default").enqueue(jobs.close_idle_chats_job)
    _work("default")

    statuses = {c.pk: Interaction.objects.get(pk=c.pk).status for c in (idle, waiting, recent)}
    assert statuses == {idle.pk: "closed", waiting.pk: "open", recent.pk: "open"}
    assert len(_events(idle, InteractionEvent.Kind.STATUS_CHANGED)) == 1


def _chat_asking(workspace: Workspace, *, is_answered: bool) -> Interaction:
    chat = make_interaction(
        workspace=workspace,
        channel="chat",
        rating=None,
        text="",
        is_answered=is_answered,
        needs_response=not is_answered,
    )
    make_message(interaction=chat, text="Когда отправите заказ?")
    return chat


def test_an_analysed_chat_awaits_an_answer_only_while_the_buyer_wrote_last(workspace):
    answered = services.analyze(_chat_asking(workspace, is_answered=True))
    waiting = services.analyze(_chat_asking(workspace, is_answered=False))

    awaiting = set(Interaction.objects.filter(awaiting_answer_q()).values_list("pk", flat=True))
    assert answered.ai_analysis["needs_response"] is True  # the text asks something…
    assert answered.pk not in awaiting  # …but the seller has already answered it
    assert waiting.pk in awaiting


def _answered_chat(workspace: Workspace, *, reply_status: str, then: str) -> Interaction:
    """A buyer asks, the seller replies (in `reply_status`), the buyer writes `then`."""
    at = timezone.now() - timedelta(days=10)
    chat = make_interaction(workspace=workspace, channel="chat", rating=None, text="", now=at)
    make_message(interaction=chat, text="Пришёл товар с затяжкой. Что делать?", occurred_at=at)
    make_message(
        interaction=chat,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.AuthorType.SELLER,
        delivery_status=reply_status,
        text="Оформите, пожалуйста, возврат с пометкой «брак».",
        occurred_at=at + timedelta(minutes=5),
    )
    make_message(interaction=chat, text=then, occurred_at=at + timedelta(minutes=9))
    return chat


def test_a_chat_whose_buyer_only_thanks_the_seller_awaits_nothing_and_closes_when_idle(
    workspace,
):
    thanked = services.analyze(
        _answered_chat(workspace, reply_status="confirmed", then="Спасибо, поняла!")
    )
    # A reply that never reached the buyer is no answer: the thanks are for something else.
    unsent = services.analyze(_answered_chat(workspace, reply_status="failed", then="Спасибо!"))

    assert thanked.needs_response is False and thanked.priority == "low"
    assert "здравствуйте" not in thanked.draft.lower()
    assert unsent.needs_response is True
    awaiting = set(Interaction.objects.filter(awaiting_answer_q()).values_list("pk", flat=True))
    assert thanked.pk not in awaiting and unsent.pk in awaiting
    assert services.close_idle_chats() == 1
    assert Interaction.objects.get(pk=thanked.pk).status == Interaction.Status.CLOSED


def test_a_chat_follow_up_draft_varied_against_a_repeat_still_answers_the_follow_up(workspace):
    chat = _answered_chat(workspace, reply_status="confirmed", then="Спасибо, поняла!")
    first = services.analyze(chat).draft
    # Another chat of the account already got that very text: the draft is varied.
    other = make_interaction(workspace=workspace, account=chat.account, channel="chat", rating=None)
    _confirmed_reply(other, first)

    again = services.analyze(Interaction.objects.get(pk=chat.pk))

    assert again.draft != first
    assert again.needs_response is False
    assert "здравствуйте" not in again.draft.lower() and "возврат" not in again.draft


def test_only_public_answers_are_checked_for_repeating_recent_ones(workspace):
    account = make_account(workspace=workspace)
    text = "Здравствуйте! Заказ передан в доставку, ожидайте в течение трёх дней."
    chats = [
        make_interaction(workspace=workspace, account=account, channel="chat", rating=None)
        for _ in range(2)
    ]
    reviews = [make_interaction(workspace=workspace, account=account) for _ in range(2)]
    _confirmed_reply(chats[0], text)

    def categories(interaction: Interaction) -> set[str]:
        verdict = services.check_outgoing_guardrails(interaction, text)
        return {f.category for f in verdict.findings}

    assert "repetition" not in categories(chats[1])  # a private chat may repeat itself
    assert "repetition" not in categories(reviews[0])  # a chat message is not a public answer
    _confirmed_reply(reviews[0], text)
    assert "repetition" in categories(reviews[1])


def _confirmed_reply(interaction: Interaction, text: str) -> None:
    make_message(
        interaction=interaction,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.AuthorType.SELLER,
        delivery_status=Message.DeliveryStatus.CONFIRMED,
        text=text,
    )
