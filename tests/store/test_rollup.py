"""The count tables' grouping of new rows: in Python when every row of a batch is new, in SQL
when some were stored already (SQLite, which then groups only the rows it inserted)."""

from __future__ import annotations

from typing import Any

from agentlog.store._rollup import BATCH_OF, HOUR_US, MINUTE_US, batch_counts
from agentlog.store._rows import EVENT_COLS, MESSAGE_COLS
from agentlog.store._store import SqlStore

# Times on both sides of zero and of minute and hour edges: SQL divides integers toward zero.
TIMES = [0, 1, MINUTE_US - 1, MINUTE_US, HOUR_US + 5, -1, -MINUTE_US, -MINUTE_US - 1,
         -HOUR_US - 1, 1_767_225_600_000_000]  # fmt: skip


def _sql_groups(store: SqlStore, table: str, cols: str, rows: list[tuple[Any, ...]]) -> list[Any]:
    marks = ", ".join(["(" + ", ".join(["?"] * len(rows[0])) + ")"] * len(rows))
    flat = [v for row in rows for v in row]
    with store._tx() as conn:
        got = conn.q(f"WITH {table} ({cols}) AS (VALUES {marks}) SELECT {BATCH_OF[table]}, "
                     f"count(*) FROM {table} GROUP BY 1, 2, 3, 4, 5, 6, 7", flat)  # fmt: skip
    return sorted(map(_key, got))


def _key(group: Any) -> tuple[Any, ...]:
    """A group, comparable with the others whatever its None session."""
    return tuple("" if v is None else v for v in group)


def test_event_groups_are_those_sql_makes(store: SqlStore) -> None:
    kinds = [("tool_call", "search"), ("step", None), ("step", None)]
    cases = [(ts, sid, typ, name) for ts in TIMES for sid in ("s1", None) for typ, name in kinds]
    rows = [
        ("p", f"e{i}", sid, None, typ, name, ts, None, None, "ok", False, "{}", None, None, None)
        for i, (ts, sid, typ, name) in enumerate(cases)
    ]
    got = sorted(map(_key, batch_counts("events", rows)))
    assert got == _sql_groups(store, "events", EVENT_COLS, rows)


def test_message_groups_are_those_sql_makes(store: SqlStore) -> None:
    rows = [("p", f"m{i}", "s1", ts, role, "openai", "{}", 0)
            for i, (ts, role) in enumerate((ts, role) for ts in TIMES
                                           for role in ("user", "user", "assistant"))]  # fmt: skip
    assert sorted(map(_key, batch_counts("messages", rows))) == _sql_groups(
        store, "messages", MESSAGE_COLS, rows
    )


def test_a_batch_of_stored_and_new_events_counts_only_the_new(store: SqlStore) -> None:
    from .helpers import event, session

    old = [event("s1", i) for i in range(3)]
    store.ingest([session("s1"), *old])
    again = store.ingest([old[0], event("s1", 7), old[2], event("s1", 8), event("s2", 9)])
    assert again.rejected == []
    by_session = {c.bucket: c.count for c in store.event_counts(days=3650, bucket="session")}
    assert by_session == {"s1": 5, "s2": 1}
    assert sum(c.count for c in store.event_counts(days=3650, bucket="minute")) == 6
