from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Interaction, InteractionEvent, Message
from inbox.services.bulk import publish_drafts
from inbox.services.interactions import (
    AssigneeNotMember,
    EmptyNote,
    InvalidStatusChange,
    SnoozeNeedsFutureTime,
    add_note,
    assign_interaction,
    change_status,
    close_interactions,
    mark_read,
)
from inbox.services.presence import interaction_viewers, touch_presence
from tests.factories import make_account, make_interaction, make_message, make_user

pytestmark = pytest.mark.django_db


def _events(interaction: Interaction) -> list[tuple[str, dict]]:
    return list(
        InteractionEvent.objects.filter(interaction=interaction)
        .order_by("id")
        .values_list("kind", "payload")
    )


def test_change_status_closes_and_records_an_event(workspace, agent):
    interaction = make_interaction(workspace=workspace, status=Interaction.Status.OPEN)

    changed = change_status(interaction, status=Interaction.Status.CLOSED, actor=agent)

    assert changed.status == Interaction.Status.CLOSED
    assert changed.closed_at is not None
    assert _events(interaction) == [("status_changed", {"from": "open", "to": "closed"})]


def test_change_status_snooze_needs_a_future_time(workspace, agent):
    interaction = make_interaction(workspace=workspace, status=Interaction.Status.OPEN)

    with pytest.raises(SnoozeNeedsFutureTime):
        change_status(interaction, status=Interaction.Status.SNOOZED, actor=agent)

    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.OPEN
    assert _events(interaction) == []


def test_change_status_snooze_stores_until_and_reopen_clears_it(workspace, agent):
    interaction = make_interaction(workspace=workspace, status=Interaction.Status.OPEN)
    until = timezone.now() + timedelta(hours=4)

    change_status(interaction, status="snoozed", actor=agent, snoozed_until=until)
    reopened = change_status(interaction, status="open", actor=agent)

    assert reopened.snoozed_until is None
    assert [kind for kind, _ in _events(interaction)] == ["status_changed", "status_changed"]


def test_change_status_refuses_going_back_to_new(workspace, agent):
    interaction = make_interaction(workspace=workspace, status=Interaction.Status.CLOSED)

    with pytest.raises(InvalidStatusChange):
        change_status(interaction, status=Interaction.Status.PENDING, actor=agent)


def test_assign_interaction_records_from_and_to(workspace, agent, owner):
    interaction = make_interaction(workspace=workspace)

    assign_interaction(interaction, assignee=agent, actor=owner)

    interaction.refresh_from_db()
    assert interaction.assignee == agent
    assert _events(interaction) == [("assigned", {"from": None, "to": agent.pk})]


def test_assign_interaction_refuses_a_stranger(workspace, owner):
    interaction = make_interaction(workspace=workspace)

    with pytest.raises(AssigneeNotMember):
        assign_interaction(interaction, assignee=make_user(), actor=owner)

    assert _events(interaction) == []


def test_add_note_stores_a_private_message_and_event(workspace, agent):
    interaction = make_interaction(workspace=workspace)

    note = add_note(interaction, text="  Позвонить клиенту  ", actor=agent)

    assert (note.direction, note.text, note.author) == ("note", "Позвонить клиенту", agent)
    assert _events(interaction) == [("note_added", {"message_id": note.pk})]


def test_add_note_refuses_empty_text(workspace, agent):
    with pytest.raises(EmptyNote):
        add_note(make_interaction(workspace=workspace), text="   ", actor=agent)


def test_mark_read_clears_unread_once(workspace, agent):
    interaction = make_interaction(workspace=workspace, unread_count=3)

    mark_read(interaction, actor=agent)
    mark_read(interaction, actor=agent)

    interaction.refresh_from_db()
    assert interaction.unread_count == 0
    assert _events(interaction) == [("read", {"read": 3})]


