"""The simulator's in-memory world: accounts of every marketplace, and how credentials map to them."""

from __future__ import annotations

import threading
from typing import Protocol

from connectors.simulator import data
from connectors.simulator.core import AccountStats, FaultQueue


class SimAccount(Protocol):
    account_id: str
    marketplace: str
    lock: threading.RLock
    stats: AccountStats
    faults: FaultQueue
    is_revoked: bool

    def truth(self) -> dict[str, object]: ...


class Registry:
    """Thread-safe index of accounts. Each account has its own lock for its state."""

    def __init__(self, default_seed: int = 1) -> None:
        self.default_seed = default_seed
        self.lock = threading.Lock()
        self.accounts: dict[str, SimAccount] = {}
        self.wb_tokens: dict[str, str] = {}
        self.ozon_credentials: dict[tuple[str, str], str] = {}
        self.ozon_client_ids: dict[str, str] = {}
        self.wb_products: dict[int, data.Product] = {}
        self.total_requests = 0
        self._sequence = 0
        self._texts: data.TextSource | None = None

    @property
    def texts(self) -> data.TextSource:
        if self._texts is None:
            self._texts = data.TextSource()
        return self._texts

    def next_account_id(self, marketplace: str) -> str:
        with self.lock:
            self._sequence += 1
            return f"{marketplace}-{self._sequence}"

    def count_request(self) -> None:
        with self.lock:
            self.total_requests += 1

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.wb_tokens.clear()
            self.ozon_credentials.clear()
            self.ozon_client_ids.clear()
            self.wb_products.clear()
            self.total_requests = 0
            self._sequence = 0

    def account(self, account_id: str) -> SimAccount | None:
        with self.lock:
            return self.accounts.get(account_id)

    def wb_account_for_token(self, token: str) -> SimAccount | None:
        with self.lock:
            account_id = self.wb_tokens.get(token)
            return self.accounts.get(account_id) if account_id else None
