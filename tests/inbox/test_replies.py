from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq import SimpleWorker

from connectors.exceptions import TransientMarketplaceError
from connectors.registry import client_for
from connectors.sync import sync_account
from inbox.exceptions import AlreadyAnswered, ReplyLengthInvalid
from inbox.models import Interaction, InteractionEvent, Message
from inbox.services.replies import (
    confirm_message,
    publish_message,
    queue_reply,
    recover_stuck_messages,
)
from tests.factories import make_account

REPLY = "Спасибо за отзыв! Рады, что футболка вам понравилась."


@pytest.fixture
def synced(simulator, workspace):
    handle = simulator.create_wb_account(reviews=6, questions=3, chats=2, limits=False)
    account = make_account(
        workspace=workspace, credentials={"token": handle.token}, base_url=simulator.url
    )
    sync_account(account.pk)
    return account, handle.account_id


def unanswered_review(account) -> Interaction:
    return (
        Interaction.objects.filter(account=account, channel="review", is_answered=False)
        .order_by("id")
        .first()
    )


def run_outbox() -> None:
    queue = django_rq.get_queue("outbox")
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_queue_reply_is_published_once_by_the_outbox_worker(
    simulator,
    synced,
    owner,
    django_capture_on_commit_callbacks,
):
    account, sim_id = synced
    interaction = unanswered_review(account)

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_reply(interaction, text=REPLY, actor=owner)
    run_outbox()

    message.refresh_from_db()
    interaction.refresh_from_db()
    assert message.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert (message.attempts, message.external_id) == (1, "answer")
    assert interaction.is_answered is True
    assert interaction.answer_edits_left == 1
    assert interaction.answer_editable_until == message.sent_at + timedelta(days=60)
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}
    assert list(
        InteractionEvent.objects.filter(interaction=interaction)
        .exclude(kind="received")
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["reply_queued", "reply_sent", "reply_confirmed"]


def test_publish_message_after_a_crash_between_send_and_commit_does_not_resend(
    simulator,
    synced,
    owner,
):
    account, sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)
    # The previous worker sent the answer and died before recording it.
    Message.objects.filter(pk=message.pk).update(delivery_status="sending", attempts=1)
    client_for(account).publish(
        "review", interaction.external_id, REPLY, idempotency_key=message.idempotency_key
    )
    Message.objects.filter(pk=message.pk).update(
        delivery_status="sending", updated_at=timezone.now() - timedelta(hours=1)
    )

    recovered = recover_stuck_messages()

    message.refresh_from_db()
    assert recovered == 1
    assert message.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}


def test_publish_message_sees_an_answer_already_sent_and_does_not_resend(
    simulator,
    synced,
    owner,
):
    account, sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)
    # The first attempt reached WB, but its answer timed out and the message went back to
    # the queue (what `publish_message` does on a transient error after sending).
    client_for(account).publish(
        "review", interaction.external_id, REPLY, idempotency_key=message.idempotency_key
    )
    Message.objects.filter(pk=message.pk).update(attempts=1)

    publish_message(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}


def test_publish_message_twice_posts_once(simulator, synced, owner):
    account, sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)

    publish_message(message.pk)
    publish_message(message.pk)

    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}


def test_publish_message_returns_to_queued_on_a_transient_error(simulator, synced, owner):
    account, sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)
    simulator.add_fault(sim_id, "500", count=3, path_contains="/api/v1/feedback")

    with pytest.raises(TransientMarketplaceError):
        publish_message(message.pk)
    message.refresh_from_db()
    status_after_failure = message.delivery_status
    publish_message(message.pk)

    message.refresh_from_db()
    assert status_after_failure == Message.DeliveryStatus.QUEUED
    assert (message.delivery_status, message.attempts) == ("confirmed", 2)
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}


