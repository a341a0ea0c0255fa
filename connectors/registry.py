"""The client for an account's marketplace: the one place that knows which class serves which."""

from typing import Any

from connectors.ozon.client import OzonClient
from connectors.types import AnswerEdits, MarketplaceClient
from connectors.wb.client import WBClient


class UnsupportedMarketplace(ValueError):
    """No client is registered for this marketplace (a configuration or data error)."""


CLIENTS: dict[str, type[WBClient] | type[OzonClient]] = {"wb": WBClient, "ozon": OzonClient}


def client_for(account: Any) -> MarketplaceClient:
    """A `MarketplaceClient` for a `MarketplaceAccount`, chosen by `account.marketplace`."""
    try:
        client_class = CLIENTS[account.marketplace]
    except KeyError:
        raise UnsupportedMarketplace(
            f"no marketplace client for {account.marketplace!r} (account {account.pk})"
        ) from None
    return client_class(account)


def answer_edits(marketplace: str) -> AnswerEdits:
    """What the marketplace allows with a published answer (no edit for an unknown one)."""
    client_class = CLIENTS.get(marketplace)
    return client_class.ANSWER_EDITS if client_class else AnswerEdits(edits=0, window=None)
