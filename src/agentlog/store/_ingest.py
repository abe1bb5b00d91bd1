"""Ingest in one pass: each decoded record is checked and turned into its table row once.

The rules are those of the SDK's record models (``agentlog._records``: required fields, exact
JSON types, enums, no unknown keys, timestamps ``parse_ts`` reads, ``data`` an object), the one
definition both sides share: the key sets and enums below are read from the models. Building a
pydantic model costs ~10 µs a record, most of what ingest would spend, so the common records
(events and messages as the SDK writes them) are checked here in plain Python and accepted only
when pydantic surely would, with the same values. Anything else (a wrong record, or a right one
in a form pydantic first coerces, such as ``"partial": 1``) goes through ``parse_record``: its
rejections keep pydantic's field-naming reasons, and lax inputs are accepted as before.

Row layouts are ``EVENT_COLS`` and ``MESSAGE_COLS`` of ``_rows``.

Each ``llm_call`` is priced here too, when the store prices (``price``): its ``data`` is in
hand as a dict, so its ``cost`` goes into the text as it is made, instead of the text being
parsed again afterwards (~8 µs a call for a call's typical 5 KB of messages).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import pydantic

from .._records import (
    MAX_KEY,
    ErrorInfo,
    EventRecord,
    MessageRecord,
    ScoreRecord,
    SessionRecord,
    parse_record,
)
from ._judging_schema import score_row
from ._models import RejectedRecord
from ._pricing import Priced
from ._rows import dumps
from ._screen import refusal, too_deep
from ._times import to_us, ts_us

__all__ = [
    "Parsed",
    "event_row",
    "event_row_of",
    "message_row",
    "message_row_of",
    "parse_batch",
    "priced_row",
    "session_ids",
    "validation_reason",
]

_EVENT_KEYS = frozenset(EventRecord.model_fields)
_MESSAGE_KEYS = frozenset(MessageRecord.model_fields)
_ERROR_KEYS = frozenset(ErrorInfo.model_fields)
_STATUSES = typing.get_args(EventRecord.model_fields["status"].annotation)
_FORMATS = typing.get_args(MessageRecord.model_fields["format"].annotation)
_ONE_TYPES = (int, float, bool)
_OPT_STR = (str, type(None))
_MAX_EXACT = 2**53  # ints a float holds exactly: pydantic turns them into that float
_NO_DATA: dict[str, Any] = {}

# A parsed record: (index, session record) merged field by field later, or (index, "e" | "m" |
# "s", finished row) of an event, a message or a score; a priced llm_call's has its price
# after the row.
Parsed = (tuple[int, SessionRecord] | tuple[int, str, tuple[Any, ...]]
          | tuple[int, str, tuple[Any, ...], Priced])  # fmt: skip
# What an llm_call's data cost (``Pricer.price``: the data, its time in µs).
PriceFn = Callable[[Mapping[str, Any], int], Priced]


def _with_cost(text: str, data: Mapping[str, Any], priced: Priced) -> str:
    """The JSON text ``text`` of ``data`` with its ``cost`` object set to ``priced``."""
    if "cost" in data or text[-1:] != "}":
        return dumps({**data, "cost": priced.as_json()})
    # The same text as dumps would write with the key added, without writing it all again.
    return f'{text[:-1]}{"," if data else ""}"cost":{priced.as_json_text()}}}'


def priced_row(
    row: tuple[Any, ...], data: Mapping[str, Any], price: PriceFn
) -> tuple[tuple[Any, ...], Priced]:
    """An llm_call's event row (``EVENT_COLS``) with its ``data`` (the row's text, decoded)
    carrying its cost, and that cost."""
    p = price(data, row[6])
    return (*row[:11], _with_cost(row[11], data, p), *row[12:]), p


def _priced(i: int, row: tuple[Any, ...], data: Mapping[str, Any], price: PriceFn) -> Parsed:
    """An llm_call's parsed record, its row's data carrying its cost."""
    new, p = priced_row(row, data, price)
    return (i, "e", new, p)


def _head_ok(obj: dict[str, Any], kind: str, keys: frozenset[str]) -> bool:
    """The kind, no unknown key, ``v`` is 1, ``id`` a string of 1 to 200 characters."""
    if obj.get("kind") != kind or not keys.issuperset(obj):
        return False
    v = obj.get("v", 1)  # pydantic's Literal[1] takes 1, 1.0 and True alike
    rid = obj.get("id")
    return type(v) in _ONE_TYPES and v == 1 and type(rid) is str and 0 < len(rid) <= 200


def event_row(obj: dict[str, Any], project: str) -> tuple[Any, ...] | None:
    """The row of an event record pydantic accepts as it is; None when it must go through
    ``parse_record`` (whose row is ``event_row_of``)."""
    if not _head_ok(obj, "event", _EVENT_KEYS):
        return None
    get = obj.get
    typ = get("type")
    if type(typ) is not str or not 0 < len(typ) <= 200:
        return None
    sid, parent, name, trace, span = (get("session_id"), get("parent_id"), get("name"),
                                      get("trace_id"), get("span_id"))  # fmt: skip
    opt = _OPT_STR
    if not (type(sid) in opt and type(parent) in opt and type(name) in opt
            and type(trace) in opt and type(span) in opt):  # fmt: skip
        return None
    if (sid is not None and len(sid) > MAX_KEY) or (name is not None and len(name) > MAX_KEY):
        return None
    status = get("status", "ok")
    partial = get("partial", False)
    if type(status) is not str or status not in _STATUSES or type(partial) is not bool:
        return None
    dur = get("duration_ms")
    if dur is not None:
        if type(dur) is int and -_MAX_EXACT <= dur <= _MAX_EXACT:
            dur = float(dur)
        elif type(dur) is not float:
            return None
    data = get("data", _NO_DATA)
    err = get("error")
    if type(data) is not dict:
        return None
    if err is not None:
        if not (type(err) is dict and _ERROR_KEYS.issuperset(err) and type(err.get("type")) is str
                and type(err.get("message")) is str and type(err.get("stacktrace")) in opt):  # fmt: skip
            return None
        err = dumps({"type": err["type"], "message": err["message"],
                     "stacktrace": err.get("stacktrace")})  # fmt: skip
    ts = ts_us(get("ts"))
    if ts is None:
        return None
    end = get("end_ts")
    if end is not None:
        end = ts_us(end)
        if end is None:
            return None
    try:  # refuses keys that are not strings, as the model does (and big ints: the model path)
        text = orjson.dumps(data).decode()
    except TypeError:
        return None
    return (project, obj["id"], sid, parent, typ, name, ts, end, dur, status, partial, text, err,
            trace, span)  # fmt: skip


def message_row(obj: dict[str, Any], project: str) -> tuple[Any, ...] | None:
    """The row of a message record pydantic accepts as it is; None as for ``event_row``."""
    if not _head_ok(obj, "message", _MESSAGE_KEYS) or "blob" not in obj:
        return None
    get = obj.get
    sid, role, fmt = get("session_id"), get("role"), get("format", "openai")
    if type(sid) is not str or type(role) is not str or type(fmt) is not str:
        return None
    if len(sid) > MAX_KEY or len(role) > MAX_KEY:
        return None
    if fmt not in _FORMATS:
        return None
    ts = ts_us(get("ts"))
    if ts is None:
        return None
    return (project, obj["id"], sid, ts, role, fmt, dumps(obj["blob"]), 0)


def event_row_of(rec: EventRecord, project: str) -> tuple[Any, ...]:
    return (
        project, rec.id, rec.session_id, rec.parent_id, rec.type, rec.name, to_us(rec.ts),
        None if rec.end_ts is None else to_us(rec.end_ts), rec.duration_ms, rec.status,
        rec.partial, dumps(rec.data), None if rec.error is None else dumps(rec.error.model_dump()),
        rec.trace_id, rec.span_id,
    )  # fmt: skip


def message_row_of(rec: MessageRecord, project: str) -> tuple[Any, ...]:
    return (project, rec.id, rec.session_id, to_us(rec.ts), rec.role, rec.format,
            dumps(rec.blob), 0)  # fmt: skip


def validation_reason(exc: pydantic.ValidationError) -> str:
    """``field.path: message`` for each problem, e.g. ``ts: Field required``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"] if not (isinstance(x, str) and x in
                       ("session", "event", "message", "score")) or len(err["loc"]) == 1)  # fmt: skip
        parts.append(f"{loc or 'record'}: {err['msg']}")
    return "; ".join(parts)


