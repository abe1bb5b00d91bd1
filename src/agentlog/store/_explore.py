"""Reads the web UI needs beyond the ``Store`` contract, for both SQL backends.

Sessions searched by name substring and time range and sorted by start or by duration, with
the figures a list shows (duration, LLM calls); one session with the size of its timeline and
its children; events across sessions filtered by type, name, status and time. They are plain
functions over a ``StoreCore`` so the contract (and every other Store) stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import InvalidInputError
from ._bytime import events_by_time
from ._core import StoreCore
from ._cursor import check_limit, decode_cursor, encode_cursor
from ._keys import in_session, session_key
from ._models import Event, Page, Session
from ._rows import EVENT_COLS, SESSION_COLS, check_status, event_from_row, session_from_row, to_us
from ._scores import score_filter, tags_filter
from ._sessions import _check_configs
from ._timeline import types_list

__all__ = ["SORTS", "SessionSummary", "explore_events", "explore_session", "explore_sessions"]

SORTS = ("start", "duration")
# A session's length: to its end, else to its last activity (a running session so far).
_DUR = "(COALESCE(ended_us, last_activity_us, sort_us) - sort_us)"


class SessionSummary(Session):
    """A session with what a list or a header shows besides its record and rollup."""

    duration_ms: float | None = None
    llm_calls: int = 0
    items: int | None = None  # events and messages on its timeline (one session only)
    children: int | None = None  # sessions naming it as parent (one session only)


def _time(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return to_us(value)
    except ValueError:
        raise InvalidInputError(f"{what}: not an RFC 3339 time: {value!r}") from None


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _Where:
    """The conditions of one read, and its keyset page."""

    def __init__(self, project: str) -> None:
        self.conds: list[str] = ["project = ?"]
        self.params: list[Any] = [project]

    def add(self, cond: str, *params: Any) -> None:
        self.conds.append(cond)
        self.params.extend(params)

    def eq(self, col: str, value: Any) -> None:
        if value is not None:
            self.add(f"{col} = ?", value)

    def between(self, col: str, since: str | None, until: str | None) -> None:
        """``since`` inclusive, ``until`` exclusive."""
        for bound, op, what in ((since, ">=", "since"), (until, "<", "until")):
            us = _time(bound, what)
            if us is not None:
                self.add(f"{col} {op} ?", us)

    def page(
        self, store: StoreCore, *, cols: str, table: str, order_by: str, kind: str,
        cursor: str | None, time_desc: bool, limit: int,
    ) -> tuple[list[tuple[Any, ...]], str | None]:  # fmt: skip
        """Rows ordered by ``order_by`` then id (each row ends with the two), and the cursor
        after the last one when there are more."""
        key = decode_cursor(cursor, kind)
        op, order = ("<", "DESC") if time_desc else (">", "ASC")
        if key is not None:
            self.add(f"({order_by}, id) {op} (?, ?)", *key)
        sql = (f"SELECT {cols}, {order_by}, id FROM {table} WHERE {' AND '.join(self.conds)} "
               f"ORDER BY {order_by} {order}, id {order} LIMIT ?")  # fmt: skip
        with store._tx() as conn:
            rows = conn.q(sql, [*self.params, limit + 1])
        nxt = encode_cursor(kind, list(rows[limit - 1][-2:])) if len(rows) > limit else None
        return rows[:limit], nxt


def _llm_calls(store: StoreCore, ids: Sequence[str], project: str) -> dict[str, int]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    keyed, hashed = session_key(store.dialect, "events", ids)
    with store._tx() as conn:
        rows = conn.q(f"SELECT session_id, count(*) FROM events WHERE project = ? AND session_id "
                      f"IN ({marks}){keyed} AND type = 'llm_call' GROUP BY session_id",
                      [project, *ids, *hashed])  # fmt: skip
    return {r[0]: int(r[1]) for r in rows}


def _summary(row: tuple[Any, ...], llm: dict[str, int], **extra: Any) -> SessionSummary:
    s = session_from_row(row)
    end = row[7] if row[7] is not None else row[9]
    dur = None if end is None else max(0, end - row[17]) / 1000.0
    return SessionSummary(**s.model_dump(), duration_ms=dur, llm_calls=llm.get(s.id, 0), **extra)


def explore_sessions(
    store: StoreCore, *, user: str | None = None, status: str | None = None,
    name: str | None = None, configs: dict[str, Any] | None = None, since: str | None = None,
    until: str | None = None, parent: str | None = None, tags: Sequence[str] | None = None,
    score: Any = None, sort: str = "start",
    time_desc: bool = True, limit: int = 50, cursor: str | None = None,
    project: str = "default",
) -> Page[SessionSummary]:  # fmt: skip
    """Sessions filtered by exact user and status, a name substring (case-insensitive), configs
    containment, a start time range (``since`` inclusive, ``until`` exclusive), parent, tags
    (all of them) and scores (``"helpful>=4"``, as ``list_sessions``);
    sorted by start or duration (longest or newest first with ``time_desc``), keyset-paged."""
    check_limit(limit)
    if sort not in SORTS:
        raise InvalidInputError(f"sort: must be one of {', '.join(SORTS)}; got {sort!r}")
    w = _Where(project)
    w.eq("user_id", user)
    w.eq("status", None if status is None else check_status(status))
    if name:
        # Any case: ILIKE on PostgreSQL; SQLite's LIKE ignores (ASCII) case by itself.
        like = "ILIKE" if store.dialect == "postgres" else "LIKE"
        w.add(f"name {like} ? ESCAPE '\\'", _like(name))
    w.eq("parent_session_id", parent)
    w.between("sort_us", since, until)
    for conds, args in (tags_filter(store.dialect, tags) if tags else ([], []),
                        score_filter(score) if score else ([], [])):  # fmt: skip
        for cond in conds:
            w.conds.append(cond)
        w.params.extend(args)
    if configs:
        sql, args = store._contains_filter(_check_configs(configs, "configs"))  # type: ignore[attr-defined]
        w.add(sql, *args)
    rows, nxt = w.page(store, cols=SESSION_COLS, table="sessions", kind=f"explore-{sort}",
                       order_by="sort_us" if sort == "start" else _DUR, cursor=cursor,
                       time_desc=time_desc, limit=limit)  # fmt: skip
    more = nxt is not None
    llm = _llm_calls(store, [r[0] for r in rows], project)
    return Page[SessionSummary](items=[_summary(r, llm) for r in rows], next_cursor=nxt,
                                has_more=more)  # fmt: skip


def explore_session(
    store: StoreCore, session_id: str, *, project: str = "default"
) -> SessionSummary:
    """One session with its duration, LLM calls, timeline size and number of children."""
    with store._tx() as conn:
        store._require_session(conn, session_id, project)
        row = conn.one(f"SELECT {SESSION_COLS} FROM sessions WHERE id = ?", (session_id,))
        sizes = []
        for table in ("events", "messages"):
            cond, args = in_session(store.dialect, table, project, session_id)
            sizes.append(conn.one(f"SELECT count(*) FROM {table} WHERE {cond}", args))
        kids = conn.one("SELECT count(*) FROM sessions WHERE project = ? AND "
                        "parent_session_id = ?", (project, session_id))  # fmt: skip
    assert row is not None
    items = sum(int(s[0]) for s in sizes if s is not None)
    return _summary(row, _llm_calls(store, [session_id], project), items=items,
                    children=int(kids[0]) if kids else 0)  # fmt: skip


def explore_events(
    store: StoreCore, *, type: str | Sequence[str] | None = None, name: str | None = None,
    status: str | None = None, since: str | None = None, until: str | None = None,
    session_id: str | None = None, time_desc: bool = True, limit: int = 50,
    cursor: str | None = None, project: str = "default",
) -> Page[Event]:  # fmt: skip
    """Events of every session (or one), newest first, filtered by type (one or several),
    exact name, status (``ok``/``error``) and a time range; keyset-paged."""
    check_limit(limit)
    types = types_list(type)
    w = _Where(project)
    w.eq("session_id", session_id)
    if session_id is not None:
        keyed, hashed = session_key(store.dialect, "events", [session_id])
        if keyed:
            w.add(keyed.removeprefix(" AND "), *hashed)
    if types and session_id is not None:
        w.add(f"type IN ({','.join('?' * len(types))})", *types)
    w.eq("name", name)
    if status is not None and status not in ("ok", "error"):
        raise InvalidInputError(f"status: must be ok or error; got {status!r}")
    w.eq("status", status)
    w.between("ts_us", since, until)
    if session_id is not None:
        rows, nxt = w.page(store, cols=EVENT_COLS, table="events", order_by="ts_us",
                           kind="explore-events", cursor=cursor, time_desc=time_desc, limit=limit)  # fmt: skip
    else:  # across sessions: type by type (_bytime)
        key = decode_cursor(cursor, "explore-events")
        with store._tx() as conn:
            rows = events_by_time(conn, project, EVENT_COLS, " AND ".join(w.conds[1:]),
                                  w.params[1:], types=types, key=key, desc=time_desc,
                                  limit=limit + 1, at=(6, 1),
                                  sparse=name is not None or status is not None)  # fmt: skip
        last = rows[limit - 1] if len(rows) > limit else None
        nxt = None if last is None else encode_cursor("explore-events", [last[6], last[1]])
        rows = rows[:limit]
    more = nxt is not None
    return Page[Event](items=[event_from_row(r) for r in rows], next_cursor=nxt, has_more=more)