def test_publish_drafts_queues_good_drafts_and_counts_skips(
    workspace, agent, django_capture_on_commit_callbacks
):
    account = make_account(workspace=workspace, sandbox_mode=True)
    good = make_interaction(
        workspace=workspace, account=account, draft="Спасибо за отзыв! Рады, что понравилось."
    )
    answered = make_interaction(workspace=workspace, account=account, is_answered=True, draft="x")
    no_draft = make_interaction(workspace=workspace, account=account, draft="")

    with django_capture_on_commit_callbacks(execute=True):
        result = publish_drafts([good, answered, no_draft], actor=agent)

    assert result.queued == 1
    assert result.skipped == {"already_answered": 1, "no_draft": 1}
    message = Message.objects.get(pk=result.message_ids[0])
    assert (message.interaction, message.direction) == (good, "out")


def test_publish_drafts_twice_queues_once(workspace, agent):
    account = make_account(workspace=workspace)
    item = make_interaction(
        workspace=workspace, account=account, draft="Спасибо за отзыв! Рады, что понравилось."
    )
    first = publish_drafts([item], actor=agent)

    second = publish_drafts([item], actor=agent)

    assert (first.queued, second.queued) == (1, 0)
    assert sum(second.skipped.values()) == 1


def test_publish_drafts_sends_a_chat_only_the_draft_of_an_unanswered_buyer_message(
    workspace, agent
):
    account = make_account(workspace=workspace)
    draft = "Здравствуйте! Пришлите, пожалуйста, фото."
    earlier = timezone.now() - timedelta(minutes=10)
    stale, fresh = (
        make_interaction(
            workspace=workspace, account=account, channel="chat", rating=None, draft=draft
        )
        for _ in range(2)
    )
    for chat, analysed in ((stale, earlier), (fresh, timezone.now())):
        make_message(
            interaction=chat,
            direction="out",
            author_type="seller",
            delivery_status="confirmed",
            text="Здравствуйте! Уже проверяем.",
            occurred_at=earlier + timedelta(minutes=1),
        )
        Interaction.objects.filter(pk=chat.pk).update(analyzed_at=analysed)

    thanked = make_interaction(
        workspace=workspace, account=account, channel="chat", rating=None, draft="Пожалуйста!"
    )
    Interaction.objects.filter(pk=thanked.pk).update(needs_response=False)

    result = publish_drafts(
        Interaction.objects.filter(pk__in=[stale.pk, fresh.pk, thanked.pk]), actor=agent
    )

    assert result.skipped == {"already_answered": 1, "no_reply_needed": 1}
    assert Message.objects.get(pk=result.message_ids[0]).interaction_id == fresh.pk


def test_every_reason_a_bulk_publish_skips_an_item_reads_in_russian():
    from inbox.services.bulk import skip_reasons

    codes = {"duplicate_message": 2, "reply_window_closed": 1, "something_new": 1}

    assert skip_reasons(codes) == [
        ("Только что отправлено", 2),
        ("Маркетплейс больше не принимает ответ", 1),
        ("Другая причина", 1),
    ]


def test_close_interactions_closes_each_open_one(workspace, agent):
    items = [make_interaction(workspace=workspace, status="open") for _ in range(2)]
    items.append(make_interaction(workspace=workspace, status="closed"))

    closed = close_interactions(items, actor=agent)

    assert closed == 2
    assert set(Interaction.objects.values_list("status", flat=True)) == {"closed"}


def test_presence_shows_other_viewers_and_typing(workspace, agent, owner):
    interaction = make_interaction(workspace=workspace)

    touch_presence(interaction, user=agent, is_typing=True)
    touch_presence(interaction, user=owner, is_typing=False)

    viewers = interaction_viewers(interaction, exclude=owner)
    assert [(v.user_id, v.is_typing) for v in viewers] == [(agent.pk, True)]


def test_presence_forgets_stale_viewers(workspace, agent, owner):
    interaction = make_interaction(workspace=workspace)
    touch_presence(interaction, user=agent, is_typing=False, at=1000.0)

    assert interaction_viewers(interaction, exclude=owner, at=1100.0) == []
