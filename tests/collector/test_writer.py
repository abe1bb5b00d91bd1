"""The collector's group commit: batches that wait while a transaction runs go in one."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentlog.collector._writer import GroupWriter
from agentlog.store import IngestResult, Store
from agentlog.store._core import ParsedBatch
from agentlog.store.sqlite import SqliteStore

from ..store.helpers import event, session
from .conftest import PG_URL


async def _until(cond: Any) -> None:
    """Let the loop run until ``cond()`` holds (the writer's own steps, no clock involved)."""
    for _ in range(1_000_000):
        if cond():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_batches_waiting_during_a_transaction_are_stored_in_the_next_one(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "a.db", processing=False)
    writer = GroupWriter(store)
    blocker = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the first transaction waits on this write lock
    first = asyncio.create_task(writer.ingest([session("s0"), event("s0", 1)], "default"))
    await _until(lambda: writer._running and not writer._waiting)
    batches = [[session(f"s{n}"), event(f"s{n}", n)] for n in range(1, 5)]
    later = [asyncio.create_task(writer.ingest(b, "default")) for b in batches]
    await _until(lambda: len(writer._waiting) == 4)
    blocker.execute("COMMIT")
    results = await asyncio.gather(first, *later)
    assert (writer.transactions, writer.batches) == (2, 5)
    for result, batch in zip(results[1:], batches, strict=True):
        assert result.accepted == [r["id"] for r in batch] and result.rejected == []
    assert len(store.list_sessions(limit=10).items) == 5
    store.close()


class _FailingGroups(SqliteStore):
    """A real store whose grouped transactions fail, as a lost connection would fail one."""

    def ingest_parsed(self, batches: Sequence[ParsedBatch]) -> list[IngestResult]:
        if len(batches) > 1:
            raise sqlite3.OperationalError("disk I/O error")
        return super().ingest_parsed(batches)


async def test_a_failed_group_is_stored_batch_by_batch(tmp_path: Path) -> None:
    store = _FailingGroups(tmp_path / "b.db", processing=False)
    writer = GroupWriter(store)
    batches = [[session(f"s{n}"), event(f"s{n}", n)] for n in range(3)]
    results = await asyncio.gather(*(writer.ingest(b, "default") for b in batches))
    assert writer.transactions == 3  # grouped first, failed, then one by one
    assert [len(r.accepted) for r in results] == [2, 2, 2]
    store.close()


async def test_a_batch_that_fails_alone_fails_only_its_own_request(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "c.db", processing=False)
    writer = GroupWriter(store)
    store.close()  # every write now raises: each request gets its own error
    outcome = await asyncio.gather(writer.ingest([session("x")], "default"),
                                   return_exceptions=True)  # fmt: skip
    assert isinstance(outcome[0], RuntimeError)
    assert not writer._running


async def test_on_sqlite_one_transaction_runs_at_a_time(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "d.db", processing=False)
    assert GroupWriter(store).lanes == 1  # one write lock: a second lane would only wait
    store.close()


async def test_on_postgresql_a_second_transaction_runs_while_the_first_waits(
    pg_store: Store,
) -> None:
    import psycopg

    writer = GroupWriter(pg_store)
    tag = uuid.uuid4().hex[:8]
    held, free = f"held-{tag}", f"free-{tag}"
    pg_store.ingest([session(held)])
    blocker = psycopg.connect(PG_URL)  # holds the row of ``held``: the first lane waits on it
    try:
        blocker.execute(f"SET search_path TO {pg_store.schema}")  # type: ignore[attr-defined]
        blocker.execute("SELECT id FROM sessions WHERE id = %s FOR UPDATE", [held])
        first = asyncio.create_task(writer.ingest([event(held, 1)], "default"))
        await _until(lambda: writer._running == 1 and not writer._waiting)
        # The bound only turns a writer with one lane into a failure instead of a hang.
        second = await asyncio.wait_for(writer.ingest([session(free), event(free, 2)], "default"),
                                        timeout=60)  # fmt: skip
        assert second.rejected == [] and len(second.accepted) == 2
        assert not first.done()
    finally:
        blocker.rollback()
        blocker.close()
    assert (await first).rejected == []
    assert [e.session_id for e in pg_store.iterate_events(session_id=held).events] == [held]


class _WatchedParse(SqliteStore):
    """A real store noting the thread each batch is checked and built in."""

    threads: list[int]

    def parse_ingest(self, records: Sequence[Any], project: str = "default") -> ParsedBatch:
        self.threads.append(threading.get_ident())
        return super().parse_ingest(records, project)


async def test_a_batch_is_parsed_on_the_loop_and_a_large_one_in_a_worker_thread(
    tmp_path: Path,
) -> None:
    # Two hops to a worker thread and back cost ~5% of the collector's CPU at 512 records a
    # batch; a batch of thousands would hold the loop for tens of ms, so it still goes there.
    store = _WatchedParse(tmp_path / "p.db", processing=False)
    store.threads = []
    writer = GroupWriter(store)
    small = [session("p1"), *(event("p1", n) for n in range(1, 512))]
    large = [session("p2"), *(event("p2", n) for n in range(1, 2048))]
    results = [await writer.ingest(small, "default"), await writer.ingest(large, "default")]
    assert [len(r.accepted) for r in results] == [512, 2048]
    loop_thread = threading.get_ident()
    assert store.threads[0] == loop_thread
    assert store.threads[1] != loop_thread
    store.close()
