"""Behaviour at process boundaries, in real subprocesses: every event lands exactly once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from agentlog._jsonl import merge_session, read_jsonl

PRELUDE = """
import os, sys, agentlog
agentlog.init(path=sys.argv[1], idle_flush=60, max_delay=60, max_batch=100000)

@agentlog.tool
def work(proc, seq):
    return seq
"""


def _run(
    tmp_path: Path, body: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    script = tmp_path / "agent.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    events = tmp_path / "events.jsonl"
    proc = subprocess.run(
        [sys.executable, str(script), str(events)], capture_output=True, text=True, timeout=60
    )
    read = read_jsonl(events)
    assert read.errors == []
    return proc, read.records


def _sessions(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec["kind"] == "session":
            out[rec["id"]] = merge_session(out.get(rec["id"]), rec)
    return out


def _work(records: list[dict[str, Any]]) -> Counter[tuple[str, int]]:
    return Counter(
        (r["data"]["input"]["proc"], r["data"]["input"]["seq"])
        for r in records
        if r["kind"] == "event" and r["type"] == "tool_call"
    )


def test_normal_exit_flushes_everything(tmp_path: Path) -> None:
    proc, records = _run(
        tmp_path,
        """
        with agentlog.session("normal", id="s-normal"):
            for i in range(500):
                work("main", i)
    """,
    )
    assert proc.returncode == 0, proc.stderr
    assert _work(records) == Counter(("main", i) for i in range(500))
    assert _sessions(records)["s-normal"]["status"] == "success"


def test_sys_exit_inside_a_session(tmp_path: Path) -> None:
    proc, records = _run(
        tmp_path,
        """
        @agentlog.session(name="exits", id="s-exit")
        def run():
            for i in range(50):
                work("main", i)
            sys.exit(3)
        run()
    """,
    )
    assert proc.returncode == 3
    assert _work(records) == Counter(("main", i) for i in range(50))
    assert _sessions(records)["s-exit"]["status"] == "error"


def test_unhandled_exception(tmp_path: Path) -> None:
    proc, records = _run(
        tmp_path,
        """
        with agentlog.session("crash", id="s-crash"):
            for i in range(50):
                work("main", i)
            raise RuntimeError("agent crashed")
    """,
    )
    assert proc.returncode == 1 and "agent crashed" in proc.stderr
    assert _work(records) == Counter(("main", i) for i in range(50))
    assert _sessions(records)["s-crash"]["status"] == "error"
    errors = [r for r in records if r["kind"] == "event" and r["type"] == "error"]
    assert len(errors) == 1 and errors[0]["error"]["message"] == "agent crashed"


def test_session_still_open_at_exit_is_cancelled(tmp_path: Path) -> None:
    proc, records = _run(
        tmp_path,
        """
        scope = agentlog.session("open", id="s-open")
        scope.__enter__()
        work("main", 0)
        gen = (x for x in [1])
        @agentlog.trace(type="stream")
        def stream():
            yield 1
            yield 2
        g = stream()
        next(g)
        sys.exit(0)
    """,
    )
    assert proc.returncode == 0, proc.stderr
    assert _sessions(records)["s-open"]["status"] == "cancelled"
    (stream_ev,) = [r for r in records if r["kind"] == "event" and r["type"] == "stream"]
    assert stream_ev["partial"] is True


def test_fork_child_exports_its_own_records_only(tmp_path: Path) -> None:
    proc, records = _run(
        tmp_path,
        """
        with agentlog.session("parent", id="s-parent"):
            for i in range(100):
                work("parent", i)          # still pending in the buffer at fork time
            pid = os.fork()
            if pid == 0:
                with agentlog.session("child", id="s-child"):
                    for i in range(100):
                        work("child", i)
                for i in range(100, 120):
                    work("child", i)       # in the inherited parent session context
                sys.exit(0)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            for i in range(100, 200):
                work("parent", i)
    """,
    )
    assert proc.returncode == 0, proc.stderr
    expected = Counter([("parent", i) for i in range(200)] + [("child", i) for i in range(120)])
    assert _work(records) == expected
    ids = [r["id"] for r in records if r["kind"] == "event"]
    assert len(ids) == len(set(ids))
    sessions = _sessions(records)
    assert sessions["s-parent"]["status"] == "success"
    assert sessions["s-child"]["status"] == "success"
    assert sessions["s-child"]["parent_session_id"] == "s-parent"
    # the child never ended its parent's session: exactly one end record for s-parent
    ends = [
        r for r in records if r["kind"] == "session" and r["id"] == "s-parent" and r["ended_at"]
    ]
    assert len(ends) == 1
