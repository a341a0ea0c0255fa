"""What every marketplace client shares: the account it serves, answer limits, publishing,
gathering small list pages.

A client subclasses `ClientBase`, sets `TEXT_LIMITS` and `MARKETPLACE`, and implements
`_publish_review`, `_publish_question` and `_publish_chat`; the rest of the
`MarketplaceClient` protocol (connectors/types.py) is its own.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from django.utils.translation import gettext as _

from connectors.exceptions import PublishRejected, RateLimited
from connectors.types import AnswerEdits, MalformedItem, Page, PublishResult

logger = logging.getLogger(__name__)

# A page handed to the ingest gathers a marketplace's small list pages up to about this many
# items: each ingest is one transaction with a fixed number of queries, so ten items a page
# (Ozon questions) would spend nearly all of its time on the fixed part.
GATHER_ITEMS = 1000


def gather_pages(
    fetch: Callable[[Mapping[str, Any]], Page], state: Mapping[str, Any], limit: int = GATHER_ITEMS
) -> Page:
    """Consecutive list pages from `fetch` up to `limit` items, as one page (the items of a
    list are independent of each other).

    When the rate budget runs out after the first page, what arrived is returned: its state
    is where the next run goes on from.
    """
    items: list[Any] = []
    malformed: list[MalformedItem] = []
    while True:
        try:
            page = fetch(state)
        except RateLimited:
            if not items and not malformed:
                raise
            return Page(tuple(items), tuple(malformed), state, done=False)
        items += page.items
        malformed += page.malformed
        state = page.next_state
        if page.done or len(items) + len(malformed) >= limit:
            return Page(tuple(items), tuple(malformed), state, done=page.done)


class AccountLike(Protocol):
    """A `MarketplaceAccount`, saved or not (the connection check runs before saving)."""

    pk: Any
    base_url: str
    credentials: Any
    marketplace: str


class ClientBase(ABC):
    MARKETPLACE: ClassVar[str]
    # (min, max) characters of an answer per channel, from the marketplace's contract.
    TEXT_LIMITS: ClassVar[Mapping[str, tuple[int, int]]]
    # Whether the marketplace itself refuses a second answer to a review or question. Then a
    # first publish attempt needs no read-back beforehand: the rate budget goes to sending.
    REFUSES_SECOND_ANSWER: ClassVar[bool] = False
    ANSWER_EDITS: ClassVar[AnswerEdits]

    account: AccountLike

    def text_limits(self, channel: str) -> tuple[int, int]:
        return self.TEXT_LIMITS[channel]

    def publish(
        self,
        channel: str,
        external_id: str,
        text: str,
        *,
        idempotency_key: str,
        is_edit: bool = False,
    ) -> PublishResult:
        """Send an answer after checking the channel's length limits.

        Marketplaces take no idempotency keys: the caller reads the answer back
        (`read_answer`) before any retry, and a write that may have reached the marketplace
        (5xx, timeout) is never resent here.
        """
        low, high = self.text_limits(channel)
        if len(text.strip()) < low or len(text) > high:
            raise PublishRejected(
                _("The answer must be %(min)d to %(max)d characters long; it has %(length)d.")
                % {"min": low, "max": high, "length": len(text)}
            )
        if channel == "review":
            result = self._publish_review(external_id, text, is_edit=is_edit)
        elif channel == "question":
            result = self._publish_question(external_id, text, is_edit=is_edit)
        elif channel == "chat":
            result = self._publish_chat(external_id, text)
        else:
            raise ValueError(f"unknown {self.MARKETPLACE} channel: {channel!r}")
        logger.info(
            "Answer sent",
            extra={
                "account_id": self.account.pk,
                "marketplace": self.MARKETPLACE,
                "channel": channel,
                "external_id": external_id,
                "idempotency_key": idempotency_key,
                "is_edit": is_edit,
            },
        )
        return result

    @abstractmethod
    def _publish_review(self, external_id: str, text: str, *, is_edit: bool) -> PublishResult: ...

    @abstractmethod
    def _publish_question(self, external_id: str, text: str, *, is_edit: bool) -> PublishResult: ...

    @abstractmethod
    def _publish_chat(self, external_id: str, text: str) -> PublishResult: ...
