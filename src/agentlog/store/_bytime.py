"""A project's events in time order, read type by type.

``events`` keeps no ``(project, ts_us, id)`` index: maintaining it cost PostgreSQL ~2.5 µs of
the ~16 its backend spends storing an event (``store_bench.py --drop-indexes events_time``),
and its reads are served as well through ``events_type (project, type, ts_us, session_id,
id)``. A project has few event types, found with one index descent each; a read across the
project takes each type's range (in time order, ``limit`` at most) and merges them. A
sessionless event is found through the partial ``events_loose`` index instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._conn import Conn
from ._cursor import after_key
from ._keys import type_key
from ._rollup import MINUTE_US

__all__ = ["event_types", "events_by_time", "types_in"]

# The distinct types of a project's events, one index descent each (a loose index scan: neither
# backend skips through an index on its own). PostgreSQL's events_type leads with hashes
# (_keys): its scan steps through the type hashes and reads each type from the included column
# (two types of one project with the same 64-bit hash, odds of 2^-64 a pair, would list as one).
_TYPES = (
    "WITH RECURSIVE t(type) AS (SELECT min(type) FROM events WHERE project = ? UNION ALL "
    "SELECT (SELECT min(type) FROM events WHERE project = ? AND type > t.type) FROM t "
    "WHERE t.type IS NOT NULL) SELECT type FROM t WHERE type IS NOT NULL"
)
_NEXT = ("SELECT hashtextextended(type, 0) AS h, type FROM events WHERE project = ? AND "
         "hashtextextended(project, 0) = hashtextextended(?, 0){} ORDER BY 1 LIMIT 1")  # fmt: skip
_PG_TYPES = (
    f"WITH RECURSIVE t(h, type) AS (({_NEXT.format('')}) UNION ALL SELECT n.h, n.type FROM t, "
    f"LATERAL ({_NEXT.format(' AND hashtextextended(type, 0) > t.h')}) n) SELECT type FROM t"
)


def event_types(conn: Conn, project: str) -> list[str]:
    """The types the project's events have, sorted."""
    sql = _PG_TYPES if conn.dialect == "postgres" else _TYPES
    return sorted(r[0] for r in conn.q(sql, (project,) * (4 if conn.dialect == "postgres" else 2)))


def types_in(conn: Conn, project: str, wanted: str | None) -> tuple[str, list[Any]]:
    """A condition on ``type`` that keeps a time-range read of ``events`` on ``events_type``:
    the one type wanted, or every type the project has."""
    types = [wanted] if wanted is not None else event_types(conn, project) or [""]
    key, args = type_key(conn.dialect, "events", project, types)
    return f"type IN ({','.join('?' * len(types))}){key}", [*types, *args]


def events_by_time(
    conn: Conn, project: str, cols: str, cond: str, params: Sequence[Any], *,
    types: Sequence[str] | None, key: Sequence[Any] | None, desc: bool, limit: int,
    at: tuple[int, int], sparse: bool = False,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Up to ``limit`` rows (``cols``) of the project's events matching ``cond``, in (ts_us,
    id) order (descending with ``desc``) after ``key``, of the ``types`` given or of every
    type. ``at`` is where ts_us and id are in a row of ``cols``.

    Each type's first ``limit`` rows in order, merged, are the answer. When ``cond`` may
    match few rows of some type (``sparse``: a name or an outcome), reading each type until
    it gives ``limit`` could walk all of it: the types are then read together a window of
    time at a time, from ``key`` on, each window four times the last, until ``limit`` rows
    are found or the project's events (as its count table spans them) run out."""
    wanted = list(dict.fromkeys(types)) if types else event_types(conn, project)
    if not wanted or limit <= 0:
        return []
    if sparse:
        return _windows(conn, project, cols, cond, params, wanted, key, desc, limit)
    order = "DESC" if desc else "ASC"
    after, past = after_key(key, desc)
    keyed = [type_key(conn.dialect, "events", project, [typ]) for typ in wanted]  # one text for all
    where = f"project = ? AND type = ?{keyed[0][0]}{f' AND {cond}' if cond else ''}{after}"
    # One statement: each type's first rows in order (LIMIT inside each part), sorted here.
    part = (f"SELECT * FROM (SELECT {cols} FROM events WHERE {where} "
            f"ORDER BY ts_us {order}, id {order} LIMIT ?) AS t{{}}")  # fmt: skip
    sql = " UNION ALL ".join(part.format(i) for i in range(len(wanted)))
    args: list[Any] = []
    for typ, (_, hashed) in zip(wanted, keyed, strict=True):
        args.extend((project, typ, *hashed, *params, *past, limit))
    rows = conn.q(sql, args)
    ts_i, id_i = at
    rows.sort(key=lambda r: (r[ts_i], r[id_i]), reverse=desc)
    return rows[:limit]


def _windows(
    conn: Conn, project: str, cols: str, cond: str, params: Sequence[Any], types: list[str],
    key: Sequence[Any] | None, desc: bool, limit: int,
) -> list[tuple[Any, ...]]:  # fmt: skip
    span = conn.one("SELECT (SELECT min(minute) FROM minute_totals WHERE project = ?), "
                    "(SELECT max(minute) FROM minute_totals WHERE project = ?)",
                    (project, project))  # fmt: skip
    if span is None or span[0] is None:
        return []
    # A minute's row counts what falls in it, truncated toward zero: one more on each side.
    first, last = (span[0] - 1) * MINUTE_US, (span[1] + 2) * MINUTE_US
    order = "DESC" if desc else "ASC"
    keyed, hashed = type_key(conn.dialect, "events", project, types)
    typed = f"type IN ({','.join('?' * len(types))}){keyed}"
    after, past = after_key(key, desc)
    where = (f"project = ? AND {typed} AND ts_us >= ? AND ts_us < ?"
             f"{f' AND {cond}' if cond else ''}{after}")  # fmt: skip
    edge = (key[0] + 1 if desc else key[0]) if key is not None else (last if desc else first)
    width, out = MINUTE_US, list[tuple[Any, ...]]()
    while len(out) < limit and (first < edge if desc else edge < last):
        lo, hi = (max(first, edge - width), edge) if desc else (edge, min(last, edge + width))
        # The window's rows come in order (ORDER BY): nothing to sort here.
        out += conn.q(f"SELECT {cols} FROM events WHERE {where} ORDER BY ts_us {order}, "
                      f"id {order} LIMIT ?", [project, *types, *hashed, lo, hi, *params, *past,
                                               limit - len(out)])  # fmt: skip
        edge, width = (lo if desc else hi), width * 4
    return out
