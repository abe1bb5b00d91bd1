"""The collector is down and the spool cannot be written either: full, read-only, a file where
the directory should be, or a file-size limit. The exporter notices once, says so once, counts
what it could not keep as ``failed`` (what it did keep as ``spooled``: status() tells exactly
what is where) and keeps its pace: no retry loop per batch on the worker, no flush that waits
out a minute.

Real file systems: tmpfs mounts (root: CI runs as root) and ``RLIMIT_FSIZE`` in the agent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.collector.servers import free_port

from ._remote import agent_env, require_root, spool_files

AGENT = textwrap.dedent(
    """
    import json, logging, resource, sys, time
    import agentlog
    from agentlog._state import STATE

    url, spool, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if limit:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")
    agentlog.init(exporter="http", endpoint=url, spool_dir=spool, max_batch=50,
                  idle_flush=0.05, export_timeout=1.0, shutdown_timeout=1.0)
    start = time.monotonic()
    for s in range(40):
        with agentlog.session(f"job-{s}"):
            for i in range(10):
                agentlog.track_tool_call("t", input={"s": s, "i": i, "pad": "x" * 200}, output=i)
    agentlog.flush(1.0)
    took = time.monotonic() - start
    pipeline = STATE.pipeline
    agentlog.shutdown()
    pipeline._thread.join(10.0)
    st = pipeline.status()
    print(json.dumps({"took": took, "observed": st.observed, "spooled": st.spooled,
                      "failed": st.failed, "dropped": st.dropped, "pending": st.pending}))
    """
)
RECORDS = 40 * 12


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "mnt"
    d.mkdir()
    yield d
    subprocess.run(["umount", str(d)], capture_output=True)


def _mount(d: Path, opts: str) -> None:
    require_root("mounting a tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(d)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"mount -o {opts} failed: {done.stderr}")


@pytest.mark.parametrize("kind", ["full", "read-only", "file-in-place", "size-limit"])
def test_a_dead_spool_is_detected_once_and_costs_no_pace(
    kind: str, tmp_path: Path, mount_point: Path
) -> None:
    spool = mount_point / "spool"
    limit = 0
    if kind == "full":
        _mount(mount_point, "size=64k")
    elif kind == "read-only":
        _mount(mount_point, "ro,size=64k")
    elif kind == "file-in-place":
        spool.write_text("not a directory")
    else:
        limit = 10_000  # per file: smaller than a batch of 50, so every write meets EFBIG
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens: the collector is down
    out = subprocess.run(
        [sys.executable, "-c", AGENT, url, str(spool), str(limit)],
        capture_output=True, text=True, timeout=120, env=agent_env(),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    kept = (
        sum(len(p.read_bytes().splitlines()) for p in spool_files(spool)) if spool.is_dir() else 0
    )
    # recorded = delivered + spooled + dropped + failed, and spooled is what is on disk
    assert rep["observed"] == rep["dropped"] == rep["pending"] == 0
    assert rep["spooled"] == kept and rep["spooled"] + rep["failed"] == RECORDS
    assert rep["failed"] > 0
    if kind == "full":
        assert kept > 0  # what fitted before the disk refused is kept, and counted so
    assert rep["took"] < 3.0, rep  # 10 batches: no 5 s retry loop each, no long flush
    lines = out.stderr.splitlines()
    spool_lines = [line for line in lines if "cannot write to the spool" in line]
    assert len(spool_lines) == 1, out.stderr[-3000:]
    assert spool_lines[0].startswith("WARNING agentlog") and str(spool) in spool_lines[0]
    assert len([line for line in lines if "cannot reach" in line]) == 1, out.stderr[-3000:]
