"""Store benchmarks: ingest rate and query latencies on generated data, for both backends.

    python benchmarks/store_bench.py                      # 1M events in 10k sessions, both
    python benchmarks/store_bench.py --events 100000 --sessions 1000 --config-sessions 10000
    python benchmarks/store_bench.py --backend sqlite
    python benchmarks/store_bench.py --ingest-only        # the ingest rate alone, without
                                                          # and with pricing (issue 11)
    python benchmarks/store_bench.py --preload 1000000 --events 200000 --phases --ingest-only
        # 200k events into a store already holding 1M, with where the time goes
    python benchmarks/store_bench.py --preload 1000000 --events 200000 --pattern live
        # the same, as live agents send them (the newest events of many sessions per batch)
    python benchmarks/store_bench.py --preload 1000000 --events 200000 --ingest-only --batch 20000
        # four batches' records per Store.ingest call (one transaction), as a collector under
        # load groups the batches that wait

Targets (DESIGN §4 / issue 3): ingest >= 50k events/s, bucketed counts <= 200 ms, context window
<= 10 ms, one timeline page <= 20 ms, filter_by_configs over 100k sessions <= 50 ms (PostgreSQL).
Issue 11: pricing adds <= 10% to ingest; ``cost`` by day over 1M events <= 200 ms.
Latencies are the median of repeated calls. The processing worker is off while measuring.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _util import cpu_seconds, cpu_since, postgres_backends, postgres_pids, settle

from agentlog._ids import format_ts, format_uuid, new_id
from agentlog.store._explore import explore_events
from agentlog.store._store import SqlStore

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TYPES = ["tool_call", "llm_call", "step", "text", "decision"]
BATCH = 5000


def _event(sid: str, i: int, t: int) -> dict[str, Any]:
    """The i-th event of a session, at t (ns): a compaction marker every 97th, else the types
    in turn, an llm_call with usage (priced by ingest) and a tool_call with input and output."""
    typ = "compaction" if i % 97 == 96 else TYPES[i % 5]
    data: dict[str, Any] = {"i": i}
    if typ == "llm_call":
        data = {"model": "gpt-4o", "usage": {"input_tokens": 120, "output_tokens": 40}}
    elif typ == "tool_call":
        data = {"input": {"q": f"query {i}"}, "output": ["a", "b"]}
    return {"kind": "event", "id": format_uuid(new_id(t)), "session_id": sid, "type": typ,
            "name": typ if typ != "step" else f"step{i % 7}", "ts": format_ts(t), "data": data,
            "status": "ok"}  # fmt: skip


def _session(prefix: str, s: int, start_ns: int) -> dict[str, Any]:
    """The start record of session number ``s``."""
    return {"kind": "session", "id": f"{prefix}-{s:06d}", "name": "bench", "user": f"user{s % 100}",
            "status": "running", "started_at": format_ts(start_ns),
            "configs": {"agent": f"bot{s % 20}"}}  # fmt: skip


def _in_batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Records in batches of ``BATCH``: a batch is cut after the event that fills it."""
    batch: list[dict[str, Any]] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= BATCH and rec["kind"] == "event":
            yield batch
            batch = []
    if batch:
        yield batch


