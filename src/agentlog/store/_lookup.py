"""Lookups the readers need beside the ``Store`` contract: ids by prefix, which ids a store
already holds, and counts of failed items.

They are functions over a SQL store (``StoreCore``) rather than Store methods, so the contract
every backend implements stays as it is; a store of another kind answers "nothing known" (no
prefix match, nothing present) and the callers fall back to the exact id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from .._errors import InvalidInputError
from ._bytime import types_in
from ._conn import chunks
from ._core import StoreCore
from ._models import EventCount
from .query import BUCKETS, _since, count_rows

__all__ = [
    "MIN_PREFIX",
    "existing_ids",
    "ids_with_prefix",
    "projects",
    "resolve_id",
    "status_counts",
]

# Shorter prefixes would match too much to be useful: 8 hex digits of a time-ordered id are
# about a minute of ids.
MIN_PREFIX = 8
_MAX_MATCHES = 10
# The largest code point: every string that starts with the prefix sorts below prefix + this
# (bytewise, as both backends order ids), so a range scan on the primary key finds them all.
_TOP = "\U0010ffff"
_TABLES = {"session": ("sessions",), "item": ("events", "messages")}


def _full_uuid(value: str) -> bool:
    return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))


def ids_with_prefix(
    store: Any, prefix: str, *, what: Literal["session", "item"], project: str,
    limit: int = _MAX_MATCHES + 1,
) -> list[str]:  # fmt: skip
    """Up to ``limit`` ids of sessions (``what="session"``) or of events and messages
    (``"item"``) of ``project`` that start with ``prefix``, in id order."""
    if not isinstance(store, StoreCore):
        return []
    found: list[str] = []
    with store._tx() as conn:
        for table in _TABLES[what]:
            rows = conn.q(
                f"SELECT id FROM {table} WHERE project = ? AND id >= ? AND id < ? "
                "ORDER BY id LIMIT ?", (project, prefix, prefix + _TOP, limit),
            )  # fmt: skip
            found.extend(r[0] for r in rows if str(r[0]).startswith(prefix))
    return sorted(found)[:limit]


def resolve_id(store: Any, value: str, *, what: Literal["session", "item"], project: str) -> str:
    """The full id ``value`` stands for: itself when it is an id, else the one id it is a
    prefix of (at least ``MIN_PREFIX`` characters). An ambiguous prefix is an
    ``InvalidInputError`` listing the matches; an unknown one comes back unchanged, for the
    operation to report as not found."""
    if not isinstance(value, str) or len(value) < MIN_PREFIX or _full_uuid(value):
        return value
    matches = ids_with_prefix(store, value, what=what, project=project)
    if value in matches or not matches:
        return value
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(matches[:_MAX_MATCHES])
    more = " and more" if len(matches) > _MAX_MATCHES else ""
    kind = "session" if what == "session" else "event/message"
    raise InvalidInputError(f"{kind} id prefix {value!r} is ambiguous: it matches {shown}{more}; "
                            "give more characters")  # fmt: skip


def projects(store: Any, *, limit: int = 20) -> list[str]:
    """The projects that hold sessions in this store (at most ``limit``, by name)."""
    if not isinstance(store, StoreCore):
        return []
    with store._tx() as conn:
        rows = conn.q("SELECT DISTINCT project FROM sessions ORDER BY project LIMIT ?", (limit,))
    return [r[0] for r in rows]


def existing_ids(store: Any, ids: Iterable[str], *, project: str) -> set[str]:
    """Which of ``ids`` (of sessions, events or messages) ``project`` already holds."""
    wanted = sorted({i for i in ids if isinstance(i, str)})
    if not wanted or not isinstance(store, StoreCore):
        return set()
    present: set[str] = set()
    with store._tx() as conn:
        for part in chunks(wanted):
            marks = ",".join("?" * len(part))
            for table in ("sessions", "events", "messages"):
                rows = conn.q(f"SELECT id FROM {table} WHERE project = ? AND id IN ({marks})",
                              (project, *part))  # fmt: skip
                present.update(r[0] for r in rows)
    return present


def status_counts(
    store: Any, *, status: str, days: float = 7, bucket: str = "hour",
    type: str | None = None, name: str | None = None, now: datetime | None = None,
    project: str = "default",
) -> list[EventCount]:  # fmt: skip
    """``event_counts`` of events by outcome. ``status="error"`` counts what the session
    rollups count as errors: every ``error`` event and every span that failed (a tool or LLM
    call that raised); ``"ok"`` the rest. Messages have no outcome and are not counted."""
    if not isinstance(store, StoreCore):
        raise InvalidInputError("status: this store cannot count events by status")
    if status not in ("ok", "error"):
        raise InvalidInputError(f"status: must be ok or error; got {status!r}")
    if bucket not in BUCKETS:
        raise InvalidInputError(f"bucket: must be one of {', '.join(BUCKETS)}; got {bucket!r}")
    start, end = _since(days, now)
    failed = "(status = 'error' OR type = 'error')"
    outcome = failed if status == "error" else f"NOT {failed}"
    if name is not None:
        outcome += " AND name = ?"
    if bucket == "session":
        outcome += " AND COALESCE(session_id, '') <> ''"
    group = "session_id || ''" if bucket == "session" else f"ts_us / {BUCKETS[bucket]}"
    with store._tx() as conn:
        typed, types = types_in(conn, project, type)  # the time range on events_type
        args = [project, *types, start, end, *([] if name is None else [name])]
        rows = conn.q(f"SELECT {group} AS b, count(*) FROM events WHERE project = ? AND {typed} "
                      f"AND ts_us >= ? AND ts_us <= ? AND {outcome} GROUP BY b", args)  # fmt: skip
    return count_rows({b: int(n) for b, n in rows}, bucket)
