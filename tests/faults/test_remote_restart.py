"""Kill -9 and restart the collector mid-run; the agent exits a few seconds after it is back.

Everything the agent recorded must be in the collector's store when the agent has exited (no
backlog left on disk for a "next process" a batch job never has), each record exactly once, and
the agent's own ``status()`` must say so. The outage costs one WARNING and the recovery one INFO
line, however many batches met it.
"""

from __future__ import annotations

from pathlib import Path

from ._remote import restart_scenario


def test_backlog_is_delivered_before_the_agent_exits(tmp_path: Path) -> None:
    run = restart_scenario(tmp_path, after=2.0)
    rep = run.report
    n = rep["sessions"]
    assert run.left_on_disk == 0, run.log[-3000:]
    assert run.stored == (10 * n, n, n)  # every event once; every session ended
    # recorded = delivered + spooled + dropped + failed, and all of it delivered
    assert (rep["observed"], rep["spooled"], rep["dropped"], rep["failed"]) == (
        rep["records"], 0, 0, 0,
    )  # fmt: skip
    assert rep["shutdown_s"] < 5.5
    lines = run.log.splitlines()
    down = [line for line in lines if "cannot reach" in line]
    back = [line for line in lines if "accepts records again" in line]
    assert len(down) == 1 and down[0].startswith("WARNING agentlog"), run.log[-3000:]
    assert "/v1/ingest" in down[0] and str(tmp_path / "spool") in down[0]
    assert len(back) == 1 and back[0].startswith("INFO agentlog"), run.log[-3000:]
