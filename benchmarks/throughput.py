"""End-to-end throughput, flush latency, memory under a burst, and import time.

    python benchmarks/throughput.py [--events N]

Figures and targets (issue 2):
- events per second recorded and on disk end to end (>= 300k/s)
- time to flush 100k pending events (<= 0.5 s)
- RSS growth for a burst of 1M events into a 100k buffer (<= 100 MB), drops counted
- ``import agentlog`` cold (<= 100 ms)
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import rss_mb, scratch_dir, verdict


def _count_lines(path: Path) -> int:
    """Lines in ``path`` and its rotated siblings."""
    from agentlog.exporters.file import rotated_files

    total = 0
    for file in [*rotated_files(path), path]:
        with file.open("rb") as f:
            total += sum(block.count(b"\n") for block in iter(lambda f=f: f.read(1 << 20), b""))
    return total


def end_to_end(n: int) -> float:
    import agentlog

    path = Path(scratch_dir("agentlog-tp-")) / "events.jsonl"
    agentlog.init(path=str(path), max_queue=max(100_000, n))

    @agentlog.tool
    def step(i: int) -> int:
        return i

    t = time.perf_counter()
    for i in range(n):
        step(i)
    assert agentlog.flush(120)
    elapsed = time.perf_counter() - t
    agentlog.shutdown()
    on_disk = _count_lines(path)
    assert on_disk == n, f"{on_disk} lines on disk for {n} events"
    return n / elapsed


def flush_pending(n: int) -> float:
    """Time for flush() to export ``n`` records that are all pending in the buffer."""
    import agentlog

    path = Path(scratch_dir("agentlog-fl-")) / "events.jsonl"
    # Timers far away and max_batch = n: nothing leaves until flush() asks.
    agentlog.init(path=str(path), max_queue=n, max_batch=n, idle_flush=3600, max_delay=3600)
    for i in range(n):
        agentlog.track_tool_call("step", input=i, output=i)
    pending = agentlog.status().pending
    t = time.perf_counter()
    assert agentlog.flush(60)
    elapsed = time.perf_counter() - t
    agentlog.shutdown()
    assert pending == n and _count_lines(path) == n
    return elapsed


def burst_rss(n: int, buffer: int) -> tuple[float, int, int]:
    import agentlog

    path = Path(scratch_dir("agentlog-rss-")) / "events.jsonl"
    agentlog.init(path=str(path), max_queue=buffer)

    @agentlog.tool
    def step(i: int) -> int:
        return i

    gc.collect()
    before = rss_mb()
    peak = before
    for i in range(n):
        step(i)
        if i % 10_000 == 0:
            peak = max(peak, rss_mb())
    peak = max(peak, rss_mb())
    assert agentlog.flush(120)
    st = agentlog.status()
    agentlog.shutdown()
    return peak - before, st.dropped, st.observed


def import_ms(runs: int = 15) -> float:
    def once(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t

    base = statistics.median(once("pass") for _ in range(runs))
    full = statistics.median(once("import agentlog") for _ in range(runs))
    return (full - base) * 1000


def _in_subprocess(name: str, *extra: str) -> str:
    """Each figure in a fresh interpreter, so one measurement's heap never flatters the next."""
    out = subprocess.run(
        [sys.executable, __file__, "--only", name, *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--burst", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["rate", "flush", "rss"])
    args = parser.parse_args(argv)

    if args.only == "rate":
        rate = end_to_end(args.events)
        print(
            f"end to end, recorded and on disk: {rate:10,.0f} events/s  target >= 300k/s: {verdict(rate >= 300_000)}"
        )
    elif args.only == "flush":
        fl = flush_pending(100_000)
        print(
            f"flush 100k pending events:        {fl:10.3f} s         target <= 0.5 s: {verdict(fl <= 0.5)}"
        )
    elif args.only == "rss":
        grow, dropped, observed = burst_rss(args.burst, 100_000)
        print(f"RSS growth, {args.burst:,} burst, 100k buffer: {grow:6.1f} MB  target <= 100 MB: {verdict(grow <= 100)}"
              f"  (observed {observed:,}, dropped {dropped:,}, sum {observed + dropped:,})")  # fmt: skip
    else:
        print(f"Python {sys.version.split()[0]}, each figure in a fresh process")
        print(_in_subprocess("rate", "--events", str(args.events)))
        print(_in_subprocess("flush"))
        print(_in_subprocess("rss", "--burst", str(args.burst)))
        imp = import_ms()
        print(
            f"import agentlog (cold, median):   {imp:10.1f} ms        target <= 100 ms: {verdict(imp <= 100)}"
        )


if __name__ == "__main__":
    main()
