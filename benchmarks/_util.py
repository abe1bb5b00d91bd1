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

__all__ = ["best_of", "free_port", "rss_mb", "scratch_dir", "tool_call_line", "verdict"]


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
