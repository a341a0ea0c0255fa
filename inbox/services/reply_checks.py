"""The checks every outgoing reply passes before it is queued (one entry point).

`check_outgoing_reply` is the hook: the guardrails (stop-words, promises, personal data …) are
added here by the intelligence app, so manual replies, AI drafts and auto-replies all pass the
same gate. It raises a `DomainError` whose message the seller sees.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from connectors.registry import client_for
from inbox.exceptions import (
    AlreadyAnswered,
    AnswerNotEditable,
    DuplicateChatMessage,
    ReplyLengthInvalid,
    ReplyWindowClosed,
)
from inbox.models import (
    LIVE_OR_DRY_RUN_STATUSES,
    LIVE_REPLY_STATUSES,
    Channel,
    Interaction,
    Message,
)
from intelligence.exceptions import ReplyBlockedByGuardrail
from intelligence.guardrails import Verdict
from intelligence.services import check_outgoing_guardrails

# The same chat message again within this time is a double click or a resent form, not a
# second message the seller means to send.
DUPLICATE_WINDOW = timedelta(minutes=2)


def chat_draft_predates(interaction: Interaction, latest_outbound: Message | None) -> bool:
    """A chat's draft was written before our latest message to the buyer: sending it would
    repeat what the buyer already has. (After a failed message the draft stays usable.)"""
    return (
        interaction.channel == Channel.CHAT
        and latest_outbound is not None
        and latest_outbound.delivery_status in LIVE_OR_DRY_RUN_STATUSES
        and (
            interaction.analyzed_at is None
            or interaction.analyzed_at <= latest_outbound.occurred_at
        )
    )


def answer_is_editable(interaction: Interaction, *, now: datetime) -> bool:
    """Whether the published review/question answer may still be changed (edit or replace)."""
    return (
        interaction.is_answered
        and interaction.answer_edits_left > 0
        and (interaction.answer_editable_until is None or interaction.answer_editable_until >= now)
    )


def check_outgoing_reply(
    interaction: Interaction, text: str, *, is_edit: bool = False, now: datetime | None = None
) -> Verdict:
    """Raise a DomainError if `text` may not be sent as a reply to `interaction`.

    Returns the guardrail verdict (`ok` or `warn` with its findings) for the caller to record.
    """
    now = now or timezone.now()
    minimum, maximum = client_for(interaction.account).text_limits(interaction.channel)
    length = len(text.strip())
    if not minimum <= length <= maximum:
        raise ReplyLengthInvalid(min=minimum, max=maximum, length=length)
    # Guardrails (intelligence app): `block` stops every reply — human, AI draft or auto-reply;
    # `warn` (including a near-copy of a recent reply) passes and is returned for the caller
    # to record with the queued message.
    verdict = check_outgoing_guardrails(interaction, text)
    if verdict.is_blocked:
        raise ReplyBlockedByGuardrail(verdict.findings)
    if interaction.reply_window_ends_at is not None and interaction.reply_window_ends_at < now:
        raise ReplyWindowClosed
    if interaction.channel == Channel.CHAT:
        # A chat takes any number of messages, but not the same one twice in a row.
        if (
            Message.objects.for_workspace(interaction.workspace)
            .filter(
                interaction=interaction,
                direction=Message.Direction.OUTBOUND,
                delivery_status__in=LIVE_OR_DRY_RUN_STATUSES,
                occurred_at__gte=now - DUPLICATE_WINDOW,
                text=text.strip(),
            )
            .exists()
        ):
            raise DuplicateChatMessage
        return verdict
    if is_edit:
        if not answer_is_editable(interaction, now=now):
            raise AnswerNotEditable
        return verdict
    has_answer = (
        interaction.is_answered
        or Message.objects.for_workspace(interaction.workspace)
        .filter(
            interaction=interaction,
            direction=Message.Direction.OUTBOUND,
            delivery_status__in=LIVE_REPLY_STATUSES,
        )
        .exists()
    )
    if has_answer:
        raise AlreadyAnswered
    return verdict
