"""Shutdown against a collector that accepts connections but never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

import agentlog
from agentlog._state import STATE
from agentlog._stats import Stats
from agentlog.exporters import ExportResult, RecordBatch
from agentlog.exporters.http import HttpExporter


class SilentCollector:
    """Accepts every connection and reads nothing back: each request hangs until its timeout."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone won't
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()
        self._thread.join(5.0)


@pytest.fixture
def silent() -> Iterator[SilentCollector]:
    srv = SilentCollector()
    yield srv
    srv.close()


def _batch(n: int = 3) -> RecordBatch:
    recs = [{"v": 1, "kind": "event", "id": f"e{i}", "session_id": "s1"} for i in range(n)]
    return RecordBatch.from_records(recs)


def _spooled_ids(directory: Path) -> list[str]:
    return [
        orjson.loads(line)["id"]
        for f in sorted(directory.rglob("*.jsonl"), key=lambda p: p.name)
        for line in f.read_bytes().splitlines()
        if line
    ]


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        tick.wait(0.01)


def _export_in_flight(
    silent: SilentCollector, spool: Path
) -> tuple[HttpExporter, threading.Thread, list[ExportResult]]:
    """An exporter whose export() of three records is waiting on the silent collector."""
    # timeout far beyond what the test waits: only abandoning the request can pass it
    exp = HttpExporter(silent.url, spool_dir=str(spool), timeout=30.0, retry_deadline=0.5)
    exp.bind_stats(Stats())
    out: list[ExportResult] = []
    t = threading.Thread(target=lambda: out.append(exp.export(_batch())), daemon=True)
    t.start()
    assert silent.accepted.wait(10.0)
    return exp, t, out


def test_shutdown_abandons_a_request_the_collector_never_answers(
    silent: SilentCollector, tmp_path: Path
) -> None:
    exp, t, out = _export_in_flight(silent, tmp_path / "spool")
    start = time.monotonic()
    exp.shutdown(1.0)
    t.join(5.0)
    assert time.monotonic() - start < 3.0
    assert out and out[0].spooled and not out[0].ok
    assert _spooled_ids(tmp_path / "spool") == ["e0", "e1", "e2"]


def test_spool_during_an_abandoned_send_keeps_one_copy(
    silent: SilentCollector, tmp_path: Path
) -> None:
    exp, t, out = _export_in_flight(silent, tmp_path / "spool")
    assert exp.spool(_batch())  # the pipeline hands over its in-flight batch (re-encoded)
    exp.shutdown(1.0)
    t.join(5.0)
    assert out and out[0].spooled
    assert _spooled_ids(tmp_path / "spool") == ["e0", "e1", "e2"]


def test_init_shutdown_with_a_silent_collector_spools_within_shutdown_timeout(
    silent: SilentCollector, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    agentlog.init(exporter="http", endpoint=silent.url, spool_dir=str(spool), shutdown_timeout=1.0)
    with agentlog.session("job"):
        agentlog.track_tool_call("t", input={"q": 1}, output=2)
    assert silent.accepted.wait(10.0)
    pipeline = STATE.pipeline  # status() after shutdown reports no pipeline
    assert pipeline is not None
    start = time.monotonic()
    agentlog.shutdown()
    assert time.monotonic() - start < 3.0  # not export_timeout (10 s)
    _wait(lambda: len(_spooled_ids(spool)) >= 3, timeout=3.0)
    lines = [line for f in spool.rglob("*.jsonl") for line in f.read_bytes().splitlines()]
    assert len(lines) == 3 == len(set(lines))  # session start, tool call, session end: once each
    _wait(lambda: pipeline.status().spooled == 3, timeout=3.0)
