"""Count tables kept by ingest, so ``event_counts`` reads a week of minutes, not of events.

``event_minutes`` and ``event_hours`` count timeline items per (minute or hour, kind, type,
name) and serve the time buckets; ``session_hours`` counts them per (hour, session, kind, type)
and serves the session bucket; ``minute_totals`` and ``session_totals`` hold the same counts
without type and name, for unfiltered counts. Messages count with kind ``'m'`` and their role as type; a missing name is ``''``.
Only rows really inserted are counted (a re-sent record adds nothing), and deleting a session
takes its counts back out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ._conn import Conn
from ._keys import in_session

__all__ = [
    "BATCH_COLS",
    "BATCH_OF",
    "COUNTED",
    "HOUR_US",
    "MINUTE_US",
    "ROLLUPS",
    "batch_counts",
    "from_batch_sql",
    "remove_counts",
    "remove_session",
    "select_counts",
    "trunc_div",
]

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000

_M = f"ts_us / {MINUTE_US}"
_H = f"ts_us / {HOUR_US}"
_NAME = "COALESCE(name, '')"
_ALL = "TRUE"
_SESSION = "session_id IS NOT NULL"

# table -> (key columns, {source table: (key expression, condition)}). The *_totals tables
# serve unfiltered counts: a week of minutes is ~10k rows there, against one row per minute
# and type and name in event_minutes.
ROLLUPS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "event_minutes": ("project, minute, kind, type, name", {
        "events": (f"project, {_M}, 'e', type, {_NAME}", _ALL),
        "messages": (f"project, {_M}, 'm', role, ''", _ALL),
    }),
    "minute_totals": ("project, minute", {
        "events": (f"project, {_M}", _ALL),
        "messages": (f"project, {_M}", _ALL),
    }),
    "event_hours": ("project, hour, kind, type, name", {
        "events": (f"project, {_H}, 'e', type, {_NAME}", _ALL),
        "messages": (f"project, {_H}, 'm', role, ''", _ALL),
    }),
    "session_hours": ("project, hour, session_id, kind, type", {
        "events": (f"project, {_H}, session_id, 'e', type", _SESSION),
        "messages": (f"project, {_H}, session_id, 'm', role", _ALL),
    }),
    "session_totals": ("project, hour, session_id", {
        "events": (f"project, {_H}, session_id", _SESSION),
        "messages": (f"project, {_H}, session_id", _ALL),
    }),
}  # fmt: skip


# The finest grouping of new rows, from which every count table is summed: one pass over the
# new rows instead of one per table.
BATCH_COLS = "project, minute, hour, session_id, kind, type, name"
BATCH_OF = {
    "events": f"project, {_M} AS minute, {_H} AS hour, session_id, 'e' AS kind, type, "
    f"{_NAME} AS name",
    "messages": f"project, {_M} AS minute, {_H} AS hour, session_id, 'm' AS kind, role AS type, "
    "'' AS name",
}


# Where BATCH_OF reads its columns in a row of that table (EVENT_COLS / MESSAGE_COLS order):
# project, ts_us, session_id, type (a message's role), name (None for messages).
_AT = {"events": (0, 6, 2, 4, 5), "messages": (0, 3, 2, 4, None)}


def trunc_div(ts: int, unit: int) -> int:
    """``ts / unit`` as SQL divides integers: toward zero (Python's ``//`` floors)."""
    return ts // unit if ts >= 0 else -(-ts // unit)


def batch_counts(table: str, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The rows of ``BATCH_OF[table]`` grouped as its SQL groups them (``BATCH_COLS``, then the
    count), computed in Python from rows that are all known to be new: PostgreSQL ingest copies
    a batch straight into its table and so has no staged copy to group in SQL."""
    p, t, s, k, n = _AT[table]
    kind = "e" if table == "events" else "m"
    m = MINUTE_US
    if n is None:
        keys = ((r[p], ts // m if (ts := r[t]) >= 0 else trunc_div(ts, m), r[s], r[k], "")
                for r in rows)  # fmt: skip
    else:
        keys = ((r[p], ts // m if (ts := r[t]) >= 0 else trunc_div(ts, m), r[s], r[k], r[n] or "")
                for r in rows)  # fmt: skip
    minutes: Counter[tuple[Any, ...]] = Counter(keys)
    return [(proj, minute, trunc_div(minute, 60), sid, kind, typ, name, count)
            for (proj, minute, sid, typ, name), count in minutes.items()]  # fmt: skip


def from_batch_sql(table: str, batch: str) -> str:
    """``INSERT INTO table`` summing the grouped new rows held in ``batch``. Rows are taken in
    key order, as every writer of the count tables does, so two writers never wait on each
    other's rows in a cycle (a deadlock on PostgreSQL)."""
    cols, sources = ROLLUPS[table]
    cond = _SESSION if sources["events"][1] == _SESSION else _ALL
    return (f"INSERT INTO {table} ({cols}, n) SELECT {cols}, SUM(n) FROM {batch} WHERE {cond} "
            f"GROUP BY {cols} ORDER BY {cols} "
            f"ON CONFLICT ({cols}) DO UPDATE SET n = {table}.n + excluded.n")  # fmt: skip


def select_counts(table: str, source: str, rows_from: str, where: str = "TRUE") -> str:
    """``INSERT INTO table`` counting the rows of ``rows_from`` (``source``-shaped)."""
    cols, sources = ROLLUPS[table]
    expr, cond = sources[source]
    group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
    return (f"INSERT INTO {table} ({cols}, n) SELECT {expr}, count(*) FROM {rows_from} "
            f"WHERE {cond} AND {where} GROUP BY {group} ORDER BY {group} ON CONFLICT ({cols}) "
            f"DO UPDATE SET n = {table}.n + excluded.n")  # fmt: skip


COUNTED = ("events", "messages")  # the tables whose rows the count tables count


def remove_counts(conn: Conn, chosen: dict[str, tuple[str, Sequence[Any]]]) -> None:
    """Take rows out of the counts before they are deleted, in the same transaction: for each
    source table in ``chosen``, the rows matching its ``(where, params)``. One pass over the
    count tables, in their order and each in key order, as ingest adds to them: two writers
    never wait on each other in a cycle. Counts that reach zero go."""
    for table, (cols, sources) in ROLLUPS.items():
        group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
        parts: list[str] = []
        keys: list[str] = []
        args: list[Any] = []
        for source, (where, params) in chosen.items():
            expr, cond = sources[source]
            parts.append(f"SELECT {expr}, count(*) FROM {source} WHERE {cond} AND {where} "
                         f"GROUP BY {group}")  # fmt: skip
            keys.append(f"SELECT {expr} FROM {source} WHERE {cond} AND {where}")
            args.extend(params)
        if not parts:
            return
        names = [c.strip() for c in cols.split(",")]
        conn.run(f"WITH chunk ({cols}, n) AS ({' UNION ALL '.join(parts)}) INSERT INTO "
                 f"{table} ({cols}, n) SELECT {cols}, -SUM(n) FROM chunk GROUP BY {cols} "
                 f"ORDER BY {cols} ON CONFLICT ({cols}) DO UPDATE SET n = {table}.n + "
                 "excluded.n", args)  # fmt: skip
        conn.run(f"DELETE FROM {table} WHERE n <= 0 AND ({', '.join(names)}) IN "
                 f"({' UNION ALL '.join(keys)})", args)  # fmt: skip


def remove_session(conn: Conn, project: str, session_id: str) -> None:
    """Take a session's events and messages out of the counts (before they are deleted)."""
    remove_counts(conn, {t: in_session(conn.dialect, t, project, session_id) for t in COUNTED})
