"""Table rows to result models and back, and the session merge, shared by both backends.

(``now_us``, ``to_us`` and ``us_to_ts`` are re-exported from ``_times`` for the readers.)
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .._errors import InvalidInputError
from .._records import SessionRecord
from ._models import Event, Message, Rollup, Session
from ._pricing import pico_to_usd
from ._times import now_us, to_us, us_to_ts

__all__ = [
    "EVENT_COLS",
    "MESSAGE_COLS",
    "SESSION_COLS",
    "TERMINAL",
    "check_status",
    "dumps",
    "event_from_row",
    "loads",
    "merge_session",
    "message_from_row",
    "now_us",
    "session_from_row",
    "to_us",
    "us_to_ts",
]

TERMINAL = ("success", "error", "cancelled", "timeout")

SESSION_COLS = (
    "id, name, user_id, configs, status, summary, started_us, ended_us, parent_session_id, "
    "last_activity_us, r_turns, r_tokens_in, r_tokens_out, r_tool_calls, r_errors, r_last_us, "
    "r_updated_us, sort_us, tags, scores, r_cost_p, r_unpriced"
)
EVENT_COLS = (
    "project, id, session_id, parent_id, type, name, ts_us, end_ts_us, duration_ms, status, "
    "partial, data, error, trace_id, span_id"
)
MESSAGE_COLS = "project, id, session_id, ts_us, role, format, blob, state"


def dumps(value: Any) -> str:
    """JSON text; integers beyond 64 bits (which orjson refuses) go through the stdlib."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(value: str | bytes | None) -> Any:
    """Parse a JSON column (both backends return the text); big integers via the stdlib."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def session_from_row(row: tuple[Any, ...]) -> Session:
    configs = loads(row[3])
    return Session(
        id=row[0], name=row[1], user=row[2], configs=configs, status=row[4], summary=row[5],
        started_at=us_to_ts(row[6] if row[6] is not None else row[17]), ended_at=us_to_ts(row[7]),
        parent_session_id=row[8], last_activity_at=us_to_ts(row[9]),
        rollup=Rollup(turns=row[10], tokens_in=row[11], tokens_out=row[12], tool_calls=row[13],
                      errors=row[14], last_activity=us_to_ts(row[15]),
                      updated_at=us_to_ts(row[16]), cost_usd=pico_to_usd(row[20] or 0),
                      unpriced_calls=row[21] or 0),
        tags=loads(row[18]) or [], scores=loads(row[19]) or {},
    )  # fmt: skip


def event_from_row(row: tuple[Any, ...]) -> Event:
    """``row`` in EVENT_COLS order (``project`` first)."""
    return Event(
        id=row[1], session_id=row[2], parent_id=row[3], type=row[4], name=row[5],
        ts=us_to_ts(row[6]) or "", end_ts=us_to_ts(row[7]), duration_ms=row[8], status=row[9],
        partial=bool(row[10]), data=loads(row[11]), error=loads(row[12]), trace_id=row[13],
        span_id=row[14],
    )  # fmt: skip


def message_from_row(row: tuple[Any, ...]) -> Message:
    return Message(id=row[1], session_id=row[2], ts=us_to_ts(row[3]) or "", role=row[4],
                   format=row[5], blob=loads(row[6]))  # fmt: skip


_FIELDS = ("name", "user_id", "configs", "summary", "parent_session_id")


def _tags(old: list[str] | None, new: list[str] | None) -> list[str] | None:
    """Tags accumulate, in first-seen order."""
    if not new:
        return old
    return list(dict.fromkeys([*(old or ()), *new]))


def merge_session(stored: dict[str, Any] | None, rec: SessionRecord, now: int) -> dict[str, Any]:
    """Fold a session record into the stored row (a dict of its columns).

    Later records win field by field (non-null values only) and the first ``started_at`` is
    kept. "Later" is the record's own time (``ended_at``, else ``started_at``), not its arrival,
    so replaying a batch changes nothing: an old start record cannot reopen a finished session
    or undo later configs.
    """
    started = None if rec.started_at is None else to_us(rec.started_at)
    ended = None if rec.ended_at is None else to_us(rec.ended_at)
    updated = None if rec.updated_at is None else to_us(rec.updated_at)
    rec_t = (updated if updated is not None else ended if ended is not None
             else started if started is not None else now)  # fmt: skip
    values: dict[str, Any] = {"name": rec.name, "user_id": rec.user, "configs": rec.configs,
              "summary": rec.summary, "parent_session_id": rec.parent_session_id}  # fmt: skip
    if stored is None:
        row: dict[str, Any] = dict(values, status=rec.status or "running", started_us=started, ended_us=ended,
                   rec_us=rec_t, sort_us=started if started is not None else now,
                   last_activity_us=max(x for x in (started, ended, 0) if x is not None),
                   tags=_tags(None, rec.tags))  # fmt: skip
        return row
    row = dict(stored)
    newer = row.get("rec_us") is None or rec_t >= row["rec_us"]
    for key in _FIELDS:
        if values[key] is not None and (newer or row.get(key) is None):
            row[key] = values[key]
    if updated is not None and newer and "configs" in rec.model_fields_set and rec.configs is None:
        row["configs"] = None  # a reader cleared them (configs PUT with null)
    row["tags"] = _tags(row.get("tags"), rec.tags)
    if rec.status is not None and newer:
        if not (rec.status == "running" and row.get("status") in TERMINAL):
            row["status"] = rec.status
    if ended is not None and (newer or row.get("ended_us") is None):
        row["ended_us"] = ended
    if started is not None and (row.get("started_us") is None or started < row["started_us"]):
        row["started_us"] = started
        row["sort_us"] = started
    row["rec_us"] = rec_t if newer else row.get("rec_us")
    acts = [x for x in (row.get("last_activity_us"), started, ended) if x is not None]
    row["last_activity_us"] = max(acts) if acts else None
    return row


def check_status(status: str, *, allow_running: bool = True) -> str:
    allowed = ("running", *TERMINAL) if allow_running else TERMINAL
    if status not in allowed:
        raise InvalidInputError(f"status: must be one of {', '.join(allowed)}; got {status!r}")
    return status
