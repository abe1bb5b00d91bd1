"""PostgreSQL's ``events_session`` and ``events_type`` lead with hashes (``_keys``): every statement
of the store that reads or deletes events must name the hash, or it scans the whole table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from agentlog.client import Client, LocalTransport
from agentlog.store._bytime import event_types
from agentlog.store._explore import explore_events, explore_session, explore_sessions
from agentlog.store._lookup import status_counts
from agentlog.store._store import SqlStore

from .helpers import BASE_NS, event, message, session

NOW = datetime.fromtimestamp(BASE_NS / 1e9 + 86_400, tz=timezone.utc)  # a day after BASE
_EVENTS = re.compile(r"\bevents\b")
_SECONDARY = {"events_session", "events_type", "events_loose"}


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _whole(plan: dict[str, Any]) -> list[str]:
    """What in ``plan`` (EXPLAIN's JSON) reads all of events, or all of a project's: a
    sequential scan, or the primary key (project, id) walked by project alone where no
    secondary index narrows the read (a bitmap of it beside one is the planner's choice)."""
    nodes = list(_nodes(plan))
    used = {n.get("Index Name") for n in nodes}
    found = [f"{n['Node Type']} on events" for n in nodes
             if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "events"]  # fmt: skip
    if not used & _SECONDARY:
        found += [f"{n['Node Type']} on events_pkey: {n.get('Index Cond')}" for n in nodes
                  if n.get("Index Name") == "events_pkey"
                  and "id = " not in n.get("Index Cond", "")]  # fmt: skip
    return found


def _records() -> list[dict[str, Any]]:
    usage = {"provider": "openai", "model": "gpt-4o",
             "usage": {"input_tokens": 1000, "output_tokens": 100}}  # fmt: skip
    recs: list[dict[str, Any]] = []
    for n, sid in enumerate(("s1", "s2")):
        recs.append(session(sid, at=n, user_id="u", configs={"model": "m"}))
        for i in range(30):
            at = 3600.0 * (i % 5) + 61.5 * i + n
            recs.append(event(sid, at, ("step", "tool_call", "llm_call", "compaction")[i % 4],
                              name=f"f{i % 3}", data=usage))  # fmt: skip
            recs.append(message(sid, at + 0.5))
        # a counted item at the very microsecond of a marker of its session
        recs += [event(sid, 7000.0 + n, type="compaction"), event(sid, 7000.0 + n, type="user")]
    recs.append(event(None, 50.0, type="step"))
    end = {"kind": "session", "status": "success", "ended_at": recs[-2]["ts"]}
    return [*recs, {**end, "id": "s1"}, {**end, "id": "s2"}]


def _load(store: SqlStore) -> None:
    """The records above among 20,000 events of 200 other sessions, and the planner told: on
    a few rows it reads whole tables whatever the indexes."""
    for k in range(4):
        filler = [session(f"f{k}-{j}", at=j) for j in range(50)]
        filler += [event(f"f{k}-{j}", j + i / 10, ("step", "tool_call")[i % 2])
                   for j in range(50) for i in range(100)]  # fmt: skip
        store.ingest(filler)
    store.ingest(_records())
    with store._tx(write=True) as conn:
        if conn.dialect == "sqlite":
            conn.run("ANALYZE")
            return
        # This store's tables only: a bare ANALYZE takes every schema's tables one by one,
        # those of the tests another worker runs too, and deadlocked with their TRUNCATE.
        # (Straight on the connection: the statements through ``conn`` that name ``events``
        # may be wrapped in EXPLAIN by ``explained``.)
        raw = conn.c  # type: ignore[attr-defined]
        tables = [t for (t,) in raw.execute("SELECT tablename FROM pg_tables "
                                            "WHERE schemaname = current_schema()")]  # fmt: skip
        raw.execute(f"ANALYZE {', '.join(tables)}")


@pytest.fixture
def explained(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every statement that names ``events`` from now on, with the plan PostgreSQL makes for it
    when it can avoid a sequential scan (``enable_seqscan = off``): a scan left in the plan, or
    a walk of the primary key by project alone, is one the secondary indexes do not serve."""
    from agentlog.store import postgres

    seen: list[tuple[str, dict[str, Any]]] = []

    def explain(conn: Any, sql: str, params: Any) -> None:
        if _EVENTS.search(sql) and not sql.lstrip().startswith(("COPY", "CREATE", "INSERT")):
            conn.c.execute("SET enable_seqscan = off")
            row = conn.c.execute("EXPLAIN (FORMAT JSON) " + postgres._pg(sql), params).fetchone()
            conn.c.execute("RESET enable_seqscan")
            plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
            seen.append((sql, plan[0]["Plan"]))

    def wrap(name: str) -> None:
        original = getattr(postgres._Conn, name)

        def call(self: Any, sql: str, params: Any = ()) -> Any:
            if name == "many":
                params = list(params)
                if params:
                    explain(self, sql, params[0])
            else:
                explain(self, sql, params)
            return original(self, sql, params)

        monkeypatch.setattr(postgres._Conn, name, call)

    for name in ("q", "one", "run", "many"):
        wrap(name)
    original_batches = postgres._Conn.batches

    def batches(self: Any, sql: str, params: Any, size: int) -> Any:
        explain(self, sql, params)
        return original_batches(self, sql, params, size)

    monkeypatch.setattr(postgres._Conn, "batches", batches)
    yield seen


@pytest.mark.parametrize("backend", ["postgres"])
def test_events_indexes_lead_with_hashes_of_their_keys(store: SqlStore) -> None:
    with store._tx() as conn:
        defs = dict(conn.q("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' "
                           "AND schemaname = current_schema()"))  # fmt: skip
    zero = "(0)::bigint"  # as PostgreSQL writes the seed back
    assert f"(hashtextextended(session_id, {zero}), ts_us, id)" in defs["events_session"]
    assert (f"(hashtextextended(project, {zero}), hashtextextended(type, {zero}), ts_us, "
            "session_id, id) INCLUDE (project, type)") in defs["events_type"]  # fmt: skip


@pytest.mark.parametrize("backend", ["postgres"])
def test_no_statement_of_the_store_scans_events_whole(
    store: SqlStore, explained: list[tuple[str, dict[str, Any]]]
) -> None:
    _load(store)
    first = store.get_events("s1", limit=5).items[0]
    store.get_events("s1", type=["tool_call", "step"], name="f1", time_desc=True)
    store.get_messages("s1", limit=5, with_events=True)
    store.event_context(first.id)
    store.iterate_events(session_id="s1", types=["step"])
    store.iterate_events(limit=7)
    for bucket in ("minute", "hour", "session"):
        store.event_counts(days=3, bucket=bucket, now=NOW)
        store.event_counts(days=3, bucket=bucket, type="step", now=NOW)
    store.events_between_markers(days=3, now=NOW)
    store.cost(days=3, bucket="hour", now=NOW)
    store.reprice()
    store.process_pending()
    explore_sessions(store)
    explore_session(store, "s1")
    explore_events(store, session_id="s1", type="step")
    explore_events(store, name="f1")
    explore_events(store, type=["step", "llm_call"])
    status_counts(store, status="error", days=3, bucket="hour", now=NOW)
    from agentlog._export import SessionFilter, export_records

    list(export_records(Client(transport=LocalTransport(store)), SessionFilter()))
    store.delete_session(store.copy_session("s1").id)
    store.prune("1d", now=NOW.replace(year=2027))
    assert len(explained) > 40
    scans = [(sql, found) for sql, plan in explained if (found := _whole(plan))]
    assert scans == []
    assert not store.iterate_events(types=["llm_call"]).events  # pruned with s1 and s2


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_markers_count_from_the_type_index_alone(
    store: SqlStore, explained: list[tuple[str, dict[str, Any]]]
) -> None:
    _load(store)
    store.events_between_markers(days=3, now=NOW)
    counted = [plan for sql, plan in explained if "ORDER BY ts_us, session_id" in sql]
    assert len(counted) == 1
    assert (counted[0]["Node Type"], counted[0]["Index Name"]) == ("Index Only Scan", "events_type")


def test_a_projects_event_types_are_found_on_both_backends(store: SqlStore) -> None:
    store.ingest(_records())
    store.ingest([session("o"), event("o", 1.0, type="other")], project="p2")
    with store._tx() as conn:
        assert event_types(conn, "default") == ["compaction", "llm_call", "step",
                                                        "tool_call", "user"]  # fmt: skip
        assert event_types(conn, "p2") == ["other"]
        assert event_types(conn, "none") == []


def test_a_store_from_before_the_hashed_indexes_is_migrated_when_it_opens(pg_schema: str) -> None:
    from agentlog.store.postgres import PostgresStore

    from .conftest import PG_URL

    schema = f"{pg_schema}_m9"
    store = PostgresStore(PG_URL, schema=schema, processing=False)
    try:
        store.ingest(_records())
        before = store.events_between_markers(days=3, now=NOW)
        with store._tx(write=True) as conn:  # back to schema version 8: the text-first indexes
            conn.run("DROP INDEX events_session")
            conn.run("DROP INDEX events_type")
            conn.run("CREATE INDEX events_session ON events (project, session_id, ts_us, id)")
            conn.run("CREATE INDEX events_type ON events (project, type, ts_us, session_id, id)")
            conn.run("DELETE FROM schema_version WHERE version = 9")
        store.close()
        store = PostgresStore(PG_URL, schema=schema, processing=False)
        with store._tx() as conn:
            defs = dict(conn.q("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                               "'events' AND schemaname = current_schema()"))  # fmt: skip
            assert conn.one("SELECT max(version) FROM schema_version") == (9,)
        assert "hashtextextended" in defs["events_session"]
        assert "INCLUDE (project, type)" in defs["events_type"]
        assert len(store.get_events("s1", limit=200).items) == 32
        assert store.events_between_markers(days=3, now=NOW) == before
        assert before.marker_count == 16
    finally:
        store.drop_schema()
        store.close()
