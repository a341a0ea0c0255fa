"""The outbox: queue a reply, publish it exactly once, confirm it by reading it back.

Exactly once, even when a worker dies at any point:
1. `queue_reply` stores the Message (`queued`, a unique idempotency key) and enqueues the
   publish job on commit.
2. `publish_message` moves `queued → sending` under `select_for_update` in a short transaction
   (a second worker sees `sending` and stops), commits, and only then talks to the marketplace.
3. Before sending, it reads the item's answer from the marketplace: if our text is already
   there (an earlier attempt sent it and died before recording it), it records `sent` without
   sending again.
4. `recover_stuck_messages` returns `sending` messages whose worker died to `queued` (or to
   `sent`, if the marketplace shows the text) — the same read-before-send rule.
5. A `sent` answer is read back: `confirmed`, or `failed` when the marketplace does not show it.
   While other replies wait in the outbox, or when the read fails for a while, the read-back
   runs later in a job of its own (`confirm_message`): the account's request budget goes to
   sending first.
No database transaction is open during an HTTP call.
"""

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from rq import Retry

from agentiq.redis import get_queue
from connectors.exceptions import (
    AnswerNotReadable,
    MarketplaceError,
    PublishRejected,
    TransientMarketplaceError,
)
from connectors.registry import answer_edits, client_for
from connectors.types import AnswerState, MarketplaceClient, PublishResult
from inbox.models import Channel, Interaction, InteractionEvent, Message, User
from inbox.services.ingest import ANSWER_EXTERNAL_ID

logger = logging.getLogger(__name__)

PUBLISH_JOB = "connectors.jobs.publish_outbox_job"
PUBLISH_JOB_TIMEOUT = 120
PUBLISH_RETRY = Retry(max=6, interval=[5, 15, 60, 180, 600, 1800])
CONFIRM_JOB = "connectors.jobs.confirm_message_job"
CONFIRM_RETRY = Retry(max=5, interval=[10, 60, 300, 900, 3600])
# A message `sending` for longer than this has lost its worker (job timeout is 2 minutes).
STUCK_AFTER = timedelta(minutes=10)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def enqueue_publish(message: Message) -> None:
    """Enqueue the publish job of a queued message (at `publish_after` if it is later)."""
    queue = get_queue("outbox")
    kwargs: dict[str, Any] = {
        "job_timeout": PUBLISH_JOB_TIMEOUT,
        "retry": PUBLISH_RETRY,
        "job_id": f"publish-message-{message.pk}-{message.attempts}",
    }
    if message.publish_after is not None and message.publish_after > timezone.now():
        queue.enqueue_at(message.publish_after, PUBLISH_JOB, message.pk, **kwargs)
    else:
        queue.enqueue(PUBLISH_JOB, message.pk, **kwargs)


def enqueue_confirm(message: Message) -> None:
    """Enqueue the read-back of a sent message (behind the replies already waiting)."""
    get_queue("outbox").enqueue(
        CONFIRM_JOB,
        message.pk,
        job_id=f"confirm-message-{message.pk}",
        job_timeout=PUBLISH_JOB_TIMEOUT,
        retry=CONFIRM_RETRY,
    )


