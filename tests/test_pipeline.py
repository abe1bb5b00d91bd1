from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest

import agentlog
from agentlog._encode import widen
from agentlog._ids import new_id
from agentlog._pipeline import Pipeline
from agentlog._redact import Redactor
from agentlog.exporters import ExportResult, MemoryExporter, RecordBatch


def _event(sid: str | None = "s1", data: bytes = b"{}") -> tuple[Any, ...]:
    ns = time.time_ns()
    return (ns, sid, None, "step", "x", ns, ns + 1000, "ok", False, data, None, None, None)


class Signalling:
    """Records batch sizes and lets a test wait for the n-th batch without sleeping."""

    def __init__(self, result: ExportResult | None = None, gate: threading.Event | None = None):
        self.sizes: list[int] = []
        self.cond = threading.Condition()
        self.result = result or ExportResult()
        self.gate = gate

    def export(self, batch: RecordBatch) -> ExportResult:
        if self.gate is not None:
            self.gate.wait(10)
        with self.cond:
            self.sizes.append(len(batch))
            self.cond.notify_all()
        return self.result

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.sizes) >= n, timeout)

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        pass


def test_batch_goes_out_at_max_batch_without_waiting_for_timers() -> None:
    exp = Signalling()
    p = Pipeline(exp, max_batch=10, idle_flush=60, max_delay=60)
    for _ in range(25):
        p.emit(_event())
    assert exp.wait_for(2)
    assert exp.sizes[:2] == [10, 10]
    p.shutdown(5)


def test_idle_flush_sends_a_quiet_buffer() -> None:
    exp = Signalling()
    p = Pipeline(exp, max_batch=1000, idle_flush=0.05, max_delay=60)
    for _ in range(3):
        p.emit(_event())
    assert exp.wait_for(1)
    assert exp.sizes == [3]
    p.shutdown(5)


def test_max_delay_sends_a_trickle_that_never_goes_idle() -> None:
    exp = Signalling()
    p = Pipeline(exp, max_batch=10**6, idle_flush=60, max_delay=0.1)
    deadline = time.monotonic() + 10
    sent = 0
    while not exp.sizes and time.monotonic() < deadline:
        p.emit(_event())  # never idle for even a millisecond
        sent += 1
        exp.wait_for(1, timeout=0.001)
    # idle_flush is 60 s and max_batch unreachable: only max_delay can have sent this batch
    assert exp.sizes and 1 < exp.sizes[0] <= sent
    p.shutdown(5)


def test_full_buffer_drops_and_counts_per_session() -> None:
    gate = threading.Event()
    exp = Signalling(gate=gate)
    p = Pipeline(exp, max_batch=5, idle_flush=60, max_delay=60, max_queue=10)
    for _ in range(40):
        p.emit(_event("a"))
    st = p.status()
    assert st.dropped >= 25 and st.pending + st.in_process + st.dropped == 40
    assert p.status("a").dropped == st.dropped and p.status("b").dropped == 0
    gate.set()
    assert p.flush(10)
    st = p.status()
    assert st.observed + st.dropped == 40 and st.pending == 0
    p.shutdown(5)


def test_flush_times_out_when_the_exporter_hangs() -> None:
    gate = threading.Event()
    p = Pipeline(Signalling(gate=gate), max_batch=5, idle_flush=60, max_delay=60)
    p.emit(_event())
    assert p.flush(0.2) is False
    gate.set()
    assert p.flush(10) is True
    p.shutdown(5)


def test_failed_and_rejected_records_are_counted() -> None:
    exp = Signalling(result=ExportResult(rejected=(1,)))
    p = Pipeline(exp, max_batch=3, idle_flush=60, max_delay=60)
    for sid in ("a", "b", "c"):
        p.emit(_event(sid))
    assert p.flush(10) is False  # one record was refused: not everything was delivered
    assert (p.status().observed, p.status().failed) == (2, 1)
    assert p.status("b").failed == 1 and p.status("a").observed == 1
    exp.result = ExportResult.failure("down")
    p.emit(_event("a"))
    assert p.flush(10) is False
    assert p.status("a").failed == 1
    p.shutdown(5)


def test_an_exporter_that_raises_is_counted_not_propagated() -> None:
    class Raising(Signalling):
        def export(self, batch: RecordBatch) -> ExportResult:
            raise RuntimeError("exporter bug")

    p = Pipeline(Raising(), max_batch=2, idle_flush=60, max_delay=60)
    p.emit(_event())
    assert p.flush(10) is False
    assert p.status().failed == 1
    p.shutdown(5)


def test_a_dead_worker_is_started_again_on_the_next_record(monkeypatch: pytest.MonkeyPatch) -> None:
    exp = MemoryExporter()
    p = Pipeline(exp, max_batch=2, idle_flush=60, max_delay=60)
    original = Pipeline._loop
    died = threading.Event()

    def dying(self: Pipeline) -> None:
        monkeypatch.setattr(Pipeline, "_loop", original)
        died.set()
        raise SystemExit  # what kills a thread: a BaseException escaping its loop

    monkeypatch.setattr(Pipeline, "_loop", dying)
    p.emit(_event())
    assert died.wait(10)
    assert p._thread is not None
    p._thread.join(10)
    p.emit(_event())  # revives the worker, which exports both records
    assert p.flush(10)
    assert len(exp.records) == 2
    p.shutdown(5)


