"""Count tables kept by ingest, so ``event_counts`` reads a week of minutes, not of events.

``event_minutes`` and ``event_hours`` count timeline items per (minute or hour, kind, type,
name) and serve the time buckets; ``session_hours`` counts them per (hour, session, kind, type)
and serves the session bucket. Messages count with kind ``'m'`` and their role as type; a missing name is ``''``.
Only rows really inserted are counted (a re-sent record adds nothing), and deleting a session
takes its counts back out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core import Conn

__all__ = ["HOUR_US", "MINUTE_US", "ROLLUPS", "add_counts", "count_rows", "remove_session",
           "select_counts", "upsert_sql"]  # fmt: skip

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000

# table -> (key columns, {source table: (key expression, condition)})
ROLLUPS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "event_minutes": ("project, minute, kind, type, name", {
        "events": (f"project, ts_us / {MINUTE_US}, 'e', type, COALESCE(name, '')", "TRUE"),
        "messages": (f"project, ts_us / {MINUTE_US}, 'm', role, ''", "TRUE"),
    }),
    "event_hours": ("project, hour, kind, type, name", {
        "events": (f"project, ts_us / {HOUR_US}, 'e', type, COALESCE(name, '')", "TRUE"),
        "messages": (f"project, ts_us / {HOUR_US}, 'm', role, ''", "TRUE"),
    }),
    "session_hours": ("project, hour, session_id, kind, type", {
        "events": (f"project, ts_us / {HOUR_US}, session_id, 'e', type", "session_id IS NOT NULL"),
        "messages": (f"project, ts_us / {HOUR_US}, session_id, 'm', role", "TRUE"),
    }),
}  # fmt: skip


def upsert_sql(table: str) -> str:
    cols = ROLLUPS[table][0]
    marks = ", ".join("?" * (cols.count(",") + 2))
    return (f"INSERT INTO {table} ({cols}, n) VALUES ({marks}) ON CONFLICT ({cols}) "
            f"DO UPDATE SET n = {table}.n + excluded.n")  # fmt: skip


def select_counts(table: str, source: str, rows_from: str, where: str = "TRUE") -> str:
    """``INSERT INTO table`` counting the rows of ``rows_from`` (``source``-shaped)."""
    cols, sources = ROLLUPS[table]
    expr, cond = sources[source]
    group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
    return (f"INSERT INTO {table} ({cols}, n) SELECT {expr}, count(*) FROM {rows_from} "
            f"WHERE {cond} AND {where} GROUP BY {group} ON CONFLICT ({cols}) "
            f"DO UPDATE SET n = {table}.n + excluded.n")  # fmt: skip


def _div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as SQL's ``/`` on integers does."""
    q = abs(a) // b
    return q if a >= 0 else -q


def count_rows(source: str, rows: Sequence[tuple[Any, ...]]) -> dict[str, Counter[tuple[Any, ...]]]:
    """The counts that ``rows`` (rows of ``source`` in its column order) add to each table."""
    minutes: Counter[tuple[Any, ...]] = Counter()
    hours: Counter[tuple[Any, ...]] = Counter()
    sessions: Counter[tuple[Any, ...]] = Counter()
    if source == "events":
        for r in rows:
            name = r[5] or ""
            minutes[(r[0], _div(r[6], MINUTE_US), "e", r[4], name)] += 1
            hours[(r[0], _div(r[6], HOUR_US), "e", r[4], name)] += 1
            if r[2] is not None:
                sessions[(r[0], _div(r[6], HOUR_US), r[2], "e", r[4])] += 1
    else:
        for r in rows:
            minutes[(r[0], _div(r[3], MINUTE_US), "m", r[4], "")] += 1
            hours[(r[0], _div(r[3], HOUR_US), "m", r[4], "")] += 1
            sessions[(r[0], _div(r[3], HOUR_US), r[2], "m", r[4])] += 1
    return {"event_minutes": minutes, "event_hours": hours, "session_hours": sessions}


def add_counts(conn: Conn, counts: dict[str, Counter[tuple[Any, ...]]], sign: int = 1) -> None:
    for table, counter in counts.items():
        if counter:
            conn.many(upsert_sql(table), [(*k, sign * n) for k, n in counter.items()])


def remove_session(conn: Conn, project: str, session_id: str) -> None:
    """Take a session's events and messages out of the counts (before they are deleted)."""
    for table, (cols, sources) in ROLLUPS.items():
        group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
        pk = " AND ".join(f"{c.strip()} = ?" for c in cols.split(","))
        for source, (expr, _) in sources.items():
            rows = conn.q(f"SELECT {expr}, count(*) FROM {source} WHERE project = ? AND "
                          f"session_id = ? GROUP BY {group}", (project, session_id))  # fmt: skip
            if rows:
                conn.many(upsert_sql(table), [(*r[:-1], -r[-1]) for r in rows])
                conn.many(f"DELETE FROM {table} WHERE {pk} AND n <= 0", [r[:-1] for r in rows])