# Committed for real: the worker's enqueues must not wait for the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_waiting_replies_are_sent_before_earlier_ones_are_read_back(
    simulator, synced, owner, django_capture_on_commit_callbacks
):
    account, sim_id = synced
    first, second = Interaction.objects.filter(
        account=account, channel="review", is_answered=False
    ).order_by("id")[:2]

    with django_capture_on_commit_callbacks(execute=True):
        replies = [queue_reply(item, text=REPLY, actor=owner) for item in (first, second)]
    run_outbox()

    kinds = list(
        InteractionEvent.objects.filter(kind__in=["reply_sent", "reply_confirmed"])
        .order_by("id")
        .values_list("interaction_id", "kind")
    )
    assert kinds == [
        (first.pk, "reply_sent"),
        (second.pk, "reply_sent"),
        (first.pk, "reply_confirmed"),
        (second.pk, "reply_confirmed"),
    ]
    assert {m.delivery_status for m in Message.objects.filter(pk__in=[r.pk for r in replies])} == {
        Message.DeliveryStatus.CONFIRMED
    }
    assert simulator.account_stats(sim_id)["answers_received"] == {
        first.external_id: 1,
        second.external_id: 1,
    }


def test_a_failing_read_back_leaves_the_answer_sent_until_a_retry_reads_it(
    simulator, synced, owner
):
    account, sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)
    publish_message(message.pk)
    Message.objects.filter(pk=message.pk).update(delivery_status="sent", confirmed_at=None)
    simulator.add_fault(sim_id, "500", count=3, path_contains="/api/v1/feedback")

    with pytest.raises(TransientMarketplaceError):
        confirm_message(message.pk)
    status_after_failure = Message.objects.get(pk=message.pk).delivery_status
    confirm_message(message.pk)

    message.refresh_from_db()
    assert status_after_failure == Message.DeliveryStatus.SENT
    assert message.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert confirm_message(message.pk) is None  # nothing left to read back
    assert simulator.account_stats(sim_id)["answers_received"] == {interaction.external_id: 1}


def test_publish_message_fails_when_the_marketplace_does_not_show_the_answer(
    synced,
    owner,
):
    account, _sim_id = synced
    interaction = unanswered_review(account)
    message = queue_reply(interaction, text=REPLY, actor=owner)
    # An id the marketplace does not know: WB accepts the POST (204) but never shows it.
    Interaction.objects.filter(pk=interaction.pk).update(external_id="unknown-review-id")

    publish_message(message.pk)

    message.refresh_from_db()
    assert message.delivery_status == Message.DeliveryStatus.FAILED
    assert message.failure_reason != ""
    assert InteractionEvent.objects.filter(interaction=interaction, kind="reply_failed").exists()


def test_queue_reply_refuses_a_second_answer(synced, owner):
    account, _sim_id = synced
    interaction = unanswered_review(account)
    queue_reply(interaction, text=REPLY, actor=owner)

    with pytest.raises(AlreadyAnswered):
        queue_reply(interaction, text="Ещё раз спасибо!", actor=owner)


def test_queue_reply_refuses_a_too_long_text(synced, owner):
    account, _sim_id = synced
    interaction = unanswered_review(account)

    with pytest.raises(ReplyLengthInvalid) as error:
        queue_reply(interaction, text="Спасибо! " * 700, actor=owner)

    assert error.value.params["max"] == 5000


def test_queue_reply_edit_uses_the_one_wb_edit(simulator, synced, owner):
    account, _sim_id = synced
    interaction = unanswered_review(account)
    publish_message(queue_reply(interaction, text=REPLY, actor=owner).pk)
    interaction.refresh_from_db()

    edit = queue_reply(
        interaction, text="Спасибо за отзыв! Ждём вас снова.", actor=owner, is_edit=True
    )
    publish_message(edit.pk)

    edit.refresh_from_db()
    interaction.refresh_from_db()
    assert edit.delivery_status == Message.DeliveryStatus.CONFIRMED
    assert interaction.answer_edits_left == 0