def test_shutdown_is_idempotent_and_recording_after_it_is_a_no_op(recorded: Any) -> None:
    agentlog.track_error("before")
    assert agentlog.shutdown() is True
    assert agentlog.shutdown() is True
    agentlog.track_error("after")  # must not raise
    assert [e["data"] for e in recorded.exporter.records] == [{}]


def test_payloads_over_the_limit_are_truncated_with_a_marker() -> None:
    exp = MemoryExporter()
    p = Pipeline(exp, max_payload_bytes=500)
    p.emit(_event(data=b'{"input":"' + b"y" * 5000 + b'","output":1}'))
    assert p.flush(10)
    (rec,) = exp.records
    assert rec["data"]["output"] == 1 and rec["data"]["input"]["__agentlog_truncated__"] is True
    p.shutdown(5)


def test_redaction_applies_before_export(recorded: Any) -> None:
    agentlog.track_tool_call("login", input={"password": "hunter2", "user": "al"})
    (ev,) = recorded.events()
    assert ev["data"]["input"] == {"password": "[REDACTED]", "user": "al"}


def test_redact_callback_can_edit_or_drop_records() -> None:
    exp = MemoryExporter()

    def scrub(rec: dict[str, Any]) -> dict[str, Any] | None:
        if rec.get("name") == "drop-me":
            return None
        rec["data"]["scrubbed"] = True
        return rec

    agentlog.init(exporter=exp, redact_callback=scrub)
    agentlog.track_tool_call("keep")
    agentlog.track_tool_call("drop-me")
    assert agentlog.flush()
    assert [r["name"] for r in exp.records] == ["keep"] and exp.records[0]["data"]["scrubbed"]
    assert agentlog.status().failed == 1


def test_status_for_one_session_counts_only_its_records(recorded: Any) -> None:
    with agentlog.session("a") as a:
        agentlog.track_error("x")
    with agentlog.session("b"):
        agentlog.track_error("y")
        agentlog.track_error("z")
    assert agentlog.flush()
    assert agentlog.status(a.id).observed == 3  # start, event, end
    assert agentlog.status().observed == 7
    assert agentlog.status().updated_at is not None


def test_status_after_shutdown_keeps_the_final_counts(recorded: Any) -> None:
    with agentlog.session("s"):
        agentlog.track_error("x")
    agentlog.shutdown()
    assert agentlog.status().observed == 3
    agentlog.init(exporter="memory")
    assert agentlog.status().observed == 0


def test_a_batch_stuck_in_an_exporter_at_shutdown_is_counted_as_dropped() -> None:
    gate = threading.Event()
    exp = Signalling(gate=gate)
    agentlog.init(exporter=exp, max_batch=2, shutdown_timeout=0.3)
    agentlog.track_error("a")
    agentlog.track_error("b")  # a full batch: the worker takes it and hangs in export()
    agentlog.track_error("c")
    assert agentlog.shutdown() is False
    st = agentlog.status()
    assert st.dropped == 3 and st.observed == 0
    gate.set()


def test_redact_off_with_a_callback_runs_only_the_callback() -> None:
    exp = MemoryExporter()
    agentlog.init(exporter=exp, redact=False, redact_callback=lambda rec: rec)
    agentlog.track_tool_call("login", input={"password": "hunter2"})
    assert agentlog.flush()
    assert exp.records[0]["data"]["input"] == {"password": "hunter2"}


def test_redaction_in_a_batch_of_compact_records_is_that_of_each_record_alone() -> None:
    # A batch the encoder writes in one piece (compact records, one second, plain): the record
    # with a secret is walked and masked as it would be in a batch of its own.
    ns = (time.time_ns() // 10**9) * 10**9
    datas = [b'{"input":{"q":"x"},"output":1}', b'{"input":{"api_key":"k-1","q":"sk-' +
             b"a" * 24 + b'"},"output":null}', "{\"q\":\"日本\"}".encode()]  # fmt: skip
    raw = [(new_id(ns + i * 1000), "s1", None, "tool_call", "t", ns + i * 1000, ns + i * 1000 + 900,
            datas[i % 3]) for i in range(30)]  # fmt: skip
    p = Pipeline(MemoryExporter(), redactor=Redactor())
    together = p.encode(raw)
    alone = [p.encode([widen(r)]).lines[0] for r in raw]
    assert together.lines == alone and together.session_ids == ["s1"] * 30
    masked = orjson.loads(together.lines[1])["data"]["input"]
    assert masked == {"api_key": "[REDACTED]", "q": "[REDACTED]"}
    p.shutdown(1)
