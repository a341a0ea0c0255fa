"""WB API tokens for the simulator: build and decode JWTs shaped like the real ones.

The real tokens are ES256-signed JWTs; the simulator only reads the payload (no signature check),
so the signature here is random filler of a plausible length.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

TOKEN_LIFETIME = timedelta(days=180)
READ_ONLY_BIT = 30

CATEGORY_CONTENT = 1
CATEGORY_PROMOTION = 6
CATEGORY_FEEDBACKS = 7
CATEGORY_BUYER_CHAT = 9


class WbTokenType(IntEnum):
    """Value of the ``acc`` claim."""

    BASE = 1
    TEST = 2
    PERSONAL = 3
    SERVICE = 4


TOKEN_TYPE_BY_NAME: dict[str, WbTokenType] = {
    "base": WbTokenType.BASE,
    "test": WbTokenType.TEST,
    "personal": WbTokenType.PERSONAL,
    "service": WbTokenType.SERVICE,
}


class InvalidTokenError(ValueError):
    """The string is not a decodable WB JWT."""


@dataclass(frozen=True, slots=True)
class WbTokenClaims:
    token_id: str
    seller_id: str
    token_type: WbTokenType
    categories: frozenset[int]
    is_read_only: bool
    expires_at: datetime

    def has_category(self, category: int) -> bool:
        return category in self.categories

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    padding = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + padding)


def categories_to_mask(categories: Iterable[int], *, read_only: bool = False) -> int:
    mask = 0
    for category in categories:
        if not 1 <= category <= 31:
            raise ValueError(f"WB token category bit out of range: {category}")
        mask |= 1 << (category - 1)
    if read_only:
        mask |= 1 << (READ_ONLY_BIT - 1)
    return mask


def mask_to_categories(mask: int) -> frozenset[int]:
    return frozenset(bit for bit in range(1, 32) if mask & (1 << (bit - 1)))


def make_wb_token(
    *,
    seller_id: str,
    token_type: str = "personal",  # noqa: S107 - a token kind, not a secret
    categories: Iterable[int] = (1, 7, 9),
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> str:
    """Return a JWT with the payload layout of a real WB token (``id``, ``s``, ``sid``, ``exp``, ``acc``…)."""
    try:
        acc = TOKEN_TYPE_BY_NAME[token_type]
    except KeyError:
        raise ValueError(f"unknown WB token type: {token_type!r}") from None
    expiry = expires_at or (datetime.now(UTC) + TOKEN_LIFETIME)
    payload: dict[str, object] = {
        "ent": 1,
        "exp": int(expiry.timestamp()),
        "id": str(uuid.uuid4()),
        "iid": secrets.randbelow(90_000_000) + 10_000_000,
        "oid": secrets.randbelow(9_000_000) + 1_000_000,
        "s": categories_to_mask(categories, read_only=read_only),
        "sid": seller_id,
        "t": acc is WbTokenType.TEST,
        "uid": secrets.randbelow(90_000_000) + 10_000_000,
        "acc": int(acc),
    }
    if acc is WbTokenType.PERSONAL:
        payload["for"] = "self"
    elif acc is WbTokenType.SERVICE:
        payload["for"] = f"asid:{uuid.uuid4()}"
    header = {"alg": "ES256", "kid": "20250101v1", "typ": "JWT"}
    signature = secrets.token_bytes(64)
    return ".".join(
        (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(payload, separators=(",", ":")).encode()),
            _b64url(signature),
        )
    )


def decode_wb_token(token: str) -> WbTokenClaims:
    """Read the payload of a WB JWT without checking its signature."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidTokenError("token contains an invalid number of segments")
    try:
        payload = json.loads(_b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidTokenError("could not base64 decode the payload") from error
    if not isinstance(payload, dict):
        raise InvalidTokenError("payload is not a JSON object")
    try:
        mask = int(payload["s"])
        token_type = WbTokenType(int(payload["acc"]))
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=UTC)
        return WbTokenClaims(
            token_id=str(payload["id"]),
            seller_id=str(payload["sid"]),
            token_type=token_type,
            categories=mask_to_categories(mask),
            is_read_only=bool(mask & (1 << (READ_ONLY_BIT - 1))),
            expires_at=expires_at,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidTokenError(f"payload misses or mistypes a claim: {error}") from error
