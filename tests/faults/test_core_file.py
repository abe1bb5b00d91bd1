"""The file exporter on a full disk, under a file-size limit, and with concurrent writers.

Real file systems and real processes: a 64 KB tmpfs (CI runs as root), ``RLIMIT_FSIZE`` in a
subprocess, several processes appending to one file.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentlog
from agentlog._jsonl import read_jsonl


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "the file must end at a record boundary"
    return data.split(b"\n")[:-1]


def _assert_whole_records(path: Path) -> int:
    lines = _lines(path)
    assert all(lines), "no empty line"
    got = read_jsonl(path)
    assert got.errors == [] and not got.partial_tail
    assert len(got.records) == len(lines)
    return len(lines)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KB tmpfs: a disk that really fills up."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: mounting a tmpfs must work there")
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_leaves_whole_records_and_true_counts(
    tiny_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tiny_disk / "events.jsonl"
    agentlog.init(exporter="file", path=str(path), max_batch=40)
    total = 600  # ~190 KB of records for a 64 KB disk
    flushed = []
    with caplog.at_level(logging.WARNING, logger="agentlog"):
        for i in range(total):
            agentlog.track_tool_call("write", input={"i": i, "pad": "x" * 250})
            if i % 40 == 39:
                flushed.append(agentlog.flush(10))
    # flush() says True while batches fit, False once records fail to be written.
    assert flushed[0] is True and flushed[-1] is False
    on_disk = _assert_whole_records(path)
    st = agentlog.status()
    assert 0 < on_disk < total
    assert (st.observed, st.failed, st.dropped, st.pending) == (on_disk, total - on_disk, 0, 0)
    assert caplog.text.count("cannot write") == 1
    assert "Traceback" not in caplog.text
    # Space again (the file is cut back): the next records land on a line of their own.
    path.write_bytes(b"")
    agentlog.track_tool_call("after", input=1)
    assert agentlog.flush(10)
    assert _assert_whole_records(path) == 1


FSIZE = textwrap.dedent(
    """
    import json, resource, sys
    import agentlog

    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
    agentlog.init(exporter="file", path=sys.argv[1], max_batch=25)
    for i in range(500):
        agentlog.track_tool_call("write", input={"i": i, "pad": "y" * 200})
    flushed = agentlog.flush(10)
    st = agentlog.status()
    print(json.dumps({"observed": st.observed, "failed": st.failed, "dropped": st.dropped,
                      "flushed": flushed}))
    """
)


def test_a_file_size_limit_leaves_whole_records_and_true_counts(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", FSIZE, str(path)], capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    on_disk = _assert_whole_records(path)
    assert os.path.getsize(path) <= 40_000
    assert counts == {"observed": on_disk, "failed": 500 - on_disk, "dropped": 0, "flushed": False}
    assert done.stderr.count("cannot write") == 1 and "Traceback" not in done.stderr


WRITER = textwrap.dedent(
    """
    import sys
    import orjson
    from agentlog.exporters import FileExporter, RecordBatch

    path, who = sys.argv[1], int(sys.argv[2])
    pad = "z" * 150_000  # a write of several pages: its size grows while it is written
    for k in range(25):
        exp = FileExporter(path)  # each open looks at the tail while others write
        lines = [orjson.dumps({"who": who, "k": k, "j": j, "pad": pad}) for j in range(3)]
        assert exp.export(RecordBatch(lines, [None] * 3)).ok
        exp.shutdown()
    """
)


def test_concurrent_writers_never_add_an_empty_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(who)]) for who in range(4)
    ]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    assert _assert_whole_records(path) == 4 * 25 * 3
    got = {(r["who"], r["k"], r["j"]) for r in read_jsonl(path).records}
    assert len(got) == 300


HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.read()  # holds the lock until the test closes our stdin
    """
)


def test_a_lock_held_for_good_by_another_process_delays_but_never_stops_export(
    tmp_path: Path,
) -> None:
    import time

    from agentlog.exporters import FileExporter, RecordBatch

    path = tmp_path / "events.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        exp = FileExporter(path)
        started = time.monotonic()
        assert exp.export(RecordBatch([b'{"kind":"event"}'], [None])).ok
        assert time.monotonic() - started < 10
        exp.shutdown()
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    assert _assert_whole_records(path) == 1