def queue_reply(
    interaction: Interaction,
    *,
    text: str,
    actor: User | None,
    author_type: str = Message.AuthorType.SELLER,
    is_edit: bool = False,
    publish_after: datetime | None = None,
) -> Message:
    """Store a reply for publishing and enqueue its publication after commit.

    Raises the DomainErrors of `check_outgoing_reply` (length, already answered, not editable,
    window closed). The interaction row is locked while checking, so two agents cannot both
    queue a first answer. Sandbox accounts get a `dry_run` message that is never published.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Interaction.objects.for_workspace(interaction.workspace)
            .select_for_update()
            .select_related("account")
            .get(pk=interaction.pk)
        )
        # Imported here: the checks call the intelligence app's guardrails, whose services
        # import this module's users (an import cycle at module level).
        from inbox.services.reply_checks import check_outgoing_reply

        verdict = check_outgoing_reply(locked, text, is_edit=is_edit, now=now)
        is_dry_run = locked.account.sandbox_mode
        message = Message.objects.create(
            workspace_id=locked.workspace_id,
            interaction=locked,
            direction=Message.Direction.OUTBOUND,
            author_type=author_type,
            author=actor,
            text=text.strip(),
            delivery_status=(
                Message.DeliveryStatus.DRY_RUN if is_dry_run else Message.DeliveryStatus.QUEUED
            ),
            is_edit=is_edit,
            publish_after=publish_after,
            idempotency_key=uuid4().hex,
            occurred_at=now,
        )
        _event(
            locked,
            InteractionEvent.Kind.REPLY_QUEUED,
            actor=actor,
            message=message,
            dry_run=is_dry_run,
            is_edit=is_edit,
            guardrails=verdict.to_dict() if verdict is not None else None,
        )
        if not is_dry_run:
            transaction.on_commit(lambda: enqueue_publish(message))
    return message


def publish_message(message_id: int, *, now: datetime | None = None) -> Message:
    """Publish one queued message exactly once; see the module docstring for the protocol.

    Returns the message in its new state. Re-raises TransientMarketplaceError (after putting
    the message back to `queued`) so the job retries; other marketplace errors mark it failed.
    """
    message = _claim(message_id, now=now)
    if message.delivery_status != Message.DeliveryStatus.SENDING:
        return message
    interaction = message.interaction
    client = client_for(interaction.account)
    try:
        # Only a retry can find its own text already there (the worker died after sending);
        # a first attempt reads first where the marketplace would accept a second answer.
        read_first = message.attempts > 1 or not client.REFUSES_SECOND_ANSWER
        published = _published_already(client, message) if read_first else None
        result = published or _send(client, message, read_on_refusal=not read_first)
    except TransientMarketplaceError:
        _requeue(message)
        raise
    except MarketplaceError as error:
        return _mark_failed(message, str(error))
    _mark_sent(message, result)
    if get_queue("outbox").count:
        # Other replies are waiting: they go out first, the read-back follows in its own job.
        enqueue_confirm(message)
        return message
    return _confirm_or_defer(client, message)


def confirm_message(message_id: int) -> Message | None:
    """Read a sent answer back (the job behind `enqueue_confirm`); None if it is not `sent`.

    Raises TransientMarketplaceError so that the job retries; the message stays `sent`.
    """
    message = (
        Message.objects.select_related("interaction__account", "interaction__workspace")
        .filter(pk=message_id, delivery_status=Message.DeliveryStatus.SENT)
        .first()
    )
    if message is None:
        return None
    return _confirm(client_for(message.interaction.account), message)


def _send(client: MarketplaceClient, message: Message, *, read_on_refusal: bool) -> PublishResult:
    """Send the text; a refusal without a read beforehand is checked against what is there."""
    interaction = message.interaction
    try:
        return client.publish(
            interaction.channel,
            interaction.external_id,
            message.text,
            idempotency_key=message.idempotency_key,
            is_edit=message.is_edit,
        )
    except PublishRejected:
        # "Already answered" may be our own text from an attempt nobody recorded.
        if read_on_refusal and _shows_our_text(_read_answer(client, message), message):
            return PublishResult()
        raise


def _claim(message_id: int, *, now: datetime | None) -> Message:
    """queued → sending (attempts + 1), in a short transaction of its own."""
    now = now or timezone.now()
    with transaction.atomic():
        # Job entry point: the message id is the key; the interaction's workspace scopes the rest.
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("interaction__account", "interaction__workspace")
            .get(pk=message_id)
        )
        if message.delivery_status != Message.DeliveryStatus.QUEUED:
            return message
        if message.publish_after is not None and message.publish_after > now:
            return message
        message.delivery_status = Message.DeliveryStatus.SENDING
        message.attempts += 1
        message.save(update_fields=["delivery_status", "attempts", "updated_at"])
    return message


def _read_answer(client: MarketplaceClient, message: Message) -> AnswerState | None:
    """The marketplace's current answer; None where the client cannot read it (some chats)."""
    interaction = message.interaction
    try:
        return client.read_answer(interaction.channel, interaction.external_id)
    except AnswerNotReadable:
        return None


def _shows_our_text(state: AnswerState | None, message: Message) -> bool:
    return bool(state and state.exists and _normalise(state.text) == _normalise(message.text))


def _published_already(client: MarketplaceClient, message: Message) -> PublishResult | None:
    """If an earlier attempt already published this text, the result to record instead.

    A first answer of a review/question that finds ANOTHER answer there is refused: the item
    was answered elsewhere meanwhile, and a second answer would fail or overwrite it.
    """
    state = _read_answer(client, message)
    if _shows_our_text(state, message):
        logger.info(
            "Answer already on the marketplace; not sending again",
            extra={"message_id": message.pk, "interaction_id": message.interaction_id},
        )
        return PublishResult()
    is_chat = message.interaction.channel == Channel.CHAT
    if state is not None and state.exists and not is_chat and not message.is_edit:
        raise PublishRejected(gettext("The item was already answered on the marketplace."))
    return None


def _requeue(message: Message) -> None:
    Message.objects.filter(pk=message.pk, delivery_status=Message.DeliveryStatus.SENDING).update(
        delivery_status=Message.DeliveryStatus.QUEUED, updated_at=timezone.now()
    )
    message.delivery_status = Message.DeliveryStatus.QUEUED


def _mark_failed(message: Message, reason: str) -> Message:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            delivery_status=Message.DeliveryStatus.FAILED,
            failure_reason=reason,
            updated_at=timezone.now(),
        )
        _event(
            message.interaction, InteractionEvent.Kind.REPLY_FAILED, message=message, reason=reason
        )
    message.delivery_status = Message.DeliveryStatus.FAILED
    message.failure_reason = reason
    logger.warning(
        "Reply rejected by the marketplace",
        extra={"message_id": message.pk, "interaction_id": message.interaction_id},
    )
    return message


