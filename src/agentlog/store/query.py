"""The query primitives over a project's merged timeline of events and messages.

A message takes part as an item whose type is its role (``user``, ``assistant``, ``tool``,
``system``), so every ``type`` filter matches event types and message roles alike. Items are
ordered by time, then id. Both tables are read with keyset conditions on their
``(project, session_id, ts_us, id)`` indexes (a whole project's messages on
``(project, ts_us, id)``, its events type by type through ``_bytime``) and merged here, which
keeps each read bounded by the page size instead of sorting a UNION.
"""

from __future__ import annotations

import enum
import heapq
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from .._errors import InvalidInputError, NotFoundError
from ._bytime import events_by_time, types_in
from ._conn import Conn
from ._core import StoreCore
from ._cursor import after_key, check_limit, decode_cursor, encode_cursor
from ._keys import in_session
from ._markers import between_markers
from ._models import (
    Event,
    EventContext,
    EventCount,
    EventsIteration,
    MarkerStats,
    Message,
)
from ._rollup import HOUR_US, MINUTE_US
from ._rows import (
    EVENT_COLS,
    MESSAGE_COLS,
    event_from_row,
    message_from_row,
    now_us,
    to_us,
)
from ._timeline import types_list

__all__ = ["BUCKETS", "QueryMixin", "count_rows"]

