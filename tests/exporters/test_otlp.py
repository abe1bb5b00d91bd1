from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk.trace import TracerProvider

import agentlog
from agentlog import TextEvent
from agentlog._pipeline import Pipeline
from agentlog._state import STATE
from agentlog._stats import Stats
from agentlog.exporters import RecordBatch
from agentlog.exporters.otlp import OtlpExporter


def _value(v: AnyValue) -> Any:
    return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None


class Receiver:
    """A real OTLP/HTTP traces endpoint: decodes the protobuf, keeps spans and resources."""

    def __init__(self, port: int = 0) -> None:
        self.spans: list[PbSpan] = []
        self.resources: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                with receiver.lock:
                    receiver.paths.append(self.path)
                    for rs in req.resource_spans:
                        receiver.resources.append(
                            {a.key: _value(a.value) for a in rs.resource.attributes}
                        )
                        for ss in rs.scope_spans:
                            receiver.spans.extend(ss.spans)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def by_name(self) -> dict[str, PbSpan]:
        with self.lock:
            return {s.name: s for s in self.spans}

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def attrs(span: PbSpan) -> dict[str, Any]:
    return {a.key: _value(a.value) for a in span.attributes}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _agent_run() -> str:
    @agentlog.tool
    def search_kb(query: str) -> list[str]:
        return ["doc1"]

    @agentlog.trace(type="step", name="plan")
    def plan() -> None:
        search_kb("reset password")
        agentlog.track_llm_call(
            model="gpt-4o", provider="openai", messages=[{"role": "user", "content": "hi"}],
            response="hello", usage={"input_tokens": 12, "output_tokens": 5},
            params={"temperature": 0.2}, duration_ms=40.0,
        )  # fmt: skip
        agentlog.add_event(TextEvent(text="user switched to dark mode"))

    with agentlog.session("Support - Password Reset", user="alice") as s:
        plan()
        agentlog.track_error(RuntimeError("backend flaked"))
        return s.id


