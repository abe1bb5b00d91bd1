"""Retention on both backends: what ended before the cut goes, in bounded steps, with the
count tables exact and running sessions kept, while ingest goes on beside it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from agentlog.store import parse_duration
from agentlog.store._rollup import ROLLUPS
from agentlog.store._store import SqlStore

from .helpers import event, message, session, ts

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)  # the cut for 30d is 2026-01-30
DAY = 86400


def _ended(sid: str, at: float, items: int) -> list[dict[str, Any]]:
    recs = [session(sid, at=at, name=sid)]
    for i in range(items):
        recs.append(event(sid, at + i + 1) if i % 3 else message(sid, at + i + 1))
    recs.append({"kind": "session", "id": sid, "status": "success",
                 "ended_at": ts(at + items + 2)})  # fmt: skip
    return recs


def _counts_exact(store: SqlStore) -> None:
    """Every count table holds exactly the counts of the rows stored."""
    with store._tx() as conn:
        for table, (cols, sources) in ROLLUPS.items():
            want: dict[tuple[Any, ...], int] = {}
            for source, (expr, cond) in sources.items():
                group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
                for *key, n in conn.q(f"SELECT {expr}, count(*) FROM {source} WHERE {cond} "
                                      f"GROUP BY {group}"):  # fmt: skip
                    want[tuple(key)] = want.get(tuple(key), 0) + n
            got = {tuple(k): n for *k, n in conn.q(f"SELECT {cols}, n FROM {table}")}
            assert got == want, table


def _orphans(store: SqlStore) -> int:
    with store._tx() as conn:
        row = conn.one("SELECT count(*) FROM events e WHERE session_id IS NOT NULL AND NOT "
                       "EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.session_id)")  # fmt: skip
        assert row is not None
        return int(row[0])


def test_durations_parse() -> None:
    assert parse_duration("30d") == 30 * DAY and parse_duration("12h") == 12 * 3600
    assert parse_duration("90m") == 5400 and parse_duration("2w") == 14 * DAY
    for bad in ("30", "d", "-1d", "0d", "1y"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_prune_removes_what_ended_before_the_cut_and_keeps_the_rest(store: SqlStore) -> None:
    store.ingest(_ended("old1", 0, 20) + _ended("old2", 5 * DAY, 9))
    store.ingest(_ended("recent", 40 * DAY, 6))
    store.ingest([session("running-old", at=0), event("running-old", 1), message("running-old", 2)])
    store.ingest([event(None, 10), event(None, 45 * DAY)], project="default")
    store.ingest(_ended("other", 0, 4), project="other")
    result = store.prune("30d", now=NOW, batch=7)
    assert (result.sessions, result.events, result.messages) == (3, 22, 12)
    assert sorted(s.id for s in store.list_sessions(limit=50).items) == ["recent", "running-old"]
    assert store.list_sessions(project="other").items == []
    assert len(store.get_events("running-old").items) == 1
    assert [e.ts for e in store.iterate_events(limit=100).events if e.session_id is None] == [
        ts(45 * DAY)
    ]
    assert sum(c.count for c in store.event_counts(days=90, bucket="day", now=NOW)) == 6 + 2 + 1
    _counts_exact(store)
    assert store.prune("30d", now=NOW).sessions == 0  # nothing left to do


def test_prune_tells_the_longest_any_step_held_its_locks(store: SqlStore) -> None:
    from time import perf_counter

    assert store.prune("30d", now=NOW).longest_step_ms == 0.0  # no step: nothing held
    for i in range(5):
        store.ingest(_ended(f"old{i}", 0, 12))
    t = perf_counter()
    result = store.prune("30d", now=NOW, batch=10)
    took_ms = (perf_counter() - t) * 1000
    assert result.sessions == 5
    # Several steps ran (10 rows each): the longest is one of them, not their sum.
    assert 0.0 < result.longest_step_ms < took_ms


def test_prune_of_one_project_leaves_the_others(store: SqlStore) -> None:
    store.ingest(_ended("a1", 0, 3), project="a")
    store.ingest(_ended("b1", 0, 3), project="b")
    assert store.prune(timedelta(days=30), now=NOW, project="a").sessions == 1
    assert [s.id for s in store.list_sessions(project="b").items] == ["b1"]
    _counts_exact(store)


def test_prune_while_ingest_runs(store: SqlStore, make_store: Any) -> None:
    # Old sessions to remove; a second connection keeps ingesting new sessions and late data
    # of the old ones meanwhile. Nothing ingested is lost or left without its session.
    old = [f"old{i}" for i in range(12)]
    for sid in old:
        store.ingest(_ended(sid, 0, 30))
    writer = make_store() if store.dialect == "sqlite" else store
    stop = threading.Event()
    sent: list[str] = []
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            for n in range(200):
                if stop.is_set() and n > 20:
                    return
                recs = _ended(f"new{n}", 50 * DAY + n, 5)
                recs.append(event(old[n % len(old)], 500 + n))  # late data of an old session
                result = writer.ingest(recs)
                assert not result.rejected
                sent.extend(r["id"] for r in recs if r["kind"] == "event")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=ingest)
    thread.start()
    try:
        store.prune("30d", now=NOW, batch=10)
    finally:
        stop.set()
        thread.join(60)
    assert not errors, errors
    store.prune("30d", now=NOW, batch=10)  # what arrived after the first pass passed
    assert _orphans(store) == 0
    stored = {e.id for e in store.iterate_events(limit=1000).events}
    new_events = {i for i in sent if i in stored}
    late = [i for i in sent if i not in stored]
    assert all(s.id.startswith("new") or s.status == "running"
               for s in store.list_sessions(limit=200).items)  # fmt: skip
    assert len(new_events) + len(late) == len(sent)
    for sid in {f"new{n}" for n in range(21)}:
        assert len(store.get_events(sid).items) == 3
    _counts_exact(store)


def test_a_pruned_calls_price_goes_with_it(store: SqlStore) -> None:
    data = {"provider": "openai", "model": "gpt-4o",
            "usage": {"input_tokens": 100, "output_tokens": 10}}  # fmt: skip
    old = _ended("old", 0, 0)
    store.ingest([old[0], *(event("old", 1 + i, type="llm_call", data=data) for i in range(6)),
                  old[1], session("recent", at=40 * DAY),
                  event("recent", 40 * DAY + 1, type="llm_call", data=data)])  # fmt: skip
    assert store.prune("30d", now=NOW, batch=4).events == 6
    with store._tx() as conn:
        left = conn.q("SELECT session_id FROM llm_costs")
    assert left == [("recent",)]


def test_step_size_follows_how_long_a_step_holds_its_locks() -> None:
    from time import perf_counter

    from agentlog.store._retention import _Pace

    pace = _Pace(1000, target=0.02, gap=0.0)
    assert pace.rows == 50  # a small first step, before any is timed
    pace.done(perf_counter() - 0.001)  # far quicker than the target: at most double
    assert pace.rows == 100
    for _ in range(10):
        pace.done(perf_counter())
    assert pace.rows == 1000  # never above the limit
    for _ in range(10):
        pace.done(perf_counter() - 1.0)  # far slower: at most halve, never below the floor
    assert pace.rows == 50
    assert _Pace(7, target=0.02, gap=0.0).rows == 7
