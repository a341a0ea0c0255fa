"""What a WB API token says about itself: its JWT payload, read without checking the signature.

We cannot verify WB's signature (no public key), and need not: WB checks it on every call. The
payload only tells us, before any call, which channels the token can reach, whether it can
answer, when it expires and which request limits apply (they differ by token type).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from connectors.exceptions import AuthError

# Category bits of the `s` claim (1-based positions), per specs/README.md.
CATEGORY_CONTENT = 1
CATEGORY_PROMOTION = 6
CATEGORY_FEEDBACKS = 7
CATEGORY_BUYER_CHAT = 9
READ_ONLY_BIT = 30


class TokenType(StrEnum):
    BASE = "base"
    TEST = "test"
    PERSONAL = "personal"
    SERVICE = "service"
    UNKNOWN = "unknown"


_TYPE_BY_ACC = {1: TokenType.BASE, 2: TokenType.TEST, 3: TokenType.PERSONAL, 4: TokenType.SERVICE}


class InvalidWBToken(AuthError):
    """The credentials are not a WB API token at all (not a JWT, or an unreadable payload)."""

    code = "invalid_token"
    message = _("This is not a Wildberries API token. Copy the whole token from the seller portal.")


@dataclass(frozen=True, slots=True)
class WBToken:
    token_type: TokenType
    categories: frozenset[int]
    is_read_only: bool
    expires_at: datetime | None
    seller_id: str
    token_id: str

    def has_category(self, category: int) -> bool:
        return category in self.categories

    def is_expired(self, *, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def categories_from_mask(mask: int) -> frozenset[int]:
    return frozenset(bit for bit in range(1, 64) if mask & (1 << (bit - 1)))


def decode_token(token: str) -> WBToken:
    """Read a WB token's payload; `InvalidWBToken` when it is not a JWT with a sane payload.

    Missing optional claims are tolerated (older tokens have no `acc`): the type is then
    `UNKNOWN` and the expiry `None`.
    """
    parts = token.strip().split(".") if isinstance(token, str) else []
    if len(parts) != 3 or not all(parts[:2]):
        raise InvalidWBToken()
    try:
        payload = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidWBToken() from error
    if not isinstance(payload, dict):
        raise InvalidWBToken()
    mask = payload.get("s", 0)
    acc = payload.get("acc")
    exp = payload.get("exp")
    if (
        isinstance(mask, bool)
        or not isinstance(mask, int)
        or mask < 0
        or (acc is not None and (isinstance(acc, bool) or not isinstance(acc, int)))
        or (exp is not None and (isinstance(exp, bool) or not isinstance(exp, int | float)))
    ):
        raise InvalidWBToken()
    try:
        expires_at = datetime.fromtimestamp(exp, tz=UTC) if exp is not None else None
    except (OverflowError, OSError, ValueError) as error:
        raise InvalidWBToken() from error
    return WBToken(
        token_type=_TYPE_BY_ACC.get(acc, TokenType.UNKNOWN)
        if acc is not None
        else TokenType.UNKNOWN,
        categories=categories_from_mask(mask) - {READ_ONLY_BIT},
        is_read_only=bool(mask & (1 << (READ_ONLY_BIT - 1))),
        expires_at=expires_at,
        seller_id=str(payload.get("sid") or ""),
        token_id=str(payload.get("id") or ""),
    )
