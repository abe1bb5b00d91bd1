"""A fast check of the common event and message records, for bulk ingest.

Building a pydantic model costs ~10 µs a record, most of the store's ingest time. The checks
here apply the same rules as ``agentlog._records`` (required fields, exact JSON types, enums,
no unknown keys, timestamps that ``parse_ts`` reads, ``data`` an object) to a decoded record in
plain Python and accept it only when pydantic surely would, with the same values. Anything
else (a wrong record, or a right one in a form pydantic would first coerce, such as
``"partial": 1``) returns None and the caller validates with ``parse_record``: rejections keep
pydantic's field-naming reasons, and lax inputs keep being accepted as before.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ._ids import parse_ts
from ._records import ErrorInfo, EventRecord, MessageRecord

__all__ = ["event_times", "message_ts", "ts_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_EVENT_KEYS = frozenset(EventRecord.model_fields)
_MESSAGE_KEYS = frozenset(MessageRecord.model_fields)
_ERROR_KEYS = frozenset(ErrorInfo.model_fields)
_STATUSES = ("ok", "error")
_FORMATS = ("openai", "anthropic", "raw")
_ONE_TYPES = (int, float, bool)
_OPT_STR = (str, type(None))
_MAX_EXACT = 2**53  # ints a float holds exactly: pydantic turns them into that float

# The SDK's own form, 2026-01-01T00:00:00.123456Z. Its minute repeats across records, so each
# minute is checked once (by parse_ts) and its epoch second cached; the seconds and fraction
# only need to be ASCII digits, seconds below 60.
_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d", re.ASCII)
_MINUTES: dict[str, int] = {}


def _general_us(value: str) -> int | None:
    try:
        return (parse_ts(value) - _EPOCH) // _US
    except (ValueError, TypeError, OverflowError):
        return None


def _minute(prefix: str) -> int | None:
    us = _general_us(prefix + ":00Z") if _MINUTE.fullmatch(prefix) else None
    if us is None:
        return None
    if len(_MINUTES) >= 50_000:
        _MINUTES.clear()
    secs = _MINUTES[prefix] = us // 1_000_000
    return secs


def ts_us(value: Any) -> int | None:
    """Microseconds since the epoch of a timestamp ``parse_ts`` reads, else None."""
    if type(value) is not str:
        return None
    if len(value) == 27 and value[26] == "Z" and value[19] == "." and value[16] == ":":
        base = _MINUTES.get(value[:16])
        if base is None:
            base = _minute(value[:16])
        digits = value[17:19] + value[20:26]
        if base is not None and digits.isdigit() and digits.isascii() and value[17] < "6":
            return (base + int(value[17:19])) * 1_000_000 + int(value[20:26])
    return _general_us(value)


def _id(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= 200


def _common(obj: dict[str, Any], kind: str, keys: frozenset[str]) -> bool:
    if obj.get("kind") != kind or not keys.issuperset(obj):
        return False
    v = obj.get("v", 1)  # pydantic's Literal[1] takes 1, 1.0 and True alike
    return type(v) in _ONE_TYPES and v == 1 and _id(obj.get("id"))


def event_times(obj: dict[str, Any]) -> tuple[int, int | None] | None:
    """``(ts, end_ts)`` in microseconds when ``obj`` is an event record pydantic accepts as it
    is; None when it must go through ``parse_record``. The keys inside ``data`` are left to the
    caller: it serializes ``data`` with ``orjson.dumps``, which refuses keys that are not
    strings, and goes through ``parse_record`` when that fails."""
    get = obj.get
    if not _common(obj, "event", _EVENT_KEYS) or not _id(get("type")):
        return None
    opt = _OPT_STR
    if not (type(get("session_id")) in opt and type(get("parent_id")) in opt
            and type(get("name")) in opt and type(get("trace_id")) in opt
            and type(get("span_id")) in opt):  # fmt: skip
        return None
    status = get("status", "ok")
    if type(status) is not str or status not in _STATUSES:
        return None
    if type(get("partial", False)) is not bool:
        return None
    dur = get("duration_ms")
    if not (dur is None or type(dur) is float
            or (type(dur) is int and -_MAX_EXACT <= dur <= _MAX_EXACT)):  # fmt: skip
        return None
    if "data" in obj and type(obj["data"]) is not dict:
        return None
    err = get("error")
    if err is not None and not (
        type(err) is dict and _ERROR_KEYS.issuperset(err) and type(err.get("type")) is str
        and type(err.get("message")) is str and type(err.get("stacktrace")) in opt
    ):  # fmt: skip
        return None
    ts = ts_us(get("ts"))
    if ts is None:
        return None
    end = get("end_ts")
    if end is None:
        return ts, None
    end_us = ts_us(end)
    return None if end_us is None else (ts, end_us)


def message_ts(obj: dict[str, Any]) -> int | None:
    """``ts`` in microseconds when ``obj`` is a message record
    pydantic accepts as it is; None when it must go through ``parse_record``."""
    get = obj.get
    if not _common(obj, "message", _MESSAGE_KEYS) or "blob" not in obj:
        return None
    if type(get("session_id")) is not str or type(get("role")) is not str:
        return None
    fmt = get("format", "openai")
    if type(fmt) is not str or fmt not in _FORMATS:
        return None
    return ts_us(get("ts"))
