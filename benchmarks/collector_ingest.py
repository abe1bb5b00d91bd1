"""Collector ingest over HTTP: 4 concurrent agent processes into SQLite and into PostgreSQL.

A real collector (``agentlog serve``, one uvicorn process) runs on 127.0.0.1. Each agent
process records ``--events`` tool calls through the SDK with the ``http`` exporter (batches of
``--batch``, gzip); the time of every ``POST /v1/ingest`` is taken in the agent. The agents
start together once all are set up. Reported per store: events/s from the start to the last
batch acknowledged (all agents together), the CPU each part spent per event (agents,
collectors, PostgreSQL: what bounds the rate on one machine),
p50/p99 latency per batch, and a check that every event is stored exactly once.

``--mode raw`` measures the collector alone: the agents post pre-built gzip batches as fast as
it answers, without the SDK recording them first.

    python benchmarks/collector_ingest.py [--events 50000] [--agents 4] [--batch 512]
        [--mode sdk|raw] [--stores sqlite,postgres] [--workers 1 (PostgreSQL only)]
        [--pg postgresql://postgres@127.0.0.1/test] [--preload 1000000]
        [--collectors 1,2,3 (PostgreSQL: one run each, on the same store)]
        [--agents-per-collector (each collector gets --agents agents of its own)]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (
    cpu_seconds,
    cpu_since,
    free_port,
    postgres_pids,
    settle,
    tool_call_line,
    tree_pids,
)

from agentlog.store import open_store

KEY = "bench-key-0123456789"
TARGET = 50_000.0


def _timed_sends(exporter: Any, latencies: list[float]) -> None:
    send = exporter.client.send

    def timed(lines: list[bytes]) -> Any:
        t = time.perf_counter()
        try:
            return send(lines)
        finally:
            latencies.append(time.perf_counter() - t)

    exporter.client.send = timed


def _agent_sdk(url: str, n: int, batch: int, tag: str, spool: str, out: Any, go: Any) -> None:
    import agentlog
    from agentlog.exporters.http import HttpExporter

    latencies: list[float] = []
    exporter = HttpExporter(url, api_key=KEY, spool_dir=spool)
    _timed_sends(exporter, latencies)
    agentlog.init(exporter=exporter, max_batch=batch, max_queue=max(100_000, n + 1000))
    out.put("ready")
    go.wait()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with agentlog.session(f"bench-{tag}", user=tag) as session:
        sid = session.id
        for i in range(n):
            agentlog.track_tool_call("search_kb", input={"query": f"{tag} reset password {i}"},
                                     output=["doc1", "doc2"], duration_ms=1.5)  # fmt: skip
    agentlog.flush(120.0)
    t1, cpu = time.perf_counter(), time.process_time() - cpu0
    st = agentlog.status()
    agentlog.shutdown()
    out.put({"t0": t0, "t1": t1, "cpu": cpu, "latencies": latencies, "observed": st.observed,
             "failed": st.failed, "dropped": st.dropped, "spooled": st.spooled, "sid": sid})  # fmt: skip


def _agent_raw(url: str, n: int, batch: int, tag: str, spool: str, out: Any, go: Any) -> None:
    from agentlog._ids import new_id_str

    sid = new_id_str()
    lines = [tool_call_line(sid, f"{tag} reset password {i}") for i in range(n)]
    bodies = [gzip.compress(b'{"records":[' + b",".join(lines[i : i + batch]) + b"]}", 5)
              for i in range(0, n, batch)]  # fmt: skip
    headers = {"Authorization": f"Bearer {KEY}", "Content-Encoding": "gzip",
               "Content-Type": "application/json"}  # fmt: skip
    latencies = []
    accepted = 0
    with httpx.Client(timeout=60.0, trust_env=False) as client:
        out.put("ready")
        go.wait()
        t0, cpu0 = time.perf_counter(), time.process_time()
        for body in bodies:
            t = time.perf_counter()
            r = client.post(url + "/v1/ingest", content=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            r.raise_for_status()
            accepted += len(r.json()["accepted"])
        t1, cpu = time.perf_counter(), time.process_time() - cpu0
    out.put({"t0": t0, "t1": t1, "cpu": cpu, "latencies": latencies, "observed": accepted, "failed": 0,
             "dropped": 0, "spooled": 0, "sid": sid})  # fmt: skip


def _start_collector(db: str, port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, AGENTLOG_API_KEYS=f"{KEY}:bench")
    cmd = [sys.executable, "-m", "agentlog.cli", "serve", "--db", db, "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--workers", str(workers)]  # fmt: skip
    with open(log, "ab") as f:
        proc = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1.0, trust_env=False) as probe:
        while True:
            try:
                if probe.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit(f"the collector did not start: {log.read_text()[-2000:]}")
            threading.Event().wait(0.05)


def _stored_events(url: str, sids: list[str]) -> int:
    """The tool calls stored in the agents' sessions: exactly the events sent, once each."""
    from agentlog import Client

    total = 0
    with Client(base_url=url, api_key=KEY) as client:
        for sid in sids:
            cursor = None
            while True:
                page = client.query.iterate_events(session_id=sid, types=["tool_call"],
                                                   cursor=cursor, limit=1000)  # fmt: skip
                total += len(page.events)
                cursor = page.next_cursor
                if cursor is None:
                    break
    return total