def test_a_session_becomes_one_trace_with_a_root_span(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    sid = _agent_run()
    assert agentlog.flush(10.0)
    spans = receiver.by_name()
    root = spans["Support - Password Reset"]
    assert root.parent_span_id == b""
    assert {s.trace_id for s in spans.values()} == {uuid.UUID(sid).bytes}
    assert attrs(root)["session.id"] == sid
    assert attrs(root)["user.id"] == "alice"
    assert receiver.paths[0] == "/v1/traces"


def test_events_nest_under_their_parent_span(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    _agent_run()
    assert agentlog.flush(10.0)
    spans = receiver.by_name()
    root, plan = spans["Support - Password Reset"], spans["plan"]
    assert plan.parent_span_id == root.span_id
    assert spans["execute_tool search_kb"].parent_span_id == plan.span_id
    assert spans["chat gpt-4o"].parent_span_id == plan.span_id
    assert spans["RuntimeError"].parent_span_id == root.span_id


def test_llm_and_tool_spans_carry_genai_attributes(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    sid = _agent_run()
    assert agentlog.flush(10.0)
    spans = receiver.by_name()
    llm = attrs(spans["chat gpt-4o"])
    assert llm["gen_ai.operation.name"] == "chat"
    assert llm["gen_ai.request.model"] == "gpt-4o"
    assert llm["gen_ai.provider.name"] == "openai"
    assert llm["gen_ai.usage.input_tokens"] == 12
    assert llm["gen_ai.usage.output_tokens"] == 5
    assert llm["gen_ai.request.temperature"] == 0.2
    assert llm["session.id"] == sid
    assert llm["user.id"] == "alice"
    assert spans["chat gpt-4o"].kind == PbSpan.SPAN_KIND_CLIENT
    tool = attrs(spans["execute_tool search_kb"])
    assert tool["gen_ai.operation.name"] == "execute_tool"
    assert tool["gen_ai.tool.name"] == "search_kb"
    assert "reset password" in tool["gen_ai.tool.call.arguments"]


def test_point_events_are_zero_length_spans(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    _agent_run()
    assert agentlog.flush(10.0)
    text = receiver.by_name()["text"]
    assert text.start_time_unix_nano == text.end_time_unix_nano
    assert attrs(text)["agentlog.point_event"] is True
    assert "dark mode" in attrs(text)["agentlog.data"]


def test_errors_set_error_status_and_an_exception_event(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    _agent_run()
    assert agentlog.flush(10.0)
    err = receiver.by_name()["RuntimeError"]
    assert err.status.code == err.status.STATUS_CODE_ERROR
    [event] = err.events
    assert event.name == "exception"
    ev = {a.key: _value(a.value) for a in event.attributes}
    assert ev["exception.type"] == "RuntimeError"
    assert ev["exception.message"] == "backend flaked"


def _rec(**kw: Any) -> dict[str, Any]:
    base = {"v": 1, "kind": "event", "parent_id": None, "type": "step", "name": None,
            "end_ts": None, "status": "ok", "partial": False, "data": {}, "error": None,
            "trace_id": None, "span_id": None}  # fmt: skip
    base.update(kw)
    return base


def test_batches_from_two_processes_land_in_one_trace(receiver: Receiver) -> None:
    sid = "my-own-session-id"
    start = {"v": 1, "kind": "session", "id": sid, "name": "job", "user": "bob",
             "configs": None, "status": "running", "summary": None,
             "started_at": "2026-01-01T00:00:00.000000Z", "ended_at": None,
             "parent_session_id": None}  # fmt: skip
    child = _rec(id="e-child", session_id=sid, parent_id="e-parent", name="inner",
                 ts="2026-01-01T00:00:01.000000Z", end_ts="2026-01-01T00:00:02.000000Z")  # fmt: skip
    parent = _rec(id="e-parent", session_id=sid, name="outer",
                  ts="2026-01-01T00:00:00.500000Z", end_ts="2026-01-01T00:00:03.000000Z")  # fmt: skip
    end = dict(start, status="success", ended_at="2026-01-01T00:00:04.000000Z")
    first = OtlpExporter(receiver.url)
    assert first.export(RecordBatch.from_records([start, child])).ok
    first.shutdown()
    second = OtlpExporter(receiver.url)  # another process: no memory of the first batch
    assert second.export(RecordBatch.from_records([parent, end])).ok
    second.shutdown()
    spans = receiver.by_name()
    assert len({s.trace_id for s in spans.values()}) == 1
    assert spans["inner"].parent_span_id == spans["outer"].span_id
    assert spans["outer"].parent_span_id == spans["job"].span_id
    assert spans["job"].start_time_unix_nano == 1767225600 * 10**9
    assert spans["job"].end_time_unix_nano == 1767225604 * 10**9


def test_the_global_tracer_provider_is_never_touched(receiver: Receiver) -> None:
    before = otel_trace.get_tracer_provider()
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    _agent_run()
    assert agentlog.flush(10.0)
    assert otel_trace.get_tracer_provider() is before
    assert not isinstance(otel_trace.get_tracer_provider(), TracerProvider)


def test_a_host_span_becomes_a_link_not_the_parent(receiver: Receiver) -> None:
    host = TracerProvider().get_tracer("host")
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    with host.start_as_current_span("host-request") as hspan:
        _agent_run()
    assert agentlog.flush(10.0)
    spans = receiver.by_name()
    plan = spans["plan"]
    assert plan.parent_span_id == spans["Support - Password Reset"].span_id
    assert [link.span_id for link in plan.links] == [
        hspan.get_span_context().span_id.to_bytes(8, "big")
    ]


def test_standard_otel_endpoint_variable_is_honoured(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "support-bot")
    agentlog.init(exporter="otlp")
    _agent_run()
    assert agentlog.flush(10.0)
    assert "plan" in receiver.by_name()
    assert receiver.resources[0]["service.name"] == "support-bot"


def test_a_record_that_cannot_be_converted_is_rejected_alone(receiver: Receiver) -> None:
    exp = OtlpExporter(receiver.url)
    good = _rec(id="e1", session_id="s", name="fine", ts="2026-01-01T00:00:00.000000Z")
    bad = _rec(id="e2", session_id="s", name="no-time", ts="yesterday")
    result = exp.export(RecordBatch.from_records([good, bad]))
    exp.shutdown()
    assert result.ok and result.rejected == (1,)
    assert list(receiver.by_name()) == ["fine"]


def test_an_unreachable_receiver_fails_the_batch_without_raising(tmp_path: Path) -> None:
    receiver = Receiver()
    url = receiver.url
    receiver.stop()
    exp = OtlpExporter(url, timeout=0.5)
    result = exp.export(
        RecordBatch.from_records([_rec(id="e1", session_id="s", ts="2026-01-01T00:00:00Z")])
    )
    exp.shutdown()
    assert not result.ok


# -- down, then up: the spool -----------------------------------------------------------------


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        tick.wait(0.02)


def _down_port() -> int:
    r = Receiver()
    port = r.httpd.server_address[1]
    r.stop()
    return port


def _span_ids(receiver: Receiver) -> Counter[bytes]:
    with receiver.lock:
        return Counter(s.span_id for s in receiver.spans)


def test_spans_for_a_down_endpoint_are_spooled_then_each_arrives_once(tmp_path: Path) -> None:
    port = _down_port()
    spool = tmp_path / "spool"
    agentlog.init(
        exporter="otlp", endpoint=f"http://127.0.0.1:{port}", spool_dir=str(spool),
        export_timeout=0.5,
    )  # fmt: skip
    _agent_run()
    _agent_run()
    assert agentlog.flush(10.0) is False  # everything is only spooled: nothing delivered yet
    pipeline = STATE.pipeline
    assert pipeline is not None
    spooled = pipeline.status().spooled
    assert spooled > 0 and list(spool.rglob("*.jsonl"))
    receiver = Receiver(port)
    try:
        _wait(lambda: pipeline.status().spooled == 0)
        st = pipeline.status()
        assert st.observed == spooled and st.failed == 0
        ids = _span_ids(receiver)
        assert len(ids) == 2 * 6 and set(ids.values()) == {1}  # 2 sessions: root + 5 children
        assert not list(spool.rglob("*.jsonl"))
    finally:
        agentlog.shutdown()
        receiver.stop()


def test_spans_spooled_by_one_process_are_sent_by_the_next(tmp_path: Path) -> None:
    port = _down_port()
    url = f"http://127.0.0.1:{port}"
    recs = [
        _rec(id=f"e{i}", session_id="s", name=f"step{i}", ts="2026-01-01T00:00:00Z")
        for i in range(3)
    ]
    first = OtlpExporter(url, timeout=0.5, spool_dir=str(tmp_path / "spool"), backoff_base=0.05)
    first.bind_stats(Stats())
    result = first.export(RecordBatch.from_records(recs))
    first.shutdown(1.0)
    assert result.spooled and not result.ok
    receiver = Receiver(port)
    stats = Stats()
    second = OtlpExporter(url, timeout=2.0, spool_dir=str(tmp_path / "spool"), backoff_base=0.05)
    try:
        second.bind_stats(stats)
        _wait(lambda: stats.totals["observed"] == 3)
        assert sorted(receiver.by_name()) == ["step0", "step1", "step2"]
        assert set(_span_ids(receiver).values()) == {1}
    finally:
        second.shutdown(1.0)
        receiver.stop()


def test_a_spooled_batch_resent_before_the_caller_counts_it_is_counted_once(
    tmp_path: Path,
) -> None:
    """The exporting thread may be descheduled for any time after ``export()`` returns: the
    drainer may deliver the batch before the pipeline looks at the result."""
    port = _down_port()
    recs = [
        _rec(id=f"e{i}", session_id="s", name=f"step{i}", ts="2026-01-01T00:00:00Z")
        for i in range(2)
    ]
    exp = OtlpExporter(
        f"http://127.0.0.1:{port}", timeout=0.5, spool_dir=str(tmp_path / "spool"),
        backoff_base=0.05,
    )  # fmt: skip
    pipeline = Pipeline(exp)  # binds its stats; its _count is how the worker counts a result
    batch = RecordBatch.from_records(recs)
    result = exp.export(batch)
    assert result.spooled
    receiver = Receiver(port)
    try:
        st = pipeline.stats
        # The drainer unlinks the file before it counts: wait for its count, not the file.
        _wait(lambda: st.totals["observed"] == 2)  # delivered while the worker "sleeps"
        pipeline._count(batch, result)
        assert st.totals["observed"] == 2 and st.totals["spooled"] == 0
        assert st.sessions["s"]["observed"] == 2 and st.sessions["s"]["spooled"] == 0
    finally:
        exp.shutdown(1.0)
        receiver.stop()


def test_a_malformed_otlp_endpoint_is_refused_at_init() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        agentlog.init(exporter="otlp", endpoint="not a url")


def test_scores_are_point_spans_under_their_session(receiver: Receiver) -> None:
    agentlog.init(exporter="otlp", endpoint=receiver.url)
    with agentlog.session("scored") as s:
        agentlog.score("helpful", 4, comment="solved it")
    assert agentlog.flush(10.0)
    assert agentlog.status().failed == 0
    spans = receiver.by_name()
    score = spans["score helpful"]
    assert score.parent_span_id == spans["scored"].span_id
    assert score.start_time_unix_nano == score.end_time_unix_nano
    a = attrs(score)
    assert (a["agentlog.score.name"], a["agentlog.score.value"], a["session.id"]) == (
        "helpful", 4, s.id)  # fmt: skip
    assert a["agentlog.score.comment"] == "solved it"
