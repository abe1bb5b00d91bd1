"""multiprocessing children leave through ``os._exit``: their records are flushed all the same."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentlog._jsonl import read_jsonl

WORK = textwrap.dedent(
    """
    import multiprocessing as mp
    import os
    import sys

    import agentlog

    # Every process that imports this module records into one file. Nothing leaves on a timer
    # (idle_flush 60 s): only the flush at the end of each child can deliver its records.
    agentlog.init(path=os.environ["EVENTS"], idle_flush=60.0, max_delay=120.0)


    def task(i):
        with agentlog.session("task", user=str(i)):
            for j in range(5):
                agentlog.track_tool_call("t", input=[i, j])
        return os.getpid()


    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        pool = ctx.Pool(2, maxtasksperchild=int(sys.argv[2]) or None)
        pids = pool.map(task, range(40), chunksize=1)
        pool.close()
        pool.join()
        print(os.getpid() not in pids)
    """
)


@pytest.mark.parametrize(
    ("method", "per_child"), [("fork", 0), ("forkserver", 0), ("spawn", 0), ("fork", 7)]
)
def test_every_record_of_a_pool_worker_is_delivered(
    tmp_path: Path, method: str, per_child: int
) -> None:
    script = tmp_path / "work.py"
    script.write_text(WORK)
    events = tmp_path / "events.jsonl"
    env = {**os.environ, "EVENTS": str(events)}
    env.pop("AGENTLOG_DISABLED", None)
    done = subprocess.run(
        [sys.executable, str(script), method, str(per_child)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"  # the work really ran in the children
    got = read_jsonl(events)
    assert got.errors == []
    tools = [r for r in got.records if r["kind"] == "event"]
    sessions = [r for r in got.records if r["kind"] == "session"]
    assert len(tools) == 200
    assert sorted({tuple(r["data"]["input"]) for r in tools}) == [
        (i, j) for i in range(40) for j in range(5)
    ]
    ended = [r for r in sessions if r["ended_at"] is not None]
    assert len(sessions) == 80 and {r["status"] for r in ended} == {"success"}
    assert "Traceback" not in done.stderr