def run(store: str, db: str, args: argparse.Namespace, tmp: Path,
        collectors: int = 1) -> dict[str, Any]:  # fmt: skip
    """``collectors`` collector processes on one store; the agents are dealt out among them
    (agent i posts to collector i mod n), all starting together."""
    workers = args.workers if store == "postgres" else 1  # SQLite: one writer, one worker
    agents = args.agents * collectors if args.agents_per_collector else args.agents
    ports = [free_port() for _ in range(collectors)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    procs_c = [_start_collector(db, port, tmp / f"{store}-{i}.log", workers)
               for i, port in enumerate(ports)]  # fmt: skip
    procs: list[Any] = []
    try:
        ctx = mp.get_context("spawn")
        out, go = ctx.Queue(), ctx.Event()
        target = _agent_sdk if args.mode == "sdk" else _agent_raw
        procs = [ctx.Process(target=target, args=(urls[i % collectors], args.events, args.batch,
                                                   f"a{i}", str(tmp / f"spool-{store}-{i}"), out,
                                                   go))
                 for i in range(agents)]  # fmt: skip
        for p in procs:
            p.start()
        for _ in procs:  # every agent started and set up: they begin together
            assert out.get(timeout=300) == "ready"

        # CPU of the collectors and of PostgreSQL over the run (the agents time their own).
        # Server processes are listed again after the run: a connection opened during it counts.
        def served() -> list[int]:
            return [pid for proc in procs_c for pid in tree_pids(proc.pid)]

        def server() -> list[int]:
            return postgres_pids() if store == "postgres" else []

        cpu_c, cpu_pg = cpu_seconds(served()), cpu_seconds(server())
        go.set()
        results = [out.get(timeout=900) for _ in procs]
        cpu_c = cpu_since(cpu_c, cpu_seconds(served()))
        cpu_pg = cpu_since(cpu_pg, cpu_seconds(server()))
        for p in procs:
            p.join(60)
        # The count below pages through each agent's session by type. The planner needs the
        # statistics autovacuum would have gathered by now (this test server runs without
        # it): with the empty table's, each page of a 300k-event session read all of it.
        with open_store(db, processing=False) as st:
            settle(st)
        stored = _stored_events(urls[0], [r["sid"] for r in results])
    finally:
        for p in procs:  # still running only when the run was stopped
            if p.is_alive():
                p.terminate()
        for proc in procs_c:
            proc.terminate()
            proc.wait(30)
    lat = sorted(x for r in results for x in r["latencies"])
    wall = max(r["t1"] for r in results) - min(r["t0"] for r in results)
    total = args.events * agents
    return {
        "store": store, "mode": args.mode, "collectors": collectors, "workers": workers,
        "agents": agents, "events": total,
        "batch": args.batch, "wall_s": round(wall, 2), "events_per_s": round(total / wall),
        "batches": len(lat),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
        "max_ms": round(lat[-1] * 1000, 1),
        "stored": stored, "failed": sum(r["failed"] for r in results),
        "dropped": sum(r["dropped"] for r in results),
        "spooled": sum(r["spooled"] for r in results),
        # CPU per event stored, in µs: where the machine's cores went.
        "cpu_us_agents": round(sum(r["cpu"] for r in results) * 1e6 / total, 1),
        "cpu_us_collectors": round(cpu_c * 1e6 / total, 1),
        "cpu_us_postgres": round(cpu_pg * 1e6 / total, 1),
        "cores": os.cpu_count(),
    }  # fmt: skip


def _preload(db: str, n: int) -> None:
    """``n`` events in the bench project's store before the run (``--preload``)."""
    import random

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from store_bench import gen_events

    t = time.perf_counter()
    with open_store(db, processing=False) as st:
        for batch in gen_events(n, max(1, n // 100), time.time_ns(), random.Random(3), "pre"):
            st.ingest(batch, project="bench")
        took = time.perf_counter() - t
        settled = settle(st)
        if st.dialect == "postgres":
            # The load leaves ~2 GB of WAL behind it: written out now, its checkpoint does not
            # hold the measured run's commits for seconds (a steady server spreads this work).
            import psycopg

            with psycopg.connect(st.url, autocommit=True) as c:
                c.execute("CHECKPOINT")
    print(f"preloaded {n:,} events in {took:.0f} s (then vacuum/analyze and a checkpoint: "
          f"{time.perf_counter() - t - took:.0f} s, of which vacuum/analyze {settled:.0f} s)",
          flush=True)  # fmt: skip


def main() -> None:
    # Stopped by SIGTERM (kill, a timeout), the run still ends through its finally blocks: the
    # collectors stop and the PostgreSQL schema is dropped instead of left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000, help="events per agent")
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--mode", choices=["sdk", "raw"], default="sdk")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--workers", type=int, default=1, help="collector workers for PostgreSQL")
    ap.add_argument("--pg", default=os.environ.get(
        "AGENTLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print one JSON line per store")
    ap.add_argument(
        "--collectors",
        default="1",
        help="collector processes on one store, e.g. 1,2,3 for one run each",
    )
    ap.add_argument("--agents-per-collector", action="store_true",
                    help="--agents for each collector (with --collectors 1,2,3: each fed by its "
                    "own agents), not in all")  # fmt: skip
    ap.add_argument("--preload", type=int, default=0,
                    help="events stored before the run (e.g. 1000000)")  # fmt: skip
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for store in args.stores.split(","):
            if store == "sqlite":
                db = f"sqlite:///{tmp / 'bench.db'}"
                if args.preload:
                    _preload(db, args.preload)
                rows.append(run(store, db, args, tmp))
            elif store == "postgres":
                import psycopg

                schema = f"agentlog_bench_{uuid.uuid4().hex[:8]}"
                with psycopg.connect(args.pg, autocommit=True) as c:
                    c.execute(f'CREATE SCHEMA "{schema}"')
                sep = "&" if "?" in args.pg else "?"
                db = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
                try:
                    if args.preload:
                        _preload(db, args.preload)
                    for n in (int(x) for x in args.collectors.split(",")):
                        rows.append(run(store, db, args, tmp, collectors=n))
                finally:
                    with psycopg.connect(args.pg, autocommit=True) as c:
                        c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            else:
                raise SystemExit(f"unknown store {store!r}")
    for r in rows:
        if args.json:
            print(json.dumps(r))
            continue
        ok = "MET" if r["events_per_s"] >= TARGET else "MISSED"
        print(f"[{r['store']}, {r['mode']}, {r['collectors']} collector(s) x {r['workers']} worker(s)] {r['agents']} agents x {r['events'] // r['agents']} "
              f"events, batches of {r['batch']}: {r['events_per_s']:,} events/s "
              f"(target {TARGET:,.0f}: {ok}); per batch p50 {r['p50_ms']} ms, "
              f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms over {r['batches']} batches; "
              f"stored {r['stored']}/{r['events']}, failed {r['failed']}, "
              f"dropped {r['dropped']}, spooled {r['spooled']}")  # fmt: skip
        cpu = r["cpu_us_agents"] + r["cpu_us_collectors"] + r["cpu_us_postgres"]
        print(f"  CPU per event: agents {r['cpu_us_agents']} µs, collector(s) "
              f"{r['cpu_us_collectors']} µs, PostgreSQL {r['cpu_us_postgres']} µs; "
              f"{cpu:.1f} µs in all, so {r['cores']} cores carry at most "
              f"{r['cores'] * 1e6 / cpu:,.0f} events/s")  # fmt: skip
        if r["stored"] != r["events"]:
            raise SystemExit(f"{r['store']}: expected {r['events']} stored events")


if __name__ == "__main__":
    main()