def test_an_ozon_answer_is_replaced_by_deleting_it_and_stays_replaceable(
    simulator,
    workspace,
    owner,
):
    handle = simulator.create_ozon_account(
        reviews=4, questions=0, chats=0, limits=False, moderation_seconds=0, seed=5
    )
    account = make_account(
        workspace=workspace,
        marketplace="ozon",
        base_url=simulator.url,
        credentials={"client_id": handle.client_id, "api_key": handle.api_key},
    )
    sync_account(account.pk)
    interaction = unanswered_review(account)
    publish_message(queue_reply(interaction, text=REPLY, actor=owner).pk)

    for text in ("Спасибо за отзыв! Ждём вас снова.", "Спасибо! Рады, что вам понравилось."):
        interaction.refresh_from_db()
        edit = queue_reply(interaction, text=text, actor=owner, is_edit=True)
        publish_message(edit.pk)
        edit.refresh_from_db()
        assert edit.delivery_status == Message.DeliveryStatus.CONFIRMED

    interaction.refresh_from_db()
    assert interaction.answer_edits_left == 1
    assert interaction.answer_editable_until is None
    answers = simulator.truth(handle.account_id)["answers"]
    assert (answers["review_comments"], answers["deleted"]) == (3, 2)


def test_queue_reply_on_a_sandbox_account_is_a_dry_run(
    simulator,
    synced,
    owner,
    django_capture_on_commit_callbacks,
):
    account, sim_id = synced
    account.sandbox_mode = True
    account.save(update_fields=["sandbox_mode"])
    interaction = unanswered_review(account)

    with django_capture_on_commit_callbacks(execute=True):
        message = queue_reply(interaction, text=REPLY, actor=owner)
    run_outbox()

    message.refresh_from_db()
    assert message.delivery_status == Message.DeliveryStatus.DRY_RUN
    assert django_rq.get_queue("outbox").count == 0
    assert simulator.account_stats(sim_id)["answers_received"] == {}


def test_chat_reply_is_sent_and_appended(simulator, synced, owner):
    account, sim_id = synced
    chat = Interaction.objects.filter(account=account, channel="chat").order_by("id").first()

    message = publish_message(
        queue_reply(chat, text="Здравствуйте! Заказ уже в пути.", actor=owner).pk
    )

    assert message.delivery_status in {"sent", "confirmed"}
    assert sum(simulator.account_stats(sim_id)["answers_received"].values()) == 1


def test_our_chat_message_seen_in_the_next_sync_is_confirmed_not_added_twice(
    simulator, synced, owner
):
    account, _sim_id = synced
    chat = Interaction.objects.filter(account=account, channel="chat").order_by("id").first()
    text = "Здравствуйте! Заказ уже в пути."
    message = publish_message(queue_reply(chat, text=text, actor=owner).pk)

    sync_account(account.pk)
    sync_account(account.pk)

    ours = Message.objects.filter(interaction=chat, direction="out", text=text)
    assert [(m.pk, m.delivery_status) for m in ours] == [(message.pk, "confirmed")]
    assert ours.get().external_id != ""


def test_our_ozon_chat_message_seen_in_the_next_sync_is_confirmed_not_added_twice(
    simulator, workspace, owner
):
    handle = simulator.create_ozon_account(reviews=2, questions=2, chats=2, limits=False)
    account = make_account(
        workspace=workspace,
        marketplace="ozon",
        credentials={"client_id": handle.client_id, "api_key": handle.api_key},
        base_url=simulator.url,
    )
    fresh = simulator.generate(handle.account_id, chats=1)["chats"][0]  # open for a reply
    sync_account(account.pk)
    chat = Interaction.objects.get(account=account, channel="chat", external_id=fresh)
    text = "Здравствуйте! Заказ уже в пути."
    message = publish_message(queue_reply(chat, text=text, actor=owner).pk)

    sync_account(account.pk)

    ours = Message.objects.filter(interaction=chat, direction="out", text=text)
    assert [(m.pk, m.delivery_status) for m in ours] == [(message.pk, "confirmed")]
