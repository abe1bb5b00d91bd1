"""Shared pieces of the remote-exporter fault trials: a real collector (``agentlog serve`` on
SQLite, killed with SIGKILL and started again on its port), agents as real processes, and exact
counts read from the collector's own database.

``restart_scenario`` is also what ``benchmarks/faults.py`` runs twenty times.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.collector.servers import Collector, wait_for

KEY = "fault-key-0123456789"
OTHER_KEY = "other-key-0123456789"


def require_root(what: str) -> None:
    """Mounts and such need root: CI runs as root; elsewhere the test is skipped, not faked."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail(f"{what} needs root, and CI runs as root")
        pytest.skip(f"{what} needs root")


def agent_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}


def start_collector(work: Path, keys: str = f"{KEY}:proj", port: int | None = None) -> Collector:
    return Collector(f"sqlite:///{work / 'collector.db'}", keys=keys, log=work / "collector.log",
                     port=port).start()  # fmt: skip


def db_counts(work: Path) -> tuple[int, int, int]:
    """(events, sessions, sessions that ended ``success``) as the collector stored them."""
    con = sqlite3.connect(work / "collector.db", timeout=30)
    try:
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        sessions, done = con.execute(
            "SELECT count(*), coalesce(sum(status = 'success'), 0) FROM sessions"
        ).fetchone()
        return int(events), int(sessions), int(done)
    finally:
        con.close()


def spool_files(root: Path) -> list[Path]:
    """Spooled batches (not the hidden temporary files of writes under way)."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*.jsonl") if not p.name.startswith("."))


def spooled_lines(root: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in spool_files(root))


# An agent that records sessions of ten tool calls at its own pace until told the collector is
# back (the file ``back``), records for ``after`` seconds more, then exits through shutdown().
RESTART_AGENT = textwrap.dedent(
    """
    import json, logging, sys, threading, time
    from pathlib import Path
    import agentlog
    from agentlog._state import STATE

    url, key, spool, work, after = sys.argv[1:6]
    work, after = Path(work), float(after)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    agentlog.init(exporter="http", endpoint=url, api_key=key, spool_dir=spool, max_batch=100,
                  idle_flush=0.05, export_timeout=2.0, shutdown_timeout=5.0)
    pace = threading.Event()
    sessions = 0
    back_at = None
    while back_at is None or time.monotonic() - back_at < after:
        with agentlog.session(f"job-{sessions}"):
            for i in range(10):
                agentlog.track_tool_call("t", input={"s": sessions, "i": i}, output=i)
        sessions += 1
        if back_at is None and (work / "back").exists():
            back_at = time.monotonic()
        pace.wait(0.02)  # the agent's own rhythm of work, not a synchronization
    pipeline = STATE.pipeline
    start = time.monotonic()
    agentlog.shutdown()
    took = time.monotonic() - start
    pipeline._thread.join(10.0)
    st = pipeline.status()
    print(json.dumps({"sessions": sessions, "records": sessions * 12, "shutdown_s": took,
                      "observed": st.observed, "spooled": st.spooled, "failed": st.failed,
                      "dropped": st.dropped, "pending": st.pending}))
    """
)


@dataclass
class RestartRun:
    report: dict[str, Any]
    stored: tuple[int, int, int]
    left_on_disk: int
    log: str

    @property
    def complete(self) -> bool:
        """Everything the agent recorded is in the collector's store, nothing left behind."""
        n = self.report["sessions"]
        return self.stored == (10 * n, n, n) and self.left_on_disk == 0


def restart_scenario(work: Path, *, after: float = 2.0) -> RestartRun:
    """Collector up; the agent delivers; the collector is killed (-9) and, once the agent has a
    backlog, started again; the agent exits ``after`` seconds later."""
    work.mkdir(parents=True, exist_ok=True)
    spool = work / "spool"
    collector = start_collector(work)
    try:
        agent = subprocess.Popen(
            [sys.executable, "-c", RESTART_AGENT, collector.url, KEY, str(spool), str(work),
             str(after)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=agent_env(), cwd=work,
        )  # fmt: skip
        try:
            wait_for(lambda: db_counts(work)[0] > 0 or agent.poll() is not None,
                     what="the first live delivery")  # fmt: skip
            collector.kill()
            wait_for(lambda: len(spool_files(spool)) >= 2 or agent.poll() is not None,
                     what="a backlog in the agent's spool")  # fmt: skip
            collector.start()
            (work / "back").write_text("")
            out, err = agent.communicate(timeout=90)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.communicate()
        if agent.returncode != 0:
            raise AssertionError(f"agent failed: {err.decode(errors='replace')[-3000:]}")
        report = json.loads(out.decode().strip().splitlines()[-1])
        return RestartRun(report, db_counts(work), spooled_lines(spool), err.decode())
    finally:
        collector.stop()
