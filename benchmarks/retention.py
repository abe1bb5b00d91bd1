"""Retention under load: does ``Store.prune`` hold up ingest or reads? (issue 13)

A store is filled with ``--events`` events in ``--sessions`` sessions: half of them in sessions
that ended ~40 days ago, half in sessions of the last week. Then, for each backend:

1. baseline: one thread ingests batches (``--ingest-batch`` events at ``--ingest-rate``
   events/s) and another reads (a timeline page of a recent session, then bucketed counts over
   60 days up to the fill, which touch the count rows that pruning takes out) for
   ``--baseline`` seconds;
2. the same two threads while a third runs ``Store.prune("30d")``, until it returns.

It prints the prune's duration and events removed per second, and for each kind of call its
p50, p99 and max latency without and with the prune beside it. The target (issue 13): no call
held up for more than 100 ms by pruning, and the count tables exact afterwards.

A call is held up by the prune when it waits for a lock the prune holds, and the verdict is on
that. On SQLite every writer queues for the database's one write lock, so the most a call can
wait is the prune's longest step (``PruneResult.longest_step_ms``, from its first statement to
its commit). On PostgreSQL a step locks only the rows it removes, so the verdict is on the
longest lock wait actually seen: a thread samples ``pg_stat_activity`` every few ms. The
slowest call beside the prune less the median without it is printed too; on a shared machine
it also holds whatever else ran on the cores meanwhile.

    python benchmarks/retention.py                        # 1M events, both backends
    python benchmarks/retention.py --backend sqlite --events 200000 --sessions 2000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import settle, verdict
from store_bench import PG_URL, gen_events

from agentlog._ids import format_ts, format_uuid, new_id
from agentlog.store._rollup import ROLLUPS
from agentlog.store._store import SqlStore

DAY_NS = 86400 * 10**9
KINDS = ("ingest", "timeline page", "counts 60d")


def fill(store: SqlStore, events: int, sessions: int, now_ns: int) -> int:
    """Half the events in sessions that ended 33-40 days ago, half in last week's; returns the
    number of events in sessions that ended before a 30-day cut."""
    t = time.perf_counter()
    half = events // 2
    for prefix, end_ns, seed in (("old", now_ns - 33 * DAY_NS, 1), ("new", now_ns, 2)):
        for batch in gen_events(half, sessions // 2, end_ns, random.Random(seed), prefix):
            store.ingest(batch)
        store.ingest([{"kind": "session", "id": f"{prefix}-{s:06d}", "status": "success",
                       "ended_at": format_ts(end_ns)} for s in range(sessions // 2)])  # fmt: skip
    el = time.perf_counter() - t
    print(f"filled           {2 * half:>10,} events in {el:.0f} s ({2 * half / el:,.0f}/s)")
    return half


class Load:
    """The ingest and read threads, each call's duration kept per kind."""

    def __init__(self, store: SqlStore, args: argparse.Namespace, now_ns: int) -> None:
        self.store = store
        self.args = args
        self.until = datetime.fromtimestamp(now_ns / 1e9, timezone.utc)
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: list[BaseException] = []
        self.batches = 0

    def _timed(self, kind: str, fn: Callable[[], Any]) -> None:
        t = time.perf_counter()
        fn()
        self.times[kind].append(time.perf_counter() - t)

    def _ingest(self) -> None:
        size = self.args.ingest_batch
        pause = size / self.args.ingest_rate
        while not self.stop.is_set():
            started = time.perf_counter()
            sid = f"live-{uuid.uuid4().hex[:12]}"
            now = time.time_ns()
            recs: list[dict[str, Any]] = [{"kind": "session", "id": sid, "status": "running",
                                           "started_at": format_ts(now)}]  # fmt: skip
            recs += [{"kind": "event", "id": format_uuid(new_id(now + i)), "session_id": sid,
                      "type": "tool_call", "name": "search", "ts": format_ts(now + i),
                      "data": {"input": {"q": i}, "output": ["a"]}, "status": "ok"}
                     for i in range(size)]  # fmt: skip
            self._timed("ingest", lambda r=recs: self.store.ingest(r))  # type: ignore[misc]
            self.batches += 1
            self.stop.wait(max(0.0, pause - (time.perf_counter() - started)))

    def _read(self) -> None:
        rnd = random.Random(3)
        n = self.args.sessions // 2
        while not self.stop.is_set():
            sid = f"new-{rnd.randrange(n):06d}"
            self._timed("timeline page", lambda s=sid: self.store.get_events(s, limit=50))  # type: ignore[misc]
            # Up to the fill's end: the live ingest beside it would otherwise grow the window's
            # last partial hour, counted row by row, and slow the reads by itself.
            self._timed("counts 60d", lambda: self.store.event_counts(days=60, bucket="day",
                                                                      now=self.until))  # fmt: skip
            self.stop.wait(self.args.read_pause)

    def run(self, during: Callable[[], Any] | None, seconds: float) -> Any:
        """Run the load for ``seconds``, or for as long as ``during`` (another thread's work)
        takes; returns what ``during`` returned."""
        threads = [threading.Thread(target=self._guard(f)) for f in (self._ingest, self._read)]
        for th in threads:
            th.start()
        try:
            result = during() if during is not None else self.stop.wait(seconds)
        finally:
            self.stop.set()
            for th in threads:
                th.join()
        if self.errors:
            raise self.errors[0]
        return result

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised by run()
                self.errors.append(exc)
                self.stop.set()

        return run