def parse_batch(
    records: Sequence[Any], project: str, rejected: list[RejectedRecord], base: int = 0,
    price: PriceFn | None = None,
) -> list[Parsed]:  # fmt: skip
    """Check and build every record of a batch; the rejected ones go to ``rejected``. Records
    are numbered from ``base`` (a part of a batch keeps the batch's numbering). With ``price``
    each llm_call is priced (its row's data takes the cost)."""
    parsed: list[Parsed] = []
    add = parsed.append
    for i, obj in enumerate(records, base):
        if type(obj) is not dict:
            if not isinstance(obj, dict):
                rejected.append(RejectedRecord(index=i, reason="record: must be a JSON object"))
                continue
        kind = obj.get("kind")
        if kind == "event":
            row = event_row(obj, project)
            if row is not None:
                if price is not None and row[4] == "llm_call":
                    add(_priced(i, row, obj.get("data", _NO_DATA), price))
                else:
                    add((i, "e", row))
                continue
        elif kind == "message":
            row = message_row(obj, project)
            if row is not None:
                add((i, "m", row))
                continue
        # The checked path (any record the plain one did not take). A record nested too deep
        # to check and write is refused first, before it can fail its batch.
        deep = too_deep(obj)
        if deep is not None:
            rejected.append(refusal(i, obj, deep))
            continue
        try:
            rec = parse_record(obj)
        except pydantic.ValidationError as exc:
            rejected.append(refusal(i, obj, validation_reason(exc)))
            continue
        if isinstance(rec, EventRecord):
            row = event_row_of(rec, project)
            if price is not None and rec.type == "llm_call":
                add(_priced(i, row, rec.data, price))
            else:
                add((i, "e", row))
        elif isinstance(rec, MessageRecord):
            add((i, "m", message_row_of(rec, project)))
        elif isinstance(rec, ScoreRecord):
            add((i, "s", score_row(rec, project)))
        else:
            add((i, rec))
    return parsed


def session_ids(records: Sequence[Any]) -> set[str]:
    """The session ids a batch may name, read off the records before they are checked: the
    ``id`` of a session record, the ``session_id`` of any other. A superset of those its valid
    records name (a wrong record's id may be in it too, but never one too long for any record
    to name: claiming it would fail the batch)."""
    out = set()
    for obj in records:
        if isinstance(obj, dict):
            sid = obj.get("id") if obj.get("kind") == "session" else obj.get("session_id")
            if type(sid) is str and len(sid) <= MAX_KEY:
                out.add(sid)
    return out
