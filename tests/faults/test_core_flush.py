"""``flush(timeout)`` tells the truth: True only when every record recorded before the call
reached its destination, after waiting up to ``timeout`` (not ``max_delay``)."""

from __future__ import annotations

import threading
import time

import agentlog
from agentlog.exporters import ExportResult, RecordBatch


class Behind:
    """An exporter that accepts a batch at once and delivers it ``lag`` seconds later, on its
    own thread (like a client with its own send queue); ``force_flush`` waits for delivery."""

    def __init__(self, lag: float) -> None:
        self.lag = lag
        self.delivered = 0
        self.accepted = 0
        self.cond = threading.Condition()
        self.stop = threading.Event()

    def export(self, batch: RecordBatch) -> ExportResult:
        with self.cond:
            self.accepted += len(batch)
        threading.Thread(target=self._deliver, args=(len(batch),), daemon=True).start()
        return ExportResult()

    def _deliver(self, n: int) -> None:
        self.stop.wait(self.lag)  # the time the far end takes
        with self.cond:
            self.delivered += n
            self.cond.notify_all()

    def force_flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.delivered < self.accepted:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stop.set()


def test_flush_waits_its_whole_timeout_for_delivery_not_max_delay() -> None:
    exp = Behind(lag=1.0)
    agentlog.init(exporter=exp, max_delay=0.2, idle_flush=0.1)
    for i in range(5):
        agentlog.track_tool_call("t", input=i)
    assert agentlog.flush(timeout=10.0) is True
    assert exp.delivered == 5


def test_flush_is_false_when_the_exporter_says_records_are_not_delivered() -> None:
    exp = Behind(lag=30.0)
    agentlog.init(exporter=exp, max_delay=0.3)
    agentlog.track_tool_call("t", input=1)
    started = time.monotonic()
    assert agentlog.flush(timeout=1.0) is False
    assert time.monotonic() - started < 5
    assert exp.delivered == 0


def test_flush_is_false_when_a_record_failed() -> None:
    class Down(Behind):
        def export(self, batch: RecordBatch) -> ExportResult:
            return ExportResult.failure("down")

    agentlog.init(exporter=Down(lag=0))
    agentlog.track_tool_call("t", input=1)
    assert agentlog.flush(5.0) is False
    assert agentlog.status().failed == 1
    agentlog.init(exporter=Behind(lag=0))
    agentlog.track_tool_call("t", input=2)
    assert agentlog.flush(5.0) is True  # a fresh pipeline that delivers everything