BUCKETS = {"minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000, "session": 0}
_Conv = Callable[[tuple[Any, ...]], "Event | Message"]
_ITEM: dict[str, tuple[str, int, str, _Conv]] = {
    "events": (EVENT_COLS, 6, "type", event_from_row),
    "messages": (MESSAGE_COLS, 3, "role", message_from_row),
}


class _Whole(enum.Enum):
    WHOLE = "whole"


WHOLE = _Whole.WHOLE  # the whole project's timeline, not one session's

_COUNTS: TypeAdapter[list[EventCount]] = TypeAdapter(list[EventCount])


def _label(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(seconds))


def _since(days: float, now: datetime | None) -> tuple[int, int]:
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
        raise InvalidInputError(f"days: must be a positive number, got {days!r}")
    end = to_us(now) if now is not None else now_us()
    return end - int(days * 86_400_000_000), end


def count_rows(totals: dict[Any, int], bucket: str) -> list[EventCount]:
    """Counts per bucket key as the answer: time buckets labelled by their start, oldest
    first; sessions by count, highest first."""
    # One validation call for all buckets: a week of minutes is thousands of them.
    if bucket == "session":
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return _COUNTS.validate_python([{"bucket": str(b), "count": n} for b, n in ranked])
    width = BUCKETS[bucket] // 1_000_000
    return _COUNTS.validate_python([{"bucket": _label(int(b) * width), "count": n}
                                    for b, n in sorted(totals.items())])  # fmt: skip


class QueryMixin(StoreCore):
    def _items(
        self, conn: Conn, project: str, session: str | _Whole | None, *,
        types: list[str] | None, key: tuple[Any, ...] | None, op: str, limit: int,
    ) -> list[tuple[tuple[int, str], Event | Message]]:  # fmt: skip
        """Up to ``limit`` items of both tables, in key order from ``key``: one session's,
        the sessionless ones (``None``) or the whole project's (``WHOLE``)."""
        out: list[list[tuple[tuple[int, str], Event | Message]]] = []
        order = "DESC" if op == "<" else "ASC"
        for table, (cols, ts_i, type_col, conv) in _ITEM.items():
            if table == "events" and session is WHOLE:
                rows = events_by_time(conn, project, cols, "", [], types=types, key=key,
                                      desc=op == "<", limit=limit, at=(ts_i, 1))  # fmt: skip
                out.append([((r[ts_i], r[1]), conv(r)) for r in rows])
                continue
            if isinstance(session, str):
                cond, args = in_session(conn.dialect, table, project, session)
            elif session is None:
                cond, args = "project = ? AND session_id IS NULL", [project]
            else:  # the whole project's messages (its events were read above)
                cond, args = "project = ?", [project]
            if types:
                cond += f" AND {type_col} IN ({','.join('?' * len(types))})"
                args.extend(types)
            past, vals = after_key(key, op == "<")
            cond += past
            args.extend(vals)
            rows = conn.q(f"SELECT {cols} FROM {table} WHERE {cond} "
                          f"ORDER BY ts_us {order}, id {order} LIMIT ?", [*args, limit])  # fmt: skip
            out.append([((r[ts_i], r[1]), conv(r)) for r in rows])
        merged = heapq.merge(*out, key=lambda x: x[0], reverse=order == "DESC")
        return list(merged)[:limit]

    def event_context(
        self, event_id: str, *, before: int = 5, after: int = 5, project: str = "default"
    ) -> EventContext:
        """The item ``event_id`` (an event or a message) with up to ``before`` items before it
        and ``after`` items after it in its session, all in timeline order."""
        for n, what in ((before, "before"), (after, "after")):
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1000:
                raise InvalidInputError(f"{what}: must be an integer from 0 to 1000, got {n!r}")
        with self._tx() as conn:
            target: Event | Message | None = None
            for table, (cols, ts_i, _, conv) in _ITEM.items():
                row = conn.one(f"SELECT {cols} FROM {table} WHERE project = ? AND id = ?",
                               (project, event_id))  # fmt: skip
                if row is not None:
                    target, key, sid = conv(row), (row[ts_i], row[1]), row[2]
                    break
            if target is None:
                raise NotFoundError(f"event {event_id!r} not found")
            prev = self._items(conn, project, sid, types=None, key=key, op="<", limit=before)
            nxt = self._items(conn, project, sid, types=None, key=key, op=">", limit=after)
        return EventContext(target=target, before=[i for _, i in reversed(prev)] if before else [],
                            after=[i for _, i in nxt] if after else [])  # fmt: skip

    def event_counts(
        self, *, days: float = 7, bucket: str = "hour", type: str | None = None,
        name: str | None = None, now: datetime | None = None, project: str = "default",
    ) -> list[EventCount]:  # fmt: skip
        """Items of the last ``days`` days per time bucket (labelled by the bucket's start) or
        per session (sessionless events are not counted there). Empty buckets are omitted.
        Time buckets come oldest first; session buckets by count, highest first.

        Whole minutes are read from ``event_minutes``; the partial minutes at both ends of the
        window are counted from the events and messages themselves, so the answer is exact.
        """
        if bucket not in BUCKETS:
            raise InvalidInputError(f"bucket: must be one of {', '.join(BUCKETS)}; got {bucket!r}")
        start, end = _since(days, now)
        # Whole minutes (hours, for sessions) come from the count tables; the partial ones at
        # both ends of the window from the rows themselves. A name filter per session has no
        # count table: it reads the rows.
        plain = type is None and name is None
        if bucket == "session":
            table = "" if name is not None else "session_totals" if plain else "session_hours"
            unit = HOUR_US
        elif bucket == "minute":
            table, unit = ("minute_totals" if plain else "event_minutes"), MINUTE_US
        else:
            table, unit = "event_hours", HOUR_US
        lo = -(-start // unit)  # first whole unit in the window
        hi = (end + 1) // unit  # units before this one end inside the window
        totals: dict[Any, int] = {}
        with self._tx() as conn:
            if table and lo < hi:
                self._count_table(conn, totals, table, lo, hi, bucket, type, name, project)
                edges = [(start, lo * unit - 1), (hi * unit, end)]
            else:
                edges = [(start, end)]
            edges = [(a, b) for a, b in edges if a <= b]
            # Once for both edges: the condition that keeps their time range on events_type.
            by_type = types_in(conn, project, type) if edges else ("", [])
            for a, b in edges:
                self._count_raw(conn, totals, a, b, bucket, type, by_type, name, project)
        return count_rows(totals, bucket)

    @staticmethod
    def _count_table(
        conn: Conn, totals: dict[Any, int], table: str, lo: int, hi: int, bucket: str,
        type: str | None, name: str | None, project: str,
    ) -> None:  # fmt: skip
        minutes = table in ("event_minutes", "minute_totals")
        unit_col, unit = ("minute", MINUTE_US) if minutes else ("hour", HOUR_US)
        cond = f"project = ? AND {unit_col} >= ? AND {unit_col} < ?"
        args: list[Any] = [project, lo, hi]
        if type is not None:
            cond += " AND type = ?"
            args.append(type)
        if name is not None:
            cond += " AND kind = 'e' AND name = ?"
            args.append(name)
        group = "session_id" if bucket == "session" else f"{unit_col} / {BUCKETS[bucket] // unit}"
        for b, n in conn.q(f"SELECT {group} AS b, SUM(n) FROM {table} WHERE {cond} "
                           "GROUP BY b", args):  # fmt: skip
            totals[b] = totals.get(b, 0) + int(n)

    @staticmethod
    def _count_raw(
        conn: Conn, totals: dict[Any, int], start: int, end: int, bucket: str, type: str | None,
        by_type: tuple[str, list[Any]], name: str | None, project: str,
    ) -> None:  # fmt: skip
        """Count the rows of ``[start, end]`` into ``totals``; ``by_type`` is the events'
        condition on their type (``types_in``)."""
        # Expressions, not the bare column, for the session: SQLite would otherwise walk the
        # whole events_session index to group, instead of the time range of events_type.
        group = "session_id || ''" if bucket == "session" else f"ts_us / {BUCKETS[bucket]}"
        for table, (_, _, type_col, _) in _ITEM.items():
            if table == "messages" and name is not None:
                continue  # messages have no name: a name filter selects events only
            if table == "events":
                typed, types = by_type
            else:
                typed, types = (f"{type_col} = ?", [type]) if type is not None else ("", [])
            cond = " AND ".join(c for c in ("project = ?", typed, "ts_us >= ? AND ts_us <= ?") if c)
            args: list[Any] = [project, *types, start, end]
            if name is not None:
                cond += " AND name = ?"
                args.append(name)
            if bucket == "session":
                cond += " AND COALESCE(session_id, '') <> ''"
            for b, n in conn.q(f"SELECT {group} AS b, count(*) FROM {table} WHERE {cond} "
                               "GROUP BY b", args):  # fmt: skip
                totals[b] = totals.get(b, 0) + int(n)

    def events_between_markers(
        self, *, marker_types: Sequence[str] = ("compaction",), count_type: str = "user",
        days: float = 7, now: datetime | None = None, project: str = "default",
    ) -> MarkerStats:  # fmt: skip
        """How many ``count_type`` items come between markers (e.g. user turns per compaction).

        Within each session, the items of the last ``days`` days are cut at every marker (any
        item whose type is in ``marker_types``). Marker *i*'s segment runs from the previous
        marker, or from the session's first item in the window, up to marker *i*; its count is
        the ``count_type`` items in it. Items after a session's last marker (and all of a
        session without markers) belong to no marker: they are reported as
        ``trailing_events``, not in the average or median. A marker type that is also the
        count type counts as a marker. Sessionless events are ignored.
        """
        markers = types_list(marker_types, "marker_types") or []
        if not isinstance(count_type, str) or not count_type:
            raise InvalidInputError("count_type: must be a non-empty string")
        start, end = _since(days, now)
        with self._tx() as conn:
            if self.dialect == "postgres":  # its reads in one snapshot, as SQLite's transaction
                conn.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return between_markers(conn, markers, count_type, start, end, project)

    def iterate_events(
        self, *, session_id: str | None = None, types: Sequence[str] | None = None,
        cursor: str | None = None, limit: int = 100, project: str = "default",
    ) -> EventsIteration:  # fmt: skip
        """Walk the timeline (one session's, or the whole project's) in order, ``limit`` items
        at a time; pass ``next_cursor`` back until it is None."""
        check_limit(limit, high=1000)
        wanted = types_list(types, "types")
        key = decode_cursor(cursor, "iterate")
        with self._tx() as conn:
            if session_id is not None:
                self._require_session(conn, session_id, project)
            scope = WHOLE if session_id is None else session_id
            items = self._items(conn, project, scope, types=wanted,
                                key=None if key is None else tuple(key), op=">", limit=limit + 1)  # fmt: skip
        more = len(items) > limit
        items = items[:limit]
        nxt = encode_cursor("iterate", list(items[-1][0])) if more else None
        return EventsIteration(events=[i for _, i in items], next_cursor=nxt)
