"""Encryption at rest for marketplace credentials (Fernet, keys from FIELD_ENCRYPTION_KEY).

FIELD_ENCRYPTION_KEY may hold several comma-separated keys: the first encrypts, all decrypt,
so keys can be rotated without downtime.
"""

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys."
        ) from error


def encrypt(data: dict[str, Any]) -> str:
    payload = json.dumps(data, ensure_ascii=False).encode()
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(payload).decode()


def decrypt(token: str) -> dict[str, Any]:
    try:
        payload = _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode())
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY."
        ) from error
    return json.loads(payload)


def mask_secret(value: str) -> str:
    """Show only the last 4 characters of a secret."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) > 4 else "••••"


if TYPE_CHECKING:
    from django.db.models.expressions import Combinable

    # django-stubs types a model attribute by the field's (set, get) parameters: a dict here,
    # not a TextField's str. Django's field classes are not subscriptable at runtime.
    _DictTextField = models.TextField[dict[str, Any] | Combinable, dict[str, Any]]
else:
    _DictTextField = models.TextField


class EncryptedJSONField(_DictTextField):
    """A dict stored as a Fernet token; the database never sees the clear text."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict | None:
        if value is None or value == "":
            return {}
        return decrypt(value)

    def to_python(self, value: Any) -> dict:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str:
        return encrypt(value or {})
