"""The one way marketplace clients talk HTTP: a pooled client per process and a request helper.

The helper builds the URL (or its simulator twin), takes a token from the shared Redis budget
before every attempt, retries reads on 429/5xx/timeouts with backoff and jitter, and maps every
failure to `connectors.exceptions` — raw httpx errors never leave this module. Writes are not
retried once they may have reached the marketplace: the caller re-reads state first.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson
from django.conf import settings
from django.utils.translation import gettext as _

from connectors import ratelimit
from connectors.exceptions import (
    AuthError,
    MalformedResponse,
    RateLimited,
    TransientMarketplaceError,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
POOL_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0)
MAX_ATTEMPTS = 3
# Fallback waits after a 429 without X-Ratelimit-Retry (contract: 1, 2, 4 s).
RATE_LIMIT_BACKOFF = (1.0, 2.0, 4.0)
# Waits after a 5xx or a timeout before the next read attempt (plus jitter).
TRANSIENT_BACKOFF = (0.5, 1.0, 2.0)
DEFAULT_MAX_WAIT = 30.0
ERROR_TEXT_MAX = 300
USER_AGENT = "AgentIQ/1.0 (+https://agentiq.ru)"

_client: httpx.Client | None = None
_client_pid: int | None = None
_client_lock = threading.Lock()


class AccountLike(Protocol):
    """What the helper needs of a `MarketplaceAccount`."""

    pk: Any
    base_url: str


@dataclass(frozen=True, slots=True)
class Budget:
    """The shared rate-limit bucket a request draws from."""

    bucket: str
    limit: ratelimit.Limit


def get_client() -> httpx.Client:
    """The process-wide pooled client (re-created in a forked child: sockets are not shared)."""
    global _client, _client_pid
    pid = os.getpid()
    if _client is None or _client_pid != pid:
        with _client_lock:
            if _client is None or _client_pid != pid:
                _client = httpx.Client(
                    timeout=DEFAULT_TIMEOUT,
                    limits=POOL_LIMITS,
                    headers={"User-Agent": USER_AGENT},
                    follow_redirects=False,
                )
                _client_pid = pid
    return _client


def build_url(base_url: str, host: str, path: str) -> str:
    """`https://{host}{path}`, or `{base_url}/{host}{path}` when the account points at a simulator."""
    if base_url:
        return f"{base_url.rstrip('/')}/{host}{path}"
    return f"https://{host}{path}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove every secret from a text meant for logs or users, and shorten it."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    if len(text) > ERROR_TEXT_MAX:
        text = text[: ERROR_TEXT_MAX - 1] + "…"
    return text


def error_text(response: httpx.Response, *, secrets: Iterable[str] = ()) -> str:
    """The marketplace's own explanation of an error response, safe to show and log."""
    text = ""
    try:
        body = orjson.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        for key in ("errorText", "detail", "error", "message", "title"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                text = value
                break
    elif response.content and "json" not in response.headers.get("content-type", ""):
        text = response.text
    if not text:
        text = response.reason_phrase or str(response.status_code)
    return scrub(text, secrets)


def json_body(response: httpx.Response, *, expected: type = dict) -> Any:
    """The decoded JSON body, which must be of `expected` type; else `MalformedResponse`.

    Decoded by orjson (strict UTF-8 JSON, several times faster than `json` on big pages).
    """
    try:
        body = orjson.loads(response.content)
    except ValueError as error:
        raise MalformedResponse(
            _("The marketplace sent a response that is not valid JSON.")
        ) from error
    if not isinstance(body, expected):
        raise MalformedResponse(_("The marketplace sent a response of an unexpected shape."))
    return body


def _retry_after(response: httpx.Response, attempt: int) -> float:
    raw = response.headers.get("X-Ratelimit-Retry") or response.headers.get("Retry-After")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    return RATE_LIMIT_BACKOFF[min(attempt, len(RATE_LIMIT_BACKOFF)) - 1]


def _sleep_with_jitter(seconds: float) -> None:
    # Jitter only ever adds: never earlier than the marketplace asked.
    time.sleep(seconds + random.uniform(0, min(0.25, seconds / 4 + 0.05)))


def request(
    account: AccountLike,
    method: str,
    host: str,
    path: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    files: Any = None,
    budget: Budget | None = None,
    is_write: bool = False,
    timeout: httpx.Timeout | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
    max_attempts: int = MAX_ATTEMPTS,
) -> httpx.Response:
    """Send one marketplace call; return the response for 2xx and for 4xx other than 401/403/429.

    Raises `AuthError` (401/403), `RateLimited` (429 after the allowed retries, or the shared
    budget is exhausted for longer than `max_wait`), `TransientMarketplaceError` (5xx, timeouts,
    connection failures). A read is attempted up to `max_attempts` times; a write is retried only
    when it surely did not reach the marketplace (connection refused, a 429 from the gateway).
    """
    client = get_client()
    url = build_url(account.base_url, host, path)
    secrets = tuple(headers.values())
    account_id = account.pk
    attempt = 0
    while True:
        attempt += 1
        if budget is not None and settings.MARKETPLACE_CLIENT_LIMITS:
            ratelimit.acquire(
                account_id,
                budget.bucket,
                budget.limit.rate,
                budget.limit.burst,
                max_wait=max_wait,
            )
        log_extra: dict[str, Any] = {
            "account_id": account_id,
            "host": host,
            "path": path,
            "method": method,
            "attempt": attempt,
        }
        started = time.monotonic()
        try:
            response = client.request(
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                files=files,
                timeout=timeout or DEFAULT_TIMEOUT,
            )
        except httpx.HTTPError as error:
            log_extra["duration_ms"] = round((time.monotonic() - started) * 1000)
            log_extra["status"] = 0
            log_extra["error"] = type(error).__name__
            not_sent = isinstance(
                error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
            )
            logger.warning("marketplace request failed", extra=log_extra)
            if attempt < max_attempts and (not is_write or not_sent):
                _sleep_with_jitter(TRANSIENT_BACKOFF[attempt - 1])
                continue
            if isinstance(error, httpx.TimeoutException):
                message = _("The marketplace did not answer in time.")
            else:
                message = _("Could not connect to the marketplace.")
            raise TransientMarketplaceError(message) from error
        status = response.status_code
        log_extra["status"] = status
        log_extra["duration_ms"] = round((time.monotonic() - started) * 1000)
        if status < 400:
            logger.info("marketplace request", extra=log_extra)
            return response
        logger.warning("marketplace request refused", extra=log_extra)

        if status == 429:
            retry_after = _retry_after(response, attempt)
            if budget is not None:
                ratelimit.block(account_id, budget.bucket, retry_after)
            # A 429 comes from the gateway before the method runs, so even a write may be resent.
            if attempt < max_attempts and retry_after <= max_wait:
                _sleep_with_jitter(retry_after)
                continue
            raise RateLimited(retry_after=retry_after)
        if status >= 500:
            if attempt < max_attempts and not is_write:
                _sleep_with_jitter(TRANSIENT_BACKOFF[attempt - 1])
                continue
            raise TransientMarketplaceError(
                _("The marketplace is temporarily unavailable (HTTP %(status)s).")
                % {"status": status}
            )
        if status in (401, 403):
            detail = error_text(response, secrets=secrets)
            raise AuthError(
                _("The marketplace rejected the credentials (HTTP %(status)s): %(detail)s")
                % {"status": status, "detail": detail}
            )
        return response
