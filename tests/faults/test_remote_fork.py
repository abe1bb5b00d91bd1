"""A pre-fork server (gunicorn-style): the master process initialises agentlog and records, then
forks workers, some of them while the master's first send is in flight; every worker exports.

A child inherits the parent's memory as it was at ``fork()``: a lock held by a thread that does
not exist in the child (an import in progress on the send thread, the exporter's own locks) is
held there for good. So a send must import nothing, the exporter renews every lock in the child,
and every wait has a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ._remote import KEY, agent_env, db_counts, spool_files, start_collector

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

FIRST_SEND = textwrap.dedent(
    """
    import sys
    from agentlog.exporters import RecordBatch
    from agentlog.exporters.http import HttpExporter

    exp = HttpExporter(sys.argv[1], api_key=sys.argv[2], spool_dir=sys.argv[3])
    before = set(sys.modules)
    result = exp.export(RecordBatch.from_records(
        [{"v": 1, "kind": "session", "id": "0190f0c0-0000-7000-8000-000000000001", "name": "x",
          "status": "running", "started_at": "2026-01-01T00:00:00.000000Z"}]))
    print(result.ok, sorted(set(sys.modules) - before))
    exp.shutdown(1.0)
    """
)


def test_a_send_imports_nothing(tmp_path: Path) -> None:
    """An import on the send thread is what a child forked mid-send would block on."""
    collector = start_collector(tmp_path)
    try:
        out = subprocess.run(
            [sys.executable, "-c", FIRST_SEND, collector.url, KEY, str(tmp_path / "spool")],
            capture_output=True, text=True, timeout=60, env=agent_env(),
        )  # fmt: skip
    finally:
        collector.stop()
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True []"


MASTER = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time, warnings
    import agentlog
    from agentlog._state import STATE

    url, key, spool, collector_pid, n_early, n_late = sys.argv[1:7]
    warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
    agentlog.init(exporter="http", endpoint=url, api_key=key, spool_dir=spool, idle_flush=0.01,
                  export_timeout=5.0, shutdown_timeout=5.0)
    exporter = STATE.pipeline.exporter

    def worker(name):
        code = 3
        try:
            with agentlog.session(name):
                for i in range(5):
                    agentlog.track_tool_call("t", input={"w": name, "i": i}, output=i)
            agentlog.flush(10.0)
            st = agentlog.status()
            code = 0 if (st.observed, st.spooled, st.failed, st.dropped) == (7, 0, 0, 0) else 2
            agentlog.shutdown()
        finally:
            os._exit(code)

    pids = {}
    with agentlog.session("master"):
        agentlog.track_tool_call("t", input={"w": "master"}, output=0)
    deadline = time.monotonic() + 20
    while not exporter._sending:  # the master's first send is under way: fork now
        if time.monotonic() > deadline:
            sys.exit("the first send never started")
    for w in range(int(n_early)):
        pid = os.fork()
        if pid == 0:
            worker(f"early-{w}")
        pids[pid] = f"early-{w}"
    os.kill(int(collector_pid), signal.SIGCONT)  # the collector answers the send in flight now
    agentlog.flush(10.0)
    for w in range(int(n_late)):
        pid = os.fork()
        if pid == 0:
            worker(f"late-{w}")
        pids[pid] = f"late-{w}"
    codes = {}
    deadline = time.monotonic() + 30
    pause = threading.Event()
    while len(codes) < len(pids) and time.monotonic() < deadline:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            codes[pids[pid]] = os.waitstatus_to_exitcode(status)
        else:
            pause.wait(0.01)  # reaping children: no event to wait on
    for pid, name in pids.items():
        if name not in codes:
            os.kill(pid, signal.SIGKILL)
            codes[name] = "hung"
    agentlog.shutdown()
    print(json.dumps(codes))
    """
)


def test_prefork_workers_each_export_even_forked_during_a_send(tmp_path: Path) -> None:
    collector = start_collector(tmp_path)
    assert collector.proc is not None
    try:
        collector.proc.send_signal(signal.SIGSTOP)  # the master's first send waits for an answer
        out = subprocess.run(
            [sys.executable, "-c", MASTER, collector.url, KEY, str(tmp_path / "spool"),
             str(collector.proc.pid), "4", "3"],
            capture_output=True, text=True, timeout=120, env=agent_env(),
        )  # fmt: skip
    finally:
        collector.proc.send_signal(signal.SIGCONT)
        stored = db_counts(tmp_path)
        collector.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    codes = json.loads(out.stdout.strip().splitlines()[-1])
    assert codes == {**{f"early-{w}": 0 for w in range(4)}, **{f"late-{w}": 0 for w in range(3)}}
    assert stored == (1 + 7 * 5, 8, 8)  # the master's event and session, and each worker's
    assert spool_files(tmp_path / "spool") == []
