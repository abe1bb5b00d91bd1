"""Kill -9 and restart the collector mid-run, twenty times: is everything delivered before the
agent exits?

Each run: a real collector (``agentlog serve`` on SQLite) and an agent process recording sessions
at its own pace through the ``http`` exporter. Once the agent has delivered some records live,
the collector is killed with SIGKILL; once the agent has a backlog in its spool, the collector
is started again on the same port, and the agent exits two seconds later (``shutdown()`` with
the default ``shutdown_timeout`` of 5 s). A run counts as complete when every event and every
session the agent recorded is in the collector's database and nothing is left in the spool.

    python benchmarks/faults.py [--runs 20] [--after 2.0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the scenario lives in tests/
from tests.faults._remote import restart_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--after", type=float, default=2.0, help="seconds the agent keeps going")
    args = parser.parse_args()
    complete = 0
    times: list[float] = []
    print(f"{'run':>3}  {'records':>7}  {'stored events':>13}  {'left on disk':>12}  "
          f"{'shutdown s':>10}  complete")  # fmt: skip
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="agentlog-faults-") as tmp:
            run = restart_scenario(Path(tmp), after=args.after)
        rep = run.report
        complete += run.complete
        times.append(rep["shutdown_s"])
        print(f"{i + 1:>3}  {rep['records']:>7}  {run.stored[0]:>13}  {run.left_on_disk:>12}  "
              f"{rep['shutdown_s']:>10.3f}  {'yes' if run.complete else 'NO'}", flush=True)  # fmt: skip
    print(f"\ndelivered everything before the agent exited: {complete} of {args.runs} runs")
    print(f"shutdown(): median {statistics.median(times):.3f} s, max {max(times):.3f} s")


if __name__ == "__main__":
    main()
