"""The client for an account's marketplace: the one place that knows which class serves which."""

from typing import Any

from connectors.ozon.client import OzonClient
from connectors.types import MarketplaceClient
from connectors.wb.client import WBClient


class UnsupportedMarketplace(ValueError):
    """No client is registered for this marketplace (a configuration or data error)."""


def client_for(account: Any) -> MarketplaceClient:
    """A `MarketplaceClient` for a `MarketplaceAccount`, chosen by `account.marketplace`."""
    if account.marketplace == "wb":
        return WBClient(account)
    if account.marketplace == "ozon":
        return OzonClient(account)
    raise UnsupportedMarketplace(
        f"no marketplace client for {account.marketplace!r} (account {account.pk})"
    )
