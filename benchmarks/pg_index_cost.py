"""What PostgreSQL itself spends to store one event row, index by index (issue 13's 80k target).

A store with the real schema is made in a scratch schema; ``--preload`` events are COPYed
straight into its ``events`` table (no counts, no sessions: only the table and its indexes
matter here), then ``--events`` more in batches of 5,000, one transaction each, while the
server's backend CPU time is read from /proc. That is repeated with every index of ``events``,
then without each secondary index in turn, then with the primary key alone and with none. Two
traffic shapes: ``week`` (each batch spread over ``--sessions`` sessions, as store_bench's
default) and ``live`` (50 running sessions a batch, as a collector sees).

The client's share (formatting the COPY rows) is printed beside it: Store.ingest's own Python
work (checks, rows, sessions, pricing, counts) comes on top of both, in the same thread.

    python benchmarks/pg_index_cost.py [--preload 1000000] [--events 200000] [--sessions 2000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

import psycopg
from _util import cpu_seconds
from psycopg import sql
from store_bench import _event

from agentlog.store._ingest import event_row
from agentlog.store._rows import EVENT_COLS
from agentlog.store.postgres import PostgresStore

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 5000
START_NS = 1_764_000_000 * 10**9
SECONDARY = ("events_session", "events_time", "events_type")


def _rows(first: int, n: int, sessions: int, per_batch: int) -> list[tuple[Any, ...]]:
    """Rows of n events from the first-th on, a millisecond apart; each batch of BATCH rows
    spread over ``per_batch`` of the ``sessions`` sessions."""
    out = []
    for k in range(first, first + n):
        group = (k // BATCH) * per_batch
        sid = f"s-{(group + k % per_batch) % sessions:06d}"
        t = START_NS + k * 1_000_000
        rec = _event(sid, k, t)
        row = event_row(rec, "default")
        assert row is not None
        out.append(row)
    return out


def _backend_cpu(conn: psycopg.Connection[Any]) -> float:
    """CPU seconds (user + system) of this connection's server process."""
    pid = conn.info.backend_pid
    return cpu_seconds([pid])[pid]


def _copy(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(f"COPY events ({EVENT_COLS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _measure(
    conn: psycopg.Connection[Any], batches: list[list[tuple[Any, ...]]]
) -> tuple[float, float, float]:
    """(wall, client CPU, server CPU) in µs a row for COPYing the batches, then removes them
    again so that every configuration starts from the same table."""
    conn.execute("CHECKPOINT")  # each run pays the same full-page writes after a checkpoint
    n = sum(len(b) for b in batches)
    server, client, wall = _backend_cpu(conn), time.process_time(), time.perf_counter()
    for b in batches:
        _copy(conn, b)
    wall, client = time.perf_counter() - wall, time.process_time() - client
    server = _backend_cpu(conn) - server
    conn.execute("DELETE FROM events WHERE ts_us >= %s", [batches[0][0][6]])
    conn.execute("VACUUM events")
    return wall * 1e6 / n, client * 1e6 / n, server * 1e6 / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preload", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--pg-url", default=PG_URL)
    args = ap.parse_args()

    schema = f"agentlog_bench_{uuid.uuid4().hex[:8]}"
    store = PostgresStore(args.pg_url, schema=schema, processing=False)
    try:
        with psycopg.connect(args.pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            started = time.perf_counter()
            for first in range(0, args.preload, 50_000):
                _copy(conn, _rows(first, min(50_000, args.preload - first), args.sessions,
                                  args.sessions))  # fmt: skip
            conn.execute("VACUUM ANALYZE events")
            print(f"preloaded {args.preload:,} events in {time.perf_counter() - started:.0f} s; "
                  f"then {args.events:,} in batches of {BATCH:,}, one transaction each")  # fmt: skip
            shapes = {
                "week": [_rows(args.preload + i, BATCH, args.sessions, args.sessions)
                         for i in range(0, args.events, BATCH)],
                "live": [_rows(args.preload + i, BATCH, args.sessions, 50)
                         for i in range(0, args.events, BATCH)],
            }  # fmt: skip
            indexes = {name: conn.execute("SELECT pg_get_indexdef(%s::regclass)", [name])
                       .fetchone()[0] for name in SECONDARY}  # fmt: skip
            configs: list[tuple[str, list[str]]] = [("primary key + 3 indexes (as shipped)", [])]
            configs += [(f"without {name}", [name]) for name in SECONDARY]
            configs += [
                ("primary key alone", list(SECONDARY)),
                ("no index at all", [*SECONDARY, "pk"]),
            ]
            print(
                f"{'events table':<38} {'shape':<5} {'wall':>7} {'client':>7} {'server':>7}  (µs a row)"
            )
            gone: set[str] = set()
            for label, dropped in configs:
                for name in sorted(gone - set(dropped)):  # back as shipped
                    conn.execute(indexes[name])
                for name in [d for d in dropped if d not in gone]:
                    if name == "pk":
                        conn.execute("ALTER TABLE events DROP CONSTRAINT events_pkey")
                    else:
                        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
                gone = set(dropped)
                for shape, batches in shapes.items():
                    wall, client, server = _measure(conn, batches)
                    print(
                        f"{label:<38} {shape:<5} {wall:7.2f} {client:7.2f} {server:7.2f}",
                        flush=True,
                    )
    finally:
        store.drop_schema()


if __name__ == "__main__":
    main()
