"""Shared helpers for the benchmark scripts (timing, RSS, formatting)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

__all__ = ["best_of", "rss_mb", "verdict"]


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    """Run ``fn`` (which returns seconds for its own timed part) ``repeats`` times; the median."""
    return statistics.median(fn() for _ in range(repeats))


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def now() -> float:
    return time.perf_counter()
