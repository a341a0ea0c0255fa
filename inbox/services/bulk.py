"""Bulk triage: approve and publish many AI drafts at once, through the normal outbox."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from agentiq.errors import DomainError
from inbox.models import Channel, Interaction, User
from inbox.services.replies import queue_reply


@dataclass(frozen=True, slots=True)
class BulkPublishResult:
    message_ids: tuple[int, ...]
    skipped: dict[str, int]  # reason code → how many
    account_ids: tuple[int, ...]

    @property
    def queued(self) -> int:
        return len(self.message_ids)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def publish_drafts(interactions: Iterable[Interaction], *, actor: User) -> BulkPublishResult:
    """Approve and queue each interaction's AI draft through `queue_reply` (the outbox).

    Skips, and counts by reason, items already answered or without a draft; every refusal of
    `queue_reply` (guardrail block, answer already queued, window closed …) is counted under
    its `DomainError.code`. Each reply is its own transaction: one refusal never undoes the
    rest.
    """
    message_ids: list[int] = []
    account_ids: set[int] = set()
    skipped: Counter[str] = Counter()
    for interaction in interactions:
        draft = interaction.draft.strip()
        if interaction.is_answered and interaction.channel != Channel.CHAT:
            skipped["already_answered"] += 1
            continue
        if not draft:
            skipped["no_draft"] += 1
            continue
        try:
            message = queue_reply(interaction, text=draft, actor=actor)
        except DomainError as error:
            skipped[error.code] += 1
            continue
        message_ids.append(message.pk)
        account_ids.add(interaction.account_id)
    return BulkPublishResult(
        message_ids=tuple(message_ids), skipped=dict(skipped), account_ids=tuple(account_ids)
    )
