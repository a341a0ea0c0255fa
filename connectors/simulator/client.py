"""Typed helper for the simulator's control API (tests, benchmarks, demo seeding)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class SimAccountHandle:
    account_id: str
    token: str
    created: bool


@dataclass(frozen=True, slots=True)
class SimOzonAccountHandle:
    account_id: str
    client_id: str
    api_key: str
    created: bool


class SimulatorClient:
    """Talks to ``{url}/_simulator/…``; ``url`` is the simulator's base URL."""

    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def api_url(self, host: str, path: str) -> str:
        """Where the simulator serves ``https://{host}{path}``."""
        return f"{self.url}/{host}{path}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, f"/_simulator{path}", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self) -> None:
        self._call("POST", "/reset")

    def create_wb_account(self, **options: Any) -> SimAccountHandle:
        """Options as in POST /_simulator/accounts (``token``, ``seed``, ``reviews``, ``limits``…)."""
        result = self._call("POST", "/accounts", {"marketplace": "wb", **options})
        return SimAccountHandle(result["account_id"], result["token"], result["created"])

    def create_ozon_account(self, **options: Any) -> SimOzonAccountHandle:
        """Options as in POST /_simulator/accounts (``client_id``, ``api_key``, ``seed``,
        ``reviews``, ``questions``, ``chats``, ``products``, ``limits``, ``subscription``,
        ``roles``, ``key_valid_days``, ``moderation_seconds``…)."""
        result = self._call("POST", "/accounts", {"marketplace": "ozon", **options})
        return SimOzonAccountHandle(
            result["account_id"], result["client_id"], result["api_key"], result["created"]
        )

    def configure_ozon(self, account_id: str, **settings: Any) -> None:
        """Change a live Ozon account: ``subscription``, ``roles``, ``key_expires_in_days``."""
        self._call("POST", f"/accounts/{account_id}/settings", settings)

    def create_account(self, **options: Any) -> dict[str, Any]:
        return self._call("POST", "/accounts", options)

    def generate(self, account_id: str, **counts: Any) -> dict[str, Any]:
        return self._call("POST", f"/accounts/{account_id}/generate", counts)

    def add_fault(
        self,
        account_id: str,
        kind: str,
        *,
        count: int = 1,
        delay_seconds: float = 0.0,
        path_contains: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": kind, "count": count, "delay_seconds": delay_seconds}
        if path_contains is not None:
            body["path_contains"] = path_contains
        return self._call("POST", f"/accounts/{account_id}/faults", body)

    def restore_token(self, account_id: str) -> None:
        self._call("POST", f"/accounts/{account_id}/restore_token")

    def set_limits(self, account_id: str, *, enabled: bool) -> None:
        self._call("POST", f"/accounts/{account_id}/settings", {"limits": enabled})

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def account_stats(self, account_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.stats()["accounts"][account_id]
        return result

    def truth(self, account_id: str) -> dict[str, Any]:
        return self._call("GET", f"/accounts/{account_id}/truth")

    def answers(self, account_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/accounts/{account_id}/answers")[
            "answers"
        ]
        return result
