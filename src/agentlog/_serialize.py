"""Payload capture that never fails: anything a user passes comes out as valid JSON.

The fast path is one ``orjson.dumps`` call; only what orjson refuses (cycles, huge ints,
tuple keys, surrogates, odd objects) takes the slow, careful walk.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from uuid import UUID

import orjson

__all__ = [
    "JSON_OPTS", "STR_KEY_OPTS", "TRUNCATED_KEY", "bound_fields", "clean_text", "dumps", "dumps_any",
    "fit", "json_default", "safe_repr", "to_jsonable",
]  # fmt: skip

TRUNCATED_KEY = "__agentlog_truncated__"
_MAX_DEPTH = 64
JSON_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
# With OPT_NON_STR_KEYS orjson takes a slower path for every dict (~60 ns more for a small
# payload): a payload is written without it first. Only a dict with a key that is not a str
# fails there, and ``dumps_any`` writes it with it: the same bytes as with it from the start.
STR_KEY_OPTS = orjson.OPT_SERIALIZE_NUMPY


def safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except BaseException:  # a broken __repr__ must not break the host
        try:
            return f"<{type(obj).__qualname__} object (repr failed)>"
        except BaseException:
            return "<object (repr failed)>"


def _repair(text: str) -> str:
    """``text`` as valid UTF-8: each lone surrogate (``os.fsdecode`` of a bad byte) becomes one
    U+FFFD, and a surrogate pair written as two code points becomes the character it encodes."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_text(value: Any) -> str | None:
    """A name, user or summary as a string JSON can carry: never raises, never drops it.

    Not a string: its ``str()`` (``42`` -> ``"42"``, a path -> its text), else its repr.
    """
    if value is None:
        return None
    text: str
    if type(value) is str:
        text = value
    else:
        try:
            text = str(value)
        except BaseException:
            text = safe_repr(value)
        if type(text) is not str:  # a str subclass whose __str__ misbehaves
            text = safe_repr(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _repair(text)
    return text


def _bytes(value: bytes | bytearray | memoryview) -> Any:
    raw = bytes(value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"__bytes__": base64.b64encode(raw).decode("ascii")}


def json_default(obj: Any) -> Any:
    """orjson's hook for types it does not know; it must return something orjson can write."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _bytes(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        return dump(mode="json")
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (PurePath, timedelta)):
        return str(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError  # orjson then fails, and dumps() falls back to the careful walk


def to_jsonable(obj: Any, _depth: int = 0, _seen: set[int] | None = None) -> Any:
    """Turn anything into plain JSON values; cycles, depth and broken objects become strings."""
    if obj is None or isinstance(obj, (bool, str)):
        if isinstance(obj, str):
            return _repair(obj)
        return obj
    if isinstance(obj, int):
        return obj if -(2**63) <= obj < 2**64 else str(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, _depth + 1, _seen)
    if isinstance(obj, (datetime, date, time)):
        return obj.isoformat()
    if isinstance(obj, (UUID, Decimal, PurePath, timedelta)):
        return str(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _bytes(obj)
    if _depth >= _MAX_DEPTH:
        return "<max depth>"
    seen = set() if _seen is None else _seen
    oid = id(obj)
    if oid in seen:
        return "<cycle>"
    seen.add(oid)
    try:
        return _container(obj, _depth, seen)
    except BaseException:
        return safe_repr(obj)
    finally:
        seen.discard(oid)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _repair(key)
    if isinstance(key, enum.Enum):
        return str(key.value)
    if isinstance(key, (int, float, bool)) or key is None:
        return orjson.dumps(key).decode()
    if isinstance(key, tuple):
        return orjson.dumps(to_jsonable(list(key))).decode()
    return safe_repr(key)


def _container(obj: Any, depth: int, seen: set[int]) -> Any:
    if isinstance(obj, Mapping):
        return {_key(k): to_jsonable(v, depth + 1, seen) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v, depth + 1, seen) for v in obj]
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        try:
            return to_jsonable(dump(mode="json"), depth + 1, seen)
        except BaseException:
            pass
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: to_jsonable(getattr(obj, f.name, None), depth + 1, seen)
            for f in dataclasses.fields(obj)
        }
    text = safe_repr(obj)
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict) and attrs and text.startswith("<") and " at 0x" in text:
        # The default repr says nothing; the attributes say what the object held.
        out = {"__class__": type(obj).__qualname__}
        out.update({_key(k): to_jsonable(v, depth + 1, seen) for k, v in attrs.items()})
        return out
    return text


def dumps(obj: Any) -> bytes:
    """Serialize ``obj`` to JSON bytes. Never raises.

    The result is copied to a right-sized object (``b"%s" % ...``, ~40 ns): orjson's own result
    pins a ~4 KB allocation, and these bytes may wait in the pipeline's buffer by the thousand.
    """
    try:
        return b"%s" % orjson.dumps(obj, default=json_default, option=STR_KEY_OPTS)
    except Exception:
        return dumps_any(obj)


def dumps_any(obj: Any) -> bytes:
    """``dumps`` for what its fast path refused: keys that are not strings, then anything."""
    try:
        return b"%s" % orjson.dumps(obj, default=json_default, option=JSON_OPTS)
    except Exception:
        pass
    try:
        return b"%s" % orjson.dumps(to_jsonable(obj), option=JSON_OPTS)
    except Exception:
        return orjson.dumps(safe_repr(obj))


def fit(data: dict[str, Any], encoded: bytes, max_bytes: int) -> bytes:
    """Shrink an encoded ``data`` object that is over ``max_bytes``, keeping its keys.

    Each over-large top-level value is replaced by a marker object holding its original size
    and a preview of its JSON, so the payload is truncated, never dropped whole.
    """
    if len(encoded) <= max_bytes:
        return encoded
    parts = {k: orjson.dumps(v, option=JSON_OPTS) for k, v in data.items()}
    small = {k: len(v) for k, v in parts.items()}
    budget = max(64, max_bytes // max(1, len(parts)) - 128)
    out: dict[str, Any] = {}
    for key, raw in parts.items():
        if small[key] <= budget:
            out[key] = orjson.loads(raw)
        else:
            preview = raw[: max(0, budget - 96) // 2].decode("utf-8", "ignore")
            out[key] = {TRUNCATED_KEY: True, "original_bytes": small[key], "preview": preview}
    result = orjson.dumps(out, option=JSON_OPTS)
    if len(result) <= max_bytes:
        return result
    return _whole_marker(encoded, max_bytes)  # many keys, each small: one marker for all


def _truncated_text(text: str, encoded_len: int, max_bytes: int) -> str:
    marker = f" [{TRUNCATED_KEY}: {encoded_len} bytes]"
    keep = max(0, max_bytes - len(marker) - 8)
    # JSON escaping can make the text longer than its characters: shrink until it fits.
    while True:
        out = text[:keep] + marker
        if len(orjson.dumps(out)) <= max_bytes or keep == 0:
            return out
        keep = max(0, keep - max(16, (len(orjson.dumps(out)) - max_bytes)))


def bound_fields(
    record: dict[str, Any], max_bytes: int, keep: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``record`` with each field over ``max_bytes`` truncated with the marker, like a payload.

    Objects keep their keys (``fit``), strings keep their start followed by a marker, lists
    their leading items followed by a marker string, and anything else becomes a marker object. Fields in ``keep`` (ids, kinds) are left alone.
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in keep or value is None or isinstance(value, (bool, int, float)):
            out[key] = value
            continue
        encoded = orjson.dumps(value, option=JSON_OPTS)
        if len(encoded) <= max_bytes:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = orjson.loads(fit(value, encoded, max_bytes))
        elif isinstance(value, str):
            out[key] = _truncated_text(value, len(encoded), max_bytes)
        elif isinstance(value, list):
            out[key] = _truncated_list(value, len(encoded), max_bytes)
        else:
            out[key] = orjson.loads(_whole_marker(encoded, max_bytes))
    return out


def _truncated_list(items: list[Any], encoded_len: int, max_bytes: int) -> list[Any]:
    """The leading items that fit, then one marker string (a list of tags stays strings)."""
    marker = f"[{TRUNCATED_KEY}: {encoded_len} bytes, {len(items)} items]"
    budget = max_bytes - len(marker) - 8
    out: list[Any] = []
    used = 2
    for item in items:
        size = len(orjson.dumps(item, option=JSON_OPTS)) + 1
        if used + size > budget:
            break
        out.append(item)
        used += size
    out.append(marker)
    return out


def _whole_marker(encoded: bytes, max_bytes: int) -> bytes:
    """One marker object standing for all of ``encoded``: its size and a preview that fits.

    Escaping can make the preview longer than the bytes it came from, so shrink until it fits.
    """
    cut = max(0, max_bytes - 128)
    while True:
        preview = encoded[:cut].decode("utf-8", "ignore")
        marker = {TRUNCATED_KEY: True, "original_bytes": len(encoded), "preview": preview}
        result = orjson.dumps(marker)
        if len(result) <= max_bytes or cut == 0:
            return result
        cut = max(0, cut - max(16, len(result) - max_bytes))
