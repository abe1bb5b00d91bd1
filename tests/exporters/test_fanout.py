from __future__ import annotations

import io
import threading

import agentlog
from agentlog.exporters import ConsoleExporter, ExportResult, MemoryExporter, RecordBatch


class Stuck:
    """An exporter that hangs until released: the slow one in a fan-out."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.exported = 0

    def export(self, batch: RecordBatch) -> ExportResult:
        self.release.wait(30)
        self.exported += len(batch)
        return ExportResult()

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        self.release.set()


class Counting(MemoryExporter):
    def __init__(self, expect: int) -> None:
        super().__init__()
        self.expect = expect
        self.done = threading.Event()

    def export(self, batch: RecordBatch) -> ExportResult:
        result = super().export(batch)
        if len(self.records) >= self.expect:
            self.done.set()
        return result


def test_a_stuck_exporter_does_not_starve_the_others() -> None:
    stuck, fast = Stuck(), Counting(expect=5)
    agentlog.init(exporter=[stuck, fast], max_batch=1)
    for i in range(5):
        agentlog.track_tool_call("t", input=i)
    assert fast.done.wait(10)
    assert stuck.exported == 0
    stuck.release.set()
    assert agentlog.flush(10)
    assert stuck.exported == 5


def test_console_exporter_writes_one_readable_line_per_record() -> None:
    out = io.StringIO()
    agentlog.init(exporter=ConsoleExporter(stream=out))
    with agentlog.session("demo"):
        agentlog.track_tool_call("search_kb", duration_ms=3.5)
        agentlog.track_error(ValueError("bad"))
    assert agentlog.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert "tool_call search_kb 3.50ms" in lines[1]
    assert "! ValueError: bad" in lines[2]
