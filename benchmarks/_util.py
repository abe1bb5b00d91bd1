"""Shared helpers for the benchmark scripts (timing, RSS, formatting)."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "best_of",
    "cpu_seconds",
    "free_port",
    "postgres_pids",
    "rss_mb",
    "scratch_dir",
    "settle",
    "tool_call_line",
    "tree_pids",
    "verdict",
]


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    """Run ``fn`` (which returns seconds for its own timed part) ``repeats`` times; the median."""
    return statistics.median(fn() for _ in range(repeats))


def scratch_dir(prefix: str) -> str:
    """A temporary directory removed when the benchmark exits. A run writes hundreds of MB of
    events: left behind, every run would fill the page cache further, and writing into freshly
    allocated pages costs more CPU than into reused ones, which skewed later runs' figures."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None once the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU each process has used so far (Linux /proc; gone ones left out).
    Compare two readings by pid: a process that started in between counts from zero."""
    out = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:  # utime, stime (stat fields 14, 15)
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_since(before: dict[int, float], now: dict[int, float]) -> float:
    """CPU seconds used between two ``cpu_seconds`` readings."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants (a collector's ``--workers`` processes)."""
    parents = {pid: int(f[1]) for pid in _all_pids() if (f := _stat(pid)) is not None}
    found, todo = [root], [root]
    while todo:
        parent = todo.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        found += kids
        todo += kids
    return found


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (backends, WAL writer, checkpointer...)."""
    out = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "postgres":
                    out.append(pid)
        except OSError:
            continue
    return out


def postgres_backends(pids: list[int]) -> list[int]:
    """Of ``pids``, the client backends (one per connection; ``postgres: ... user db host(port)``),
    not the postmaster, WAL writer, checkpointer and the other background processes."""
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"(" in cmd or b"[local]" in cmd:
            out.append(pid)
    return out


def settle(store: Any) -> float:
    """After a bulk load, what a production server's autovacuum does by itself: PostgreSQL's
    ``VACUUM ANALYZE`` of the store's tables (planner statistics, and the visibility map
    without which an index-only scan still visits the table for every row; the test server
    runs with autovacuum off), SQLite's ``ANALYZE``. Returns the seconds it took."""
    started = time.perf_counter()
    if store.dialect == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect(store.url, autocommit=True) as c:
            # A URL may name its schema in its options (search_path), as collector_ingest's do.
            schema = store.schema or c.execute("SELECT current_schema()").fetchone()[0]
            tables = c.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
            for (table,) in tables.fetchall():
                c.execute(sql.SQL("VACUUM ANALYZE {}.{}").format(sql.Identifier(schema),
                                                                 sql.Identifier(table)))  # fmt: skip
    else:
        with store._tx(write=True) as conn:
            conn.run("ANALYZE")
    return time.perf_counter() - started


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def now() -> float:
    return time.perf_counter()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool_call_line(session_id: str, query: str) -> bytes:
    """One encoded ``tool_call`` event record, as the SDK writes it, for ingest benchmarks."""
    import orjson

    from agentlog._ids import format_ts, new_id_str, now_ns

    ts = now_ns()
    return orjson.dumps({
        "v": 1, "kind": "event", "id": new_id_str(), "session_id": session_id, "parent_id": None,
        "type": "tool_call", "name": "search_kb", "ts": format_ts(ts),
        "end_ts": format_ts(ts + 1_500_000), "duration_ms": 1.5, "status": "ok",
        "partial": False, "data": {"input": {"query": query}, "output": ["doc1", "doc2"]},
        "error": None, "trace_id": None, "span_id": None,
    })  # fmt: skip
