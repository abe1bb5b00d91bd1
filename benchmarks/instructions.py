"""Instructions per decorated call, caller and worker: a figure the machine's load does not move.

    python benchmarks/instructions.py [--calls N]      # needs valgrind (apt-get install valgrind)

On a shared 2-core machine the timings of ``overhead.py`` move by 2x with other work; the count
of instructions a call executes does not. Each figure is the difference between a run of 2N and
a run of N calls under ``valgrind --tool=cachegrind`` (start-up and imports cancel out):

- caller: a ``@agentlog.tool`` call, the worker asleep (records stay in the buffer);
- worker: the same calls, then the worker's export of them (encoding, redaction screen, file
  write, counts), minus the caller's share;
- plain: the undecorated call, for reference.

Instructions are not time (the kernel's part of a write is not counted, and C loops run more
instructions per nanosecond than the interpreter), but a change that cuts them cuts CPU time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence


def _child(mode: str, n: int) -> None:
    import agentlog
    from agentlog._state import STATE

    tmp = tempfile.mkdtemp(prefix="agentlog-instr-")
    agentlog.init(path=f"{tmp}/events.jsonl", max_queue=10 * n, max_batch=10 * n,
                  idle_flush=3600, max_delay=3600)  # fmt: skip

    def search_kb(query: str) -> list[str]:
        return [query]

    traced = agentlog.tool(search_kb)
    pipeline = STATE.pipeline
    assert pipeline is not None
    traced("q")
    pipeline._export_some(1)  # warm: file open, caches primed
    call = search_kb if mode == "plain" else traced
    for _ in range(n):
        call("q")
    if mode == "worker":
        while pipeline._buf:
            pipeline._export_some(512)
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(0)  # no shutdown: nothing after the measured part


def _count(mode: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, "--child", mode, "--calls", str(n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_240)
    parser.add_argument("--child", choices=["plain", "caller", "worker"])
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    n = args.calls
    per = {m: (_count(m, 2 * n) - _count(m, n)) / n for m in ("plain", "caller", "worker")}
    caller = per["caller"] - per["plain"]
    worker = per["worker"] - per["caller"]
    print(f"instructions per call, {n} vs {2 * n} calls, Python {sys.version.split()[0]}")
    print(f"plain call:                     {per['plain']:8,.0f}")
    print(f"agentlog @tool, caller:         {caller:8,.0f}")
    print(f"agentlog @tool, worker:         {worker:8,.0f}")
    print(f"agentlog @tool, caller+worker:  {caller + worker:8,.0f}")


if __name__ == "__main__":
    main()
