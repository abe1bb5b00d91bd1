"""Fan-out (``exporter=[...]``): each destination's counts, one true global count, and a
shutdown that waits for each lane, then spools what it holds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

import agentlog
from agentlog.exporters import ExportResult, MemoryExporter, RecordBatch
from agentlog.exporters.http import HttpExporter


class Failing:
    name = "failing"

    def export(self, batch: RecordBatch) -> ExportResult:
        return ExportResult.failure("down")

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        pass


class Spooling(Failing):
    name = "disk"

    def __init__(self) -> None:
        self.kept = 0

    def export(self, batch: RecordBatch) -> ExportResult:
        self.kept += len(batch)
        return ExportResult(ok=False, spooled=True)

    def force_flush(self, timeout: float = 5.0) -> bool:
        return False  # records only on disk are not delivered


def test_a_record_counts_once_by_the_worst_that_happened_to_it() -> None:
    mem = MemoryExporter()
    agentlog.init(exporter=[mem, Failing()], max_batch=10)
    for i in range(25):
        agentlog.track_tool_call("t", input=i)
    assert agentlog.flush(10) is False
    st = agentlog.status()
    assert len(mem.records) == 25
    assert (st.observed, st.failed, st.spooled, st.dropped, st.pending) == (0, 25, 0, 0, 0)
    assert st.exporters["memory"].observed == 25 and st.exporters["memory"].failed == 0
    assert st.exporters["failing"].failed == 25 and st.exporters["failing"].observed == 0


def test_spooling_in_one_lane_is_counted_and_rejected_records_are_not_counted_twice() -> None:
    class Rejecting(MemoryExporter):
        def export(self, batch: RecordBatch) -> ExportResult:
            super().export(batch)
            return ExportResult(rejected=(0,))

    disk, mem, rej = Spooling(), MemoryExporter(), Rejecting()
    agentlog.init(exporter=[mem, disk, rej], max_batch=5)
    for i in range(20):
        agentlog.track_tool_call("t", input=i)
    assert agentlog.flush(10) is False
    st = agentlog.status()
    assert disk.kept == 20
    # Per batch of 5: the first record refused by one lane (failed), the others spooled.
    assert (st.observed, st.failed, st.spooled) == (0, 4, 16)
    assert st.observed + st.failed + st.spooled + st.dropped == 20
    assert st.exporters["disk"].spooled == 20
    assert st.exporters["memory"].observed == 20
    assert (st.exporters["rejecting"].observed, st.exporters["rejecting"].failed) == (16, 4)


def test_every_destination_delivering_is_observed() -> None:
    a, b = MemoryExporter(), MemoryExporter()
    agentlog.init(exporter=[a, b], max_batch=7)
    with agentlog.session("s") as s:
        for i in range(30):
            agentlog.track_tool_call("t", input=i)
    assert agentlog.flush(10) is True
    st = agentlog.status()
    assert (st.observed, st.failed, st.spooled) == (32, 0, 0)
    assert agentlog.status(s.id).observed == 32
    assert {k: v.observed for k, v in st.exporters.items()} == {"memory": 32, "memory-2": 32}


class _Slow(BaseHTTPRequestHandler):
    """A collector that takes the request and answers only when the test ends."""

    release: threading.Event
    started: threading.Event

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.started.set()
        self.release.wait(30)
        body = b'{"accepted": 0, "rejected": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_collector() -> Iterator[tuple[str, threading.Event]]:
    release, started = threading.Event(), threading.Event()
    handler = type("Handler", (_Slow,), {"release": release, "started": started})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", started
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _spooled_ids(spool: Path) -> list[str]:
    ids = []
    for f in spool.rglob("*"):
        if f.is_file():
            for line in f.read_bytes().splitlines():
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and rec.get("kind") == "event":
                    ids.append(rec["id"])
    return ids


def test_shutdown_waits_for_a_busy_lane_then_spools_what_it_holds(
    tmp_path: Path, slow_collector: tuple[str, threading.Event], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, started = slow_collector
    spool = tmp_path / "spool"
    http = HttpExporter(endpoint, spool_dir=str(spool))
    mem = MemoryExporter()
    agentlog.init(exporter=[http, mem], max_batch=10, shutdown_timeout=1.5)
    with caplog.at_level(logging.DEBUG, logger="agentlog"):
        for i in range(10):
            agentlog.track_tool_call("t", input=i)
        assert started.wait(10)  # the first batch is in flight, held by the collector
        for i in range(10, 40):
            agentlog.track_tool_call("t", input=i)  # three more batches queue on its lane
        assert agentlog.shutdown() is False
    st = agentlog.status()
    assert len(mem.records) == 40
    assert "closed" not in caplog.text and "Traceback" not in caplog.text
    assert sorted(_spooled_ids(spool)) == sorted(r["id"] for r in mem.records)
    assert (st.observed, st.failed, st.dropped, st.spooled) == (0, 0, 0, 40)
    assert st.exporters["memory"].observed == 40
    assert st.exporters["http"].spooled == 40 and st.exporters["http"].failed == 0
