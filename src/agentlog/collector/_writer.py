"""Group commit: the batches that arrive while the store is busy are written together.

One writer per collector process stores batches, a transaction per lane at a time. A batch that
arrives while the lanes are busy waits, and the next transaction takes every batch waiting by
then (up to ``max_records`` records): under load, the fixed cost of a transaction (its session
claims, count tables and commit) is paid once for several batches; alone, a batch is written at
once, as before. Each batch still gets its own answer, the one ``Store.ingest`` of it alone would
give. Each batch is checked and built (``parse_ingest``, no database) before it queues, on the
event loop (a large one in a worker thread): that work overlaps the transaction in progress, whose
thread waits on the database most of the time, instead of following it.

If a grouped transaction fails, each of its batches is retried on its own, so one batch that
cannot be stored never costs the others theirs.

On PostgreSQL two transactions run at once (``lanes``): while the server works on one group,
the other lane sends the next, so the collector's Python work and the server's overlap instead
of taking turns. Concurrent transactions are what several collectors make anyway: sessions are
claimed and count rows written in key order, so two lanes never wait on each other in a cycle.
SQLite has one write lock, so a second lane there would only wait for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from .._log import log
from ..store import IngestResult, Store

__all__ = ["GroupWriter"]

# Batches of up to this many records are checked and built on the event loop (~3 ms at most:
# two hops to a worker thread and back cost the collector ~5% of its CPU at the SDK's 512);
# larger ones in a worker thread, so the loop goes on serving other requests meanwhile.
_INLINE_PARSE = 1024

# A queued batch: as parsed by the store (``ParsedBatch``), or as sent when the store cannot
# parse ahead; its size in records; its project; its answer.
_Item = tuple[Any, int, str, "asyncio.Future[IngestResult]"]


class GroupWriter:
    """Stores batches for the requests of one event loop, a transaction per lane at a time."""

    def __init__(self, store: Store, *, max_records: int = 20_000) -> None:
        self.store = store
        self.max_records = max_records
        # Transactions in flight at once: two where the database runs them in a process of its
        # own (PostgreSQL), one for SQLite's single write lock.
        self.lanes = 2 if getattr(store, "dialect", None) == "postgres" else 1
        self._waiting: list[_Item] = []
        self._running = 0  # drains (lanes) under way
        self.transactions = 0  # how many transactions stored how many batches (for /metrics
        self.batches = 0  # and the tests: a group is visible as batches > transactions)
        self._counting = threading.Lock()  # lanes count from their worker threads

    async def ingest(self, records: Sequence[Any], project: str) -> IngestResult:
        parse = getattr(self.store, "parse_ingest", None)
        if parse is None:
            batch: Any = records
        elif len(records) <= _INLINE_PARSE:
            batch = parse(records, project)
        else:
            batch = await run_in_threadpool(parse, records, project)
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, len(records), project, future))
        self._start()
        return await future

    def _start(self) -> None:
        """A drain for what waits, while fewer than ``lanes`` run."""
        if self._waiting and self._running < self.lanes:
            self._running += 1
            asyncio.create_task(self._drain())  # noqa: RUF006 - the futures hold the outcome

    def _take(self) -> list[_Item]:
        """The waiting batches a transaction takes: at least one, then up to max_records."""
        taken: list[_Item] = []
        size = 0
        while self._waiting:
            n = self._waiting[0][1]
            if taken and size + n > self.max_records:
                break
            taken.append(self._waiting.pop(0))
            size += n
        return taken

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = [item for item in self._take() if not item[3].done()]
                if not group:
                    continue
                batches = [(batch, project) for batch, _, project, _ in group]
                outcomes = await run_in_threadpool(self._store, batches)
                for (_, _, _, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():  # the client went away: its batch was stored anyway
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._running -= 1
            self._start()  # a failure above left batches behind: never strand them

    def _store(self, batches: list[tuple[Any, str]]) -> list[IngestResult | BaseException]:
        """Runs in a worker thread: the group in one transaction, else each batch alone."""
        if len(batches) > 1 and hasattr(self.store, "ingest_parsed"):
            try:
                results: list[IngestResult | BaseException] = list(self._write(batches))
                self._count(len(batches))
                return results
            except Exception as exc:
                log.warning("agentlog collector: a group of %d batches failed (%s: %s); "
                            "storing them one by one", len(batches), type(exc).__name__, exc)  # fmt: skip
        out: list[IngestResult | BaseException] = []
        for one in batches:
            try:
                out.extend(self._write([one]))
                self._count(1)
            except Exception as exc:
                out.append(exc)
        return out

    def _count(self, batches: int) -> None:
        """One transaction stored ``batches`` batches."""
        with self._counting:
            self.transactions += 1
            self.batches += batches

    def _write(self, group: list[tuple[Any, str]]) -> list[IngestResult]:
        """One transaction for the group; a store that cannot parse ahead got its batches as
        sent, and stores them one by one."""
        parsed = getattr(self.store, "ingest_parsed", None)
        if parsed is None:
            return [self.store.ingest(records, project=project) for records, project in group]
        return list(parsed([batch for batch, _ in group]))
