from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import agentlog
from tests.conftest import Recorded


def test_events_carry_the_active_opentelemetry_span(recorded: Recorded) -> None:
    tracer = TracerProvider().get_tracer("test")  # a local provider: the global one stays unset
    with tracer.start_as_current_span("outer") as span:
        agentlog.track_tool_call("t")
    ctx = span.get_span_context()
    (ev,) = recorded.events()
    assert ev["trace_id"] == f"{ctx.trace_id:032x}" and ev["span_id"] == f"{ctx.span_id:016x}"


def test_no_active_span_means_null_ids(recorded: Recorded) -> None:
    agentlog.track_tool_call("t")
    (ev,) = recorded.events()
    assert ev["trace_id"] is None and ev["span_id"] is None


def test_agentlog_never_sets_the_global_tracer_provider(recorded: Recorded) -> None:
    before = trace.get_tracer_provider()
    agentlog.track_tool_call("t")
    assert agentlog.flush()
    assert trace.get_tracer_provider() is before
    assert not isinstance(before, TracerProvider)
