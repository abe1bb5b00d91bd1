"""Opaque keyset cursors: the position after which the next page starts."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson

from .._errors import InvalidInputError

__all__ = ["after_key", "check_limit", "decode_cursor", "encode_cursor"]


def after_key(key: Sequence[Any] | None, desc: bool) -> tuple[str, list[Any]]:
    """The keyset condition (with its leading `` AND ``) for the rows after ``key`` in
    ``(ts_us, id)`` order, descending when ``desc``, and its values; nothing without a key."""
    if key is None:
        return "", []
    return f" AND (ts_us, id) {'<' if desc else '>'} (?, ?)", list(key)


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = orjson.dumps({"k": kind, "p": key})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str) -> list[Any] | None:
    """The key in ``cursor``; a cursor from another listing or a damaged one is InvalidInputError."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        obj = orjson.loads(raw)
        if not isinstance(obj, dict) or obj.get("k") != kind or not isinstance(obj.get("p"), list):
            raise ValueError
        key: list[Any] = obj["p"]
    except (ValueError, TypeError):
        raise InvalidInputError(f"cursor: not a cursor of this {kind} listing") from None
    return key


def check_limit(limit: int, *, high: int = 200) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= high:
        raise InvalidInputError(f"limit: must be an integer from 1 to {high}, got {limit!r}")
    return limit
