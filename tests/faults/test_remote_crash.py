"""The agent is killed with SIGKILL: while its first batch meets a dead collector, and in the
middle of a spool write. Nothing written is lost, nothing half-written lingers.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.collector.servers import wait_for

from ._remote import KEY, agent_env, db_counts, spool_files, spooled_lines, start_collector

# Records one session live, then (once told the collector is dead) a second one, and waits to
# be killed: with retry_deadline=30 the exporter is in its retry window the whole time.
VICTIM = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    import agentlog
    from agentlog.exporters.http import HttpExporter

    url, spool, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    agentlog.init(exporter=HttpExporter(url, api_key=sys.argv[4], spool_dir=spool,
                                        timeout=1.0, retry_deadline=30.0),
                  idle_flush=0.05)
    for name in ("live", "dead"):
        with agentlog.session(name):
            for i in range(5):
                agentlog.track_tool_call("t", input={"s": name, "i": i}, output=i)
        if name == "live":
            assert agentlog.flush(10.0)
            print("live", flush=True)
            sys.stdin.readline()  # the collector has been killed
    threading.Event().wait()  # until SIGKILL
    """
)

DRAINER = textwrap.dedent(
    """
    import sys
    import agentlog
    agentlog.init(exporter="http", endpoint=sys.argv[1], api_key=sys.argv[3],
                  spool_dir=sys.argv[2], shutdown_timeout=10.0)
    agentlog.shutdown()  # delivers what the killed agent left before it returns
    """
)


def test_a_batch_meeting_a_dead_collector_is_on_disk_before_any_retry(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    collector = start_collector(tmp_path)
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, collector.url, str(spool), str(tmp_path), KEY],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=agent_env(),
    )  # fmt: skip
    try:
        assert victim.stdout is not None and victim.stdin is not None
        assert victim.stdout.readline() == b"live\n"
        assert db_counts(tmp_path) == (5, 1, 1)
        collector.kill()
        victim.stdin.write(b"go\n")
        victim.stdin.flush()
        # Well inside the 30 s retry window: the whole session is already on disk.
        wait_for(lambda: spooled_lines(spool) == 7, timeout=5.0, what="the batch in the spool")
    finally:
        victim.kill()
        victim.communicate()
    collector.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", DRAINER, collector.url, str(spool), KEY],
            capture_output=True, text=True, timeout=60, env=agent_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert db_counts(tmp_path) == (10, 2, 2)  # each record once
    finally:
        collector.stop()
    assert spool_files(spool) == []


# Writes a batch to the spool and is killed between write and rename (fsync blocks).
MID_WRITE = textwrap.dedent(
    """
    import os, sys, threading
    from agentlog.exporters import RecordBatch
    from agentlog.exporters.http import HttpExporter

    exp = HttpExporter(sys.argv[1], api_key="k", spool_dir=sys.argv[2])
    def stuck(fd):
        print("writing", flush=True)
        threading.Event().wait()  # until SIGKILL
    os.fsync = stuck
    exp.export(RecordBatch.from_records(
        [{"v": 1, "kind": "event", "id": str(i), "session_id": None} for i in range(100)]))
    """
)


def test_a_writer_killed_mid_write_leaves_nothing_past_the_next_open(tmp_path: Path) -> None:
    from agentlog.exporters._spool import destination_dir
    from agentlog.exporters.http import HttpExporter

    spool = tmp_path / "spool"
    url = "http://127.0.0.1:9"  # nothing listens: the batch goes to the spool
    victim = subprocess.Popen(
        [sys.executable, "-c", MID_WRITE, url, str(spool)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=agent_env(),
    )  # fmt: skip
    try:
        assert victim.stdout is not None
        assert victim.stdout.readline() == b"writing\n"
    finally:
        victim.kill()
        victim.communicate()
    d = destination_dir(spool, "http", url + "/v1/ingest", "k")
    assert [p for p in d.glob("*.jsonl") if not p.name.startswith(".")] == []  # not renamed
    assert len(list(d.glob(".*.jsonl"))) == 1  # the torn temporary file
    exp = HttpExporter(url, api_key="k", spool_dir=str(spool))  # the next process opens it
    try:
        assert list(d.glob(".*.jsonl")) == []
        assert [p.name for p in d.glob("*.owner")] == [f"{exp._spool.owner}.owner"]
    finally:
        exp.shutdown(1.0)
