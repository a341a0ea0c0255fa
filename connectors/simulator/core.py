"""Building blocks shared by the simulated marketplaces: requests, responses, sorted stores,
token buckets, injected faults and per-account statistics."""

from __future__ import annotations

import json
import math
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


MINUTE_US = 60 * 1_000_000
# One tick (one request) adds at most this many arrivals, so a long-idle account cannot stall
# the request that wakes it.
MAX_ARRIVALS_PER_TICK = 10_000


def arrival_rates(value: Any) -> dict[str, float]:
    """The control API's ``arrival_per_minute`` ({"review": 2, …}); ValueError if malformed."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("arrival_per_minute must be an object")
    try:
        return {str(channel): float(rate) for channel, rate in value.items()}
    except (TypeError, ValueError) as error:
        raise ValueError("arrival_per_minute rates must be numbers") from error


@dataclass
class Arrivals:
    """New items arriving at a steady rate per channel (items per minute) since `start_us`."""

    per_minute: Mapping[str, float]
    start_us: int
    arrived: Counter[str] = field(default_factory=Counter)

    def due(self, current_us: int) -> dict[str, int]:
        """Channel → how many items have arrived since the last call."""
        elapsed_minutes = (current_us - self.start_us) / MINUTE_US
        result = {}
        for channel, rate in self.per_minute.items():
            if rate <= 0:
                continue
            count = min(int(elapsed_minutes * rate) - self.arrived[channel], MAX_ARRIVALS_PER_TICK)
            if count > 0:
                self.arrived[channel] += count
                result[channel] = count
        return result


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def now_us() -> int:
    return time.time_ns() // 1000


def rfc3339_from_us(value_us: int, *, fraction: bool = False) -> str:
    moment = datetime.fromtimestamp(value_us / 1_000_000, tz=UTC)
    if fraction:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class SimRequest:
    method: str
    host: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def route_key(self) -> str:
        return f"{self.host}{self.path}"


@dataclass(frozen=True, slots=True)
class SimResponse:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    drop_connection: bool = False

    def with_headers(self, *extra: tuple[str, str]) -> SimResponse:
        return SimResponse(
            self.status, self.body, self.content_type, self.headers + extra, self.drop_connection
        )


def json_response(
    status: int, payload: Any, *, content_type: str = JSON_CONTENT_TYPE
) -> SimResponse:
    return SimResponse(status, dumps(payload), content_type)


class Record:
    """One marketplace item (review, question, card…) with its wire payload and a cached encoding."""

    __slots__ = ("created_us", "data", "fragment", "item_id", "nm_id")

    def __init__(self, item_id: str, created_us: int, nm_id: int, data: dict[str, Any]) -> None:
        self.item_id = item_id
        self.created_us = created_us
        self.nm_id = nm_id
        self.data = data
        self.fragment: bytes | None = None

    def encoded(self) -> bytes:
        fragment = self.fragment
        if fragment is None:
            fragment = dumps(self.data)
            self.fragment = fragment
        return fragment

    def changed(self) -> None:
        self.fragment = None


class SortedStore:
    """Records kept sorted by creation time, so date windows are bisects and pages are slices."""

    def __init__(self) -> None:
        self._keys: list[int] = []
        self._items: list[Record] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._items)

    def __contains__(self, record: object) -> bool:
        if not isinstance(record, Record):
            return False
        index = bisect_left(self._keys, record.created_us)
        while index < len(self._keys) and self._keys[index] == record.created_us:
            if self._items[index] is record:
                return True
            index += 1
        return False

    def add(self, record: Record) -> None:
        index = bisect_right(self._keys, record.created_us)
        self._keys.insert(index, record.created_us)
        self._items.insert(index, record)

    def remove(self, record: Record) -> None:
        index = bisect_left(self._keys, record.created_us)
        while self._items[index] is not record:
            index += 1
        del self._keys[index]
        del self._items[index]

    def count_between(self, from_us: int | None, to_us: int | None) -> int:
        lo, hi = self._window(from_us, to_us)
        return hi - lo

    def _window(self, from_us: int | None, to_us: int | None) -> tuple[int, int]:
        lo = 0 if from_us is None else bisect_left(self._keys, from_us)
        hi = len(self._keys) if to_us is None else bisect_right(self._keys, to_us)
        return lo, max(lo, hi)

    def page(
        self,
        *,
        skip: int,
        take: int,
        descending: bool,
        from_us: int | None = None,
        to_us: int | None = None,
        nm_id: int | None = None,
    ) -> list[Record]:
        lo, hi = self._window(from_us, to_us)
        if nm_id is None:
            if descending:
                start = hi - skip
                return self._items[max(lo, start - take) : max(lo, start)][::-1]
            return self._items[lo + skip : min(hi, lo + skip + take)]
        selected: list[Record] = []
        seen = 0
        indices = range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
        for index in indices:
            record = self._items[index]
            if record.nm_id != nm_id:
                continue
            if seen >= skip:
                selected.append(record)
                if len(selected) >= take:
                    break
            seen += 1
        return selected


@dataclass(frozen=True, slots=True)
class LimitRule:
    """Token-bucket parameters: ``limit`` requests per ``period_s`` seconds, bucket size ``burst``."""

    limit: int
    period_s: float
    burst: int

    @property
    def rate_per_s(self) -> float:
        return self.limit / self.period_s


@dataclass(frozen=True, slots=True)
class BucketVerdict:
    allowed: bool
    remaining: int
    retry_s: int
    reset_s: int
    burst: int


class TokenBucket:
    __slots__ = ("rule", "tokens", "updated")

    def __init__(self, rule: LimitRule, now: float) -> None:
        self.rule = rule
        self.tokens = float(rule.burst)
        self.updated = now

    def take(self, now: float) -> BucketVerdict:
        rule = self.rule
        self.tokens = min(float(rule.burst), self.tokens + (now - self.updated) * rule.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            reset = math.ceil((rule.burst - self.tokens) / rule.rate_per_s)
            return BucketVerdict(True, int(self.tokens), 0, reset, rule.burst)
        retry = max(1, math.ceil((1.0 - self.tokens) / rule.rate_per_s))
        reset = max(1, math.ceil((rule.burst - self.tokens) / rule.rate_per_s))
        return BucketVerdict(False, 0, retry, reset, rule.burst)


class FaultKind(StrEnum):
    TOO_MANY_REQUESTS = "429"
    SERVER_ERROR = "500"
    SLOW = "slow"
    MALFORMED = "malformed"
    REVOKED = "revoked"
    TIMEOUT = "timeout"


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    remaining: int
    delay_seconds: float
    path_contains: str | None

    def matches(self, route_key: str) -> bool:
        return self.remaining > 0 and (not self.path_contains or self.path_contains in route_key)


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [
            {"kind": str(f.kind), "remaining": f.remaining, "path_contains": f.path_contains}
            for f in self._faults
            if f.remaining > 0
        ]

    def pop_request_fault(self, route_key: str) -> Fault | None:
        """The first transport-level fault (429/500/slow/timeout) matching this request, consumed."""
        for fault in self._faults:
            if fault.kind is not FaultKind.MALFORMED and fault.matches(route_key):
                fault.remaining -= 1
                return fault
        return None

    def pop_malformed(self, route_key: str) -> bool:
        for fault in self._faults:
            if fault.kind is FaultKind.MALFORMED and fault.matches(route_key):
                fault.remaining -= 1
                return True
        return False


@dataclass(slots=True)
class AccountStats:
    requests: int = 0
    requests_by_path: Counter[str] = field(default_factory=Counter)
    responses_429: int = 0
    rate_limit_overruns: int = 0
    answers_received: Counter[str] = field(default_factory=Counter)
    duplicate_answers: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "requests_by_path": dict(self.requests_by_path),
            "responses_429": self.responses_429,
            "rate_limit_overruns": self.rate_limit_overruns,
            "answers_received": dict(self.answers_received),
            "duplicate_answers": self.duplicate_answers,
        }


@dataclass(frozen=True, slots=True)
class ReceivedAnswer:
    channel: (
        str  # "review" | "question" | "chat" (Ozon: "review_comment", "question_answer", "chat")
    )
    item_id: str
    text: str
    kind: str  # "create" | "edit" | "reject" | "message" | "delete"
    accepted: bool
    received_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "item_id": self.item_id,
            "text": self.text,
            "kind": self.kind,
            "accepted": self.accepted,
            "received_at": self.received_at,
        }


Handler = Callable[[SimRequest], SimResponse]
