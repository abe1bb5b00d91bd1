from __future__ import annotations

import os
from pathlib import Path

import orjson

from agentlog._jsonl import read_jsonl
from agentlog.exporters import FileExporter, RecordBatch
from agentlog.exporters.file import rotated_files


def _batch(n: int, start: int = 0) -> RecordBatch:
    return RecordBatch(
        [orjson.dumps({"kind": "event", "i": start + i}) for i in range(n)], [None] * n
    )


def test_writes_one_line_per_record(tmp_path: Path) -> None:
    exp = FileExporter(tmp_path / "sub" / "events.jsonl")
    assert exp.export(_batch(3)).ok
    exp.shutdown()
    lines = (tmp_path / "sub" / "events.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line)["i"] for line in lines] == [0, 1, 2]


def test_rotation_keeps_every_record_in_order(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    exp = FileExporter(path, rotate_bytes=200)
    for k in range(10):
        exp.export(_batch(3, start=3 * k))
    exp.shutdown()
    assert len(rotated_files(path)) >= 3
    assert all(os.path.getsize(p) <= 200 for p in rotated_files(path))
    assert [r["i"] for r in read_jsonl(path).records] == list(range(30))


def test_torn_last_line_is_terminated_skipped_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"kind":"event","i":0}\n{"kind":"ev')  # a writer killed mid-line
    partial = read_jsonl(path)
    assert [r["i"] for r in partial.records] == [0] and partial.partial_tail
    exp = FileExporter(path)
    exp.export(_batch(2, start=1))
    exp.shutdown()
    read = read_jsonl(path)
    assert [r["i"] for r in read.records] == [0, 1, 2]
    assert len(read.errors) == 1 and "bad line" in read.errors[0]


def test_unwritable_path_fails_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = FileExporter(blocker / "events.jsonl").export(_batch(1))
    assert not result.ok and result.reason


def test_a_writer_killed_mid_stream_leaves_at_most_one_torn_line(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    path = tmp_path / "events.jsonl"
    script = (
        "import sys, orjson\n"
        "from agentlog.exporters import FileExporter, RecordBatch\n"
        "exp = FileExporter(sys.argv[1])\n"
        "line = orjson.dumps({'kind': 'event', 'pad': 'x' * 3000})\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    exp.export(RecordBatch([line] * 400, [None] * 400))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    while not path.exists() or path.stat().st_size < 5_000_000:
        pass  # the writer is busy: wait on the file growing, not on a timer
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    before = read_jsonl(path)
    assert len(before.errors) <= 1 and len(before.records) > 100
    exp = FileExporter(path)
    exp.export(_batch(1, start=7))
    exp.shutdown()
    after = read_jsonl(path)
    assert len(after.errors) <= 1 and not after.partial_tail
    assert after.records[-1] == {"kind": "event", "i": 7}
    assert len(after.records) == len(before.records) + 1