def gen_events(
    n_events: int, n_sessions: int, now_ns: int, rnd: random.Random, prefix: str = "bench"
) -> Iterator[list[dict[str, Any]]]:
    """Batches of records: each session's start record, then its events, spread over 7 days."""

    def records() -> Iterator[dict[str, Any]]:
        per = max(1, n_events // n_sessions)
        week = 7 * 86400 * 10**9
        made = 0
        for s in range(n_sessions):
            t = now_ns - week + rnd.randrange(week - per * 2 * 10**9)
            yield _session(prefix, s, t)
            for i in range(per if s < n_sessions - 1 else n_events - made):
                t += rnd.randrange(10**8, 2 * 10**9)
                yield _event(f"{prefix}-{s:06d}", i, t)
                made += 1

    return _in_batches(records())


def gen_live_events(
    n_events: int, n_sessions: int, now_ns: int, rnd: random.Random, prefix: str = "bench"
) -> Iterator[list[dict[str, Any]]]:
    """Batches as a collector gets them from running agents (``--pattern live``): 50 sessions
    at a time, their events interleaved and stamped with the time they happen (ending now), so
    each batch holds the newest events of many sessions instead of one session's past."""

    def records() -> Iterator[dict[str, Any]]:
        per = max(1, n_events // n_sessions)
        t = now_ns - n_events * 10**7  # 100 events a second in all
        made = 0
        for first in range(0, n_sessions, 50):
            live = range(first, min(first + 50, n_sessions))
            for s in live:
                yield _session(prefix, s, t)
            for i in range(per * len(live)):
                if made >= n_events:
                    break
                t += 10**7
                yield _event(f"{prefix}-{live[rnd.randrange(len(live))]:06d}", i, t)
                made += 1

    return _in_batches(records())


def gen_config_sessions(n: int, now_ns: int, rnd: random.Random) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for i in range(n):
        configs = {"agent": f"bot{i % 50}", "env": rnd.choice(["prod", "staging", "dev"]),
                   "version": i % 7, "tags": rnd.sample(["alpha", "beta", "gamma", "delta"], 2),
                   "model": {"name": f"m{i % 11}", "temperature": rnd.choice([0, 0.2, 0.7])}}  # fmt: skip
        batch.append({"kind": "session", "id": f"cfg-{i:07d}", "user": f"user{i % 1000}",
                      "status": "success", "configs": configs,
                      "started_at": format_ts(now_ns - rnd.randrange(30 * 86400 * 10**9))})  # fmt: skip
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def print_phases(times: dict[str, float], elapsed: float, n_events: int) -> None:
    """Where ingest spent its time: phases measured inside the store (``Store.phase_times``)."""
    # PostgreSQL checks records (a streamed ingest) and prices calls while its COPY is open:
    # that time ("in copy") is taken out of the insert. Checks made inside the transaction
    # ("parse in tx") are taken out of the commit that holds them.
    rows = {
        "validation + row building": times.get("parse+build", 0.0),
        "session claim/merge/activity": times.get("sessions", 0.0),
        "COPY to staging (re-sends, PG)": times.get("copy", 0.0),
        "insert + index maintenance": times.get("insert+indexes", 0.0) - times.get("in copy", 0.0),
        "pricing (costs of llm_calls)": times.get("pricing", 0.0),
        "count tables": times.get("count tables", 0.0),
        # PostgreSQL sends the sessions' and count tables' statements as one pipeline: the
        # two phases above hold only the Python that queues them, this their server time.
        "sessions + counts, server (PG)": times.get("pipeline", 0.0),
    }
    inside = sum(rows.values()) - rows["validation + row building"] + times.get("parse in tx", 0.0)
    rows["commit (and transaction set-up)"] = times.get("commit", 0.0) - inside
    rows["rollups of ended sessions"] = times.get("rollups", 0.0)
    rows["other (Python glue)"] = elapsed - sum(rows.values())
    print(f"  {'phase':<34} {'us/event':>9} {'share':>7}")
    for name, sec in rows.items():
        print(f"  {name:<34} {sec * 1e6 / n_events:>9.2f} {100 * sec / elapsed:>6.1f}%")


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm caches and plans once
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def preload(store: SqlStore, args: argparse.Namespace, now_ns: int) -> None:
    """Fill the store with ``--preload`` events first, and drop ``--drop-indexes``."""
    if args.preload:
        t = time.perf_counter()
        rnd = random.Random(11)
        for batch in gen_events(args.preload, max(1, args.preload // 100), now_ns, rnd, "pre"):
            store.ingest(batch)
        el = time.perf_counter() - t
        print(f"preload          {args.preload / el:>12,.0f} events/s  ({el:.1f} s)")
        print(f"vacuum/analyze   {settle(store):>12.1f} s  (as autovacuum would after the load)")
    if args.drop_indexes:
        with store._tx(write=True) as conn:
            for index in args.drop_indexes.split(","):
                conn.run(f"DROP INDEX {index}")
        print(f"(indexes dropped for this run: {args.drop_indexes})")


class ServerCpu:
    """PostgreSQL's CPU seconds spent during the calls it is told of, read from /proc outside
    the timed calls: its client backends (one serves each ``Store.ingest`` call, on one core)
    and its background processes (WAL writer, checkpointer...). Zero on SQLite."""

    def __init__(self, store: SqlStore) -> None:
        self.pids = postgres_pids() if store.dialect == "postgres" else []
        self.backends = set(postgres_backends(self.pids))
        self.backend = self.background = 0.0
        self._before: dict[int, float] = {}

    def start(self) -> None:
        self._before = cpu_seconds(self.pids)

    def stop(self) -> None:
        now = cpu_seconds(self.pids)
        backend = cpu_since(self._before, {pid: now[pid] for pid in now if pid in self.backends})
        self.backend += backend
        self.background += cpu_since(self._before, now) - backend


def batches(args: argparse.Namespace, now_ns: int) -> Iterator[list[dict[str, Any]]]:
    """The generated batches to ingest, in the pattern asked for."""
    gen = gen_live_events if args.pattern == "live" else gen_events
    return gen(args.events, args.sessions, now_ns, random.Random(7))


def ingest_one(store: SqlStore, batch: list[dict[str, Any]], server: ServerCpu | None) -> float:
    """Seconds ``store.ingest`` took for the batch; ``server`` (when given) counts the
    PostgreSQL CPU spent meanwhile, read outside the timing."""
    if server is not None:
        server.start()
    t = time.perf_counter()
    result = store.ingest(batch)
    took = time.perf_counter() - t
    if server is not None:
        server.stop()
    assert not result.rejected, result.rejected[:3]
    return took


def run(store: SqlStore, args: argparse.Namespace, label: str, unpriced: SqlStore | None) -> None:
    rnd = random.Random(7)
    now_ns = time.time_ns()
    print(f"\n== {label}: {args.events:,} events in {args.sessions:,} sessions")
    n_ev = args.events
    print(f"   (into a store already holding {args.preload:,})")
    for s in (unpriced, store):
        if s is not None:
            preload(s, args, now_ns)
    # Load the bundled price data once, outside the timing (a one-time import per process).
    store.pricer.price({"model": "gpt-4o", "usage": {"input_tokens": 1}}, now_ns // 1000)
    store.phase_times = {} if args.phases else None
    server = ServerCpu(store)
    if unpriced is None:
        elapsed = sum(ingest_one(store, batch, server) for batch in batches(args, now_ns))
    else:
        # The same batches into a store with pricing switched off, interleaved batch by batch
        # with the priced one, so that the load of a shared machine weighs on both alike; each
        # goes first every other batch, since the second to read a batch finds its records in
        # the CPU's caches (checking them costs it about half).
        unpriced._pricing = lambda: None  # type: ignore[method-assign]
        unpriced.phase_times = {} if args.phases else None
        elapsed = before = 0.0
        for k, batch in enumerate(batches(args, now_ns)):
            if k % 2:
                elapsed += ingest_one(store, batch, server)
                before += ingest_one(unpriced, batch, None)
            else:
                before += ingest_one(unpriced, batch, None)
                elapsed += ingest_one(store, batch, server)
        print(f"ingest unpriced  {n_ev / before:>12,.0f} events/s  (pricing off)")
    target = 80_000 if label == "PostgreSQL" else 50_000
    print(
        f"ingest           {n_ev / elapsed:>12,.0f} events/s  ({elapsed:.1f} s,"
        f" batches of {BATCH})  target >= {target:,}"
    )
    if server.pids:
        backend = server.backend * 1e6 / n_ev
        print(f"  PostgreSQL CPU: its backend {backend:.2f} us an event (one serves each ingest"
              f" call: one core carries at most {1e6 / backend:,.0f} events/s), its background"
              f" processes {server.background * 1e6 / n_ev:.2f} us")  # fmt: skip
    if store.phase_times is not None:
        print_phases(store.phase_times, elapsed, n_ev)
        store.phase_times = None
    if unpriced is not None and unpriced.phase_times is not None:
        print("  the same, pricing off (where the difference goes):")
        print_phases(unpriced.phase_times, before, n_ev)
        unpriced.phase_times = None
    if unpriced is not None:
        added = (elapsed - before) / before * 100
        print(f"pricing adds     {added:>12.1f} %  (1 in 5 events is an llm_call)  target <= 10 %")
    for bucket in ("day", "model", "session"):
        ms = median_ms(lambda b=bucket: store.cost(days=7, bucket=b), args.repeat_slow)  # type: ignore[misc]
        print(
            f"cost by {bucket:<8} {ms:>12.1f} ms  " + ("target <= 200" if bucket == "day" else "")
        )
    if args.ingest_only or args.cost_only:
        return
    # The reads below find the store as a production server's autovacuum leaves it after the
    # measured ingest (this test server runs without autovacuum).
    print(f"vacuum/analyze   {settle(store):>12.1f} s")
    for bucket in ("minute", "hour", "day", "session"):
        ms = median_ms(lambda b=bucket: store.event_counts(days=7, bucket=b), args.repeat_slow)
        print(f"counts {bucket:<9} {ms:>12.1f} ms  target <= 200")
    ms = median_ms(
        lambda: store.event_counts(days=7, bucket="hour", type="tool_call"), args.repeat_slow
    )
    print(f"counts hour+type {ms:>12.1f} ms  target <= 200")
    sample = store.iterate_events(session_id=f"bench-{args.sessions // 2:06d}", limit=100).events
    ids = [e.id for e in sample]
    ms = median_ms(lambda: store.event_context(rnd.choice(ids), before=5, after=5), args.repeat)
    print(f"context window   {ms:>12.2f} ms  target <= 10")
    sids = [f"bench-{rnd.randrange(args.sessions):06d}" for _ in range(50)]
    ms = median_ms(lambda: store.get_events(rnd.choice(sids), limit=50), args.repeat)
    print(f"timeline page    {ms:>12.2f} ms  (get_events, 50)  target <= 20")
    ms = median_ms(lambda: store.get_messages(rnd.choice(sids), limit=50, with_events=True,
                                              max_events=200), args.repeat)  # fmt: skip
    print(f"messages+events  {ms:>12.2f} ms  (get_messages with_events, 200 events)")
    ms = median_ms(lambda: store.iterate_events(limit=100), args.repeat)
    print(f"iterate 100      {ms:>12.2f} ms  (the whole project's, in time order)")
    ms = median_ms(lambda: explore_events(store, limit=50), args.repeat)
    print(f"events page      {ms:>12.2f} ms  (the web UI's newest 50 across sessions)")
    ms = median_ms(lambda: explore_events(store, name="step3", limit=50), args.repeat)
    print(f"events by name   {ms:>12.2f} ms  (the same, one name)")
    ms = median_ms(lambda: store.events_between_markers(marker_types=["compaction"],
                                                        count_type="tool_call"), args.repeat_slow)  # fmt: skip
    print(f"between markers  {ms:>12.1f} ms  (compaction / tool_call over 7 days)")
    t = time.perf_counter()
    n_cfg = 0
    for batch in gen_config_sessions(args.config_sessions, now_ns, rnd):
        store.ingest(batch)
        n_cfg += len(batch)
    print(f"sessions ingest  {n_cfg / (time.perf_counter() - t):>12,.0f} sessions/s")
    for query in ({"agent": "bot7", "env": "prod"}, {"model": {"name": "m3"}, "tags": ["beta"]},
                  {"version": 3, "model": {"temperature": 0.7}}):  # fmt: skip
        ms = median_ms(lambda q=query: store.list_sessions(filter_by_configs=q, limit=50),
                       args.repeat)  # fmt: skip
        hits = len(store.list_sessions(filter_by_configs=query, limit=200).items)
        print(
            f"filter_by_configs {ms:>11.1f} ms  {query} ({hits}+ hits in {args.config_sessions + args.sessions:,} sessions)"
        )
    ms = median_ms(lambda: store.list_sessions(user="user42", limit=50), args.repeat)
    print(f"list by user     {ms:>12.2f} ms")


def main() -> None:
    global BATCH
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--config-sessions", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--repeat-slow", type=int, default=5)
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--ingest-only", action="store_true", help="measure ingest, skip the queries")
    ap.add_argument("--cost-only", action="store_true",
                    help="ingest once, then only the cost queries (issue 11)")  # fmt: skip
    ap.add_argument(
        "--preload",
        type=int,
        default=0,
        help="events stored before the measured ingest (e.g. 1000000)",
    )
    ap.add_argument("--phases", action="store_true", help="print where ingest time goes")
    ap.add_argument("--pattern", choices=["week", "live"], default="week",
                    help="week: each session's events at once, sessions spread over 7 days "
                    "(the default, the worst case for the indexes); live: the newest events "
                    "of 50 running sessions per batch, as a collector gets them")  # fmt: skip
    ap.add_argument("--drop-indexes", default="",
                    help="comma-separated indexes to drop before measuring (index cost)")  # fmt: skip
    ap.add_argument("--batch", type=int, default=BATCH,
                    help="records per Store.ingest call (a collector under load groups the "
                    "batches that wait into one transaction: several batches at once)")  # fmt: skip
    args = ap.parse_args()
    BATCH = args.batch
    if args.backend in ("sqlite", "both"):
        from agentlog.store.sqlite import SqliteStore

        with tempfile.TemporaryDirectory() as tmp:
            store = SqliteStore(Path(tmp) / "bench.db", processing=False)
            off = SqliteStore(Path(tmp) / "off.db", processing=False) if args.ingest_only else None
            try:
                run(store, args, "SQLite", off)
            finally:
                store.close()
                if off is not None:
                    off.close()
    if args.backend in ("postgres", "both"):
        from agentlog.store.postgres import PostgresStore

        pg = PostgresStore(args.pg_url, schema=f"agentlog_bench_{uuid.uuid4().hex[:8]}",
                           processing=False)  # fmt: skip
        off = None
        if args.ingest_only:
            off = PostgresStore(args.pg_url, schema=f"agentlog_bench_{uuid.uuid4().hex[:8]}",
                                processing=False)  # fmt: skip
        try:
            run(pg, args, "PostgreSQL", off)
        finally:
            pg.drop_schema()
            if off is not None:
                off.drop_schema()


if __name__ == "__main__":
    main()
