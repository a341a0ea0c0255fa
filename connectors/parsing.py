"""Checks shared by every marketplace's item parser: one broken item never sinks its page."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.types import MalformedItem

EXCERPT_MAX = 300
EXCERPT_STRING_MAX = 60


class ItemError(ValueError):
    """One item of a page breaks the contract."""


def get_dict(raw: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    value = raw.get(key)
    if value is None:
        if required:
            raise ItemError(f"{key}: missing")
        return {}
    if not isinstance(value, dict):
        raise ItemError(f"{key}: expected an object")
    return value


def get_list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ItemError(f"{key}: expected an array")
    return value


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > EXCERPT_STRING_MAX:
        return value[:EXCERPT_STRING_MAX] + "…"
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item) for item in value[:5]]
    return value


def excerpt(raw: Any) -> str:
    """A short, support-friendly excerpt: long strings (customer texts) are cut."""
    try:
        text = json.dumps(_shorten(raw), ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text[:EXCERPT_MAX]


def malformed(channel: str, raw: Any, error: str, *, id_keys: Iterable[str]) -> MalformedItem:
    """The record of a broken item: its id where readable, an excerpt, the reason."""
    external_id = ""
    if isinstance(raw, Mapping):
        for key in id_keys:
            value = raw.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                external_id = str(value)
                break
    return MalformedItem(
        channel=channel, external_id=external_id, error=error, raw_excerpt=excerpt(raw)
    )