def counts_exact(store: SqlStore) -> bool:
    """Every count table holds exactly the counts of the rows stored."""
    with store._tx() as conn:
        for table, (cols, sources) in ROLLUPS.items():
            want: dict[tuple[Any, ...], int] = {}
            group = ", ".join(str(i) for i in range(1, cols.count(",") + 2))
            for source, (expr, cond) in sources.items():
                for *key, n in conn.q(f"SELECT {expr}, count(*) FROM {source} WHERE {cond} "
                                      f"GROUP BY {group}"):  # fmt: skip
                    want[tuple(key)] = want.get(tuple(key), 0) + n
            got = {tuple(k): n for *k, n in conn.q(f"SELECT {cols}, n FROM {table}")}
            if got != want:
                return False
    return True


class LockWaits:
    """On PostgreSQL, the longest any backend of this database was seen waiting for a lock: a
    thread samples ``pg_stat_activity`` every ``every`` seconds while the prune runs."""

    def __init__(self, url: str, every: float = 0.002) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.every = every
        self.longest = 0.0
        self.samples = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        # Per backend, when its current lock wait was first seen (a wait ends when the backend
        # is next seen not waiting, or waiting on another query).
        since: dict[tuple[int, Any], float] = {}
        sql = ("SELECT pid, query_start FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")  # fmt: skip
        while not self.stop.is_set():
            now = time.perf_counter()
            waiting = {(pid, start) for pid, start in self.conn.execute(sql).fetchall()}
            self.samples += 1
            for key in waiting:
                first = since.setdefault(key, now)
                self.longest = max(self.longest, now - first)
            for key in set(since) - waiting:
                del since[key]
            self.stop.wait(self.every)

    def __enter__(self) -> LockWaits:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run(store: SqlStore, args: argparse.Namespace, label: str) -> None:
    now_ns = time.time_ns()
    print(f"\n== {label}: {args.events:,} events in {args.sessions:,} sessions, half of them "
          "ended 33-40 days ago; prune('30d')")  # fmt: skip
    old = fill(store, args.events, args.sessions, now_ns)
    if store.dialect == "postgres":
        settle(store)  # as autovacuum leaves it (the test server runs without it)
    base = Load(store, args, now_ns)
    base.run(None, args.baseline)
    load = Load(store, args, now_ns)
    timing: dict[str, float] = {}

    def prune() -> Any:
        t = time.perf_counter()
        result = store.prune("30d", batch=args.batch)
        timing["prune"] = time.perf_counter() - t
        return result

    waits = LockWaits(args.pg_url) if store.dialect == "postgres" else None
    with waits or nullcontext():
        result = load.run(prune, 0)
    took = timing["prune"]
    print(
        f"prune            {took:>10.1f} s   removed {result.sessions:,} sessions, "
        f"{result.events:,} events ({result.events / took:,.0f} events/s, batch {args.batch})"
    )
    assert result.events == old, (result.events, old)
    print(
        f"ingest meanwhile {load.batches * args.ingest_batch / took:>10,.0f} events/s "
        f"(offered {args.ingest_rate:,}/s in batches of {args.ingest_batch})"
    )
    print(
        f"  {'call':<15} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}   "
        f"{'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    print(f"  {'':<15} {'without prune':>32}   {'during prune':>32}")
    worst = 0.0
    for kind in KINDS:
        cells = []
        for times in (base.times[kind], load.times[kind]):
            cells.append(f"{len(times):>6} {_ms(times, 0.5):>8.1f} {_ms(times, 0.99):>8.1f} "
                         f"{max(times, default=float('nan')) * 1000:>8.1f}")  # fmt: skip
        print(f"  {kind:<15} {cells[0]}   {cells[1]}")
        # Held up: the slowest call beside the prune, less what such a call takes without it.
        if load.times[kind] and base.times[kind]:
            worst = max(worst, _ms(load.times[kind], 1.0) - _ms(base.times[kind], 0.5))
    print(f"slowest call     {worst:>10.1f} ms  (during prune - median without; holds the "
          "machine's other load too)")  # fmt: skip
    held = result.longest_step_ms
    print(f"longest step     {held:>10.1f} ms  (the prune's locks held at once)")
    if waits is not None:  # PostgreSQL: what a call really waited, not what the prune held
        held = waits.longest * 1000
        print(f"longest wait     {held:>10.1f} ms  (a lock wait seen in pg_stat_activity, "
              f"{waits.samples:,} samples)")  # fmt: skip
    print(f"longest hold-up  {held:>10.1f} ms  target <= 100  {verdict(held <= 100)}")
    exact = counts_exact(store)
    print(f"count tables exact after prune: {exact}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=500, help="prune's rows per transaction")
    ap.add_argument("--ingest-batch", type=int, default=500, help="events per ingest call")
    ap.add_argument("--ingest-rate", type=int, default=5000, help="events/s offered")
    ap.add_argument("--read-pause", type=float, default=0.02, help="seconds between reads")
    ap.add_argument("--baseline", type=float, default=20.0, help="seconds of load without prune")
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args()
    if args.backend in ("sqlite", "both"):
        from agentlog.store.sqlite import SqliteStore

        with tempfile.TemporaryDirectory() as tmp:
            store = SqliteStore(Path(tmp) / "retention.db", processing=False)
            try:
                run(store, args, "SQLite")
            finally:
                store.close()
    if args.backend in ("postgres", "both"):
        from agentlog.store.postgres import PostgresStore

        pg = PostgresStore(args.pg_url, schema=f"agentlog_ret_{uuid.uuid4().hex[:8]}",
                           processing=False)  # fmt: skip
        try:
            run(pg, args, "PostgreSQL")
        finally:
            pg.drop_schema()


if __name__ == "__main__":
    main()