def _mark_sent(message: Message, result: PublishResult) -> None:
    """sending → sent, and the interaction's answer state, in one short transaction."""
    now = timezone.now()
    interaction = message.interaction
    sent_at = result.sent_at or now
    is_chat = interaction.channel == Channel.CHAT
    # Reviews/questions: our message becomes "the answer" the sync would otherwise add a copy of.
    external_id = result.external_id if is_chat else ANSWER_EXTERNAL_ID
    rules = answer_edits(interaction.marketplace)
    with transaction.atomic():
        if external_id:
            Message.objects.filter(interaction=interaction, external_id=external_id).exclude(
                pk=message.pk
            ).update(external_id="")
        message.delivery_status = Message.DeliveryStatus.SENT
        message.sent_at = sent_at
        message.external_id = external_id
        message.save(update_fields=["delivery_status", "sent_at", "external_id", "updated_at"])
        fields: dict[str, Any] = {
            "is_answered": True,
            "needs_response": False,
            "first_response_at": Coalesce(F("first_response_at"), sent_at),
            "updated_at": now,
        }
        if not is_chat:
            if message.is_edit and not rules.by_replacing:
                fields["answer_edits_left"] = 0
            else:
                fields["answer_edits_left"] = rules.edits
                fields["answer_editable_until"] = (
                    sent_at + rules.window if rules.window and rules.edits else None
                )
        Interaction.objects.filter(pk=interaction.pk).update(**fields)
        _event(interaction, InteractionEvent.Kind.REPLY_SENT, message=message)


def _confirm_or_defer(client: MarketplaceClient, message: Message) -> Message:
    try:
        return _confirm(client, message)
    except TransientMarketplaceError:
        enqueue_confirm(message)  # stays `sent` until the job can read it
        return message


def _confirm(client: MarketplaceClient, message: Message) -> Message:
    """Read the answer back: confirmed, or failed when the marketplace does not show it.
    Raises TransientMarketplaceError (the message stays `sent`)."""
    try:
        state = _read_answer(client, message)
    except TransientMarketplaceError:
        raise  # not the refusal below: the caller retries later
    except MarketplaceError:
        state = AnswerState(exists=False)  # e.g. WB: "cannot get the review by id"
    if state is None:
        return message  # the client cannot read this channel back: `sent` is final
    with transaction.atomic():
        if _shows_our_text(state, message):
            message.delivery_status = Message.DeliveryStatus.CONFIRMED
            message.confirmed_at = timezone.now()
            message.save(update_fields=["delivery_status", "confirmed_at", "updated_at"])
            _event(message.interaction, InteractionEvent.Kind.REPLY_CONFIRMED, message=message)
        else:
            reason = gettext("The marketplace does not show the answer.")
            message.delivery_status = Message.DeliveryStatus.FAILED
            message.failure_reason = reason
            message.save(update_fields=["delivery_status", "failure_reason", "updated_at"])
            _event(
                message.interaction,
                InteractionEvent.Kind.REPLY_FAILED,
                message=message,
                reason=reason,
            )
    return message


def recover_stuck_messages(
    *, now: datetime | None = None, older_than: timedelta = STUCK_AFTER
) -> int:
    """`sending` messages whose worker died: re-read the answer, then `sent` or `queued` again.

    Cross-tenant housekeeping (cron), hence unscoped. Returns how many were recovered.
    """
    now = now or timezone.now()
    stuck_ids = list(
        Message.objects.filter(
            delivery_status=Message.DeliveryStatus.SENDING, updated_at__lt=now - older_than
        ).values_list("pk", flat=True)[:500]
    )
    recovered = 0
    for message_id in stuck_ids:
        message = (
            Message.objects.select_related("interaction__account", "interaction__workspace")
            .filter(pk=message_id, delivery_status=Message.DeliveryStatus.SENDING)
            .first()
        )
        if message is None:
            continue
        client = client_for(message.interaction.account)
        try:
            state = _read_answer(client, message)
        except TransientMarketplaceError:
            continue  # try again on the next run
        if _shows_our_text(state, message):
            _mark_sent(message, PublishResult())
            _confirm_or_defer(client, message)
        elif state is None:
            # Unreadable channel: sending again could post twice, so a person decides.
            _mark_failed(
                message,
                gettext(
                    "Sending was interrupted. Check the chat before sending the message again."
                ),
            )
        else:
            claimed = Message.objects.filter(
                pk=message.pk, delivery_status=Message.DeliveryStatus.SENDING
            ).update(delivery_status=Message.DeliveryStatus.QUEUED, updated_at=now)
            if claimed:
                message.delivery_status = Message.DeliveryStatus.QUEUED
                enqueue_publish(message)
        recovered += 1
    return recovered


def _event(
    interaction: Interaction,
    kind: str,
    *,
    message: Message,
    actor: User | None = None,
    **payload: Any,
) -> None:
    InteractionEvent.objects.create(
        workspace_id=interaction.workspace_id,
        interaction=interaction,
        account_id=interaction.account_id,
        kind=kind,
        actor=actor,
        payload={"message_id": message.pk, **payload},
    )
