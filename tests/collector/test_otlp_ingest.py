"""POST /v1/traces: real OpenTelemetry SDK spans, protobuf and JSON, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import orjson
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.trace import Status as OtelStatus
from opentelemetry.trace import StatusCode, Tracer

from agentlog.store import Store

from .conftest import A
from .otlp_helpers import count_events, make_spans, otlp_json, protobuf, timeline

PB = {**A, "Content-Type": "application/x-protobuf"}
JS = {**A, "Content-Type": "application/json"}

INPUT = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
OUTPUT = [{"role": "assistant", "finish_reason": "tool_calls", "parts": [
    {"type": "text", "content": "Let me check."},
    {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]}]  # fmt: skip


def agent_run(tracer: Tracer) -> None:
    """An agent in the current GenAI conventions: invoke_agent > chat, execute_tool, a db span."""
    conv = {"gen_ai.conversation.id": "conv-1", "user.id": "alice"}
    with tracer.start_as_current_span("invoke_agent helper", attributes={
            **conv, "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"}):  # fmt: skip
        with tracer.start_as_current_span("chat gpt-4o", attributes={
            **conv, "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.input.messages": json.dumps(INPUT),
            "gen_ai.output.messages": json.dumps(OUTPUT),
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
            "gen_ai.usage.input_tokens": 21, "gen_ai.usage.output_tokens": 9,
            "gen_ai.usage.cache_read.input_tokens": 16, "gen_ai.usage.reasoning.output_tokens": 4,
            "gen_ai.request.temperature": 0.2, "gen_ai.request.stream": True,
            "gen_ai.response.time_to_first_chunk": 0.25,
        }):  # fmt: skip
            pass
        with tracer.start_as_current_span("execute_tool get_weather", attributes={
            **conv, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": '{"temp": 21}'}):  # fmt: skip
            with tracer.start_as_current_span("SELECT weather", attributes={"db.system": "sqlite"}):
                pass
        with tracer.start_as_current_span("chat gpt-4o", attributes={
                **conv, "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}) as s:  # fmt: skip
            s.record_exception(RuntimeError("rate limited"))
            s.set_status(OtelStatus(StatusCode.ERROR, "rate limited"))


def check_agent_run(store: Store) -> None:
    sess = store.get_session("conv-1", project="a")
    assert (sess.user, sess.name, sess.status) == ("alice", "helper", "success")
    assert sess.configs == {"service.name": "svc"}
    events = {(e.type, e.name): e for e in timeline(store, "conv-1")}
    agent = events[("agent", "helper")]
    assert agent.parent_id is None
    llm = next(e for e in timeline(store, "conv-1") if e.type == "llm_call" and e.status == "ok")
    assert llm.parent_id == agent.id
    d = llm.data
    assert (d["provider"], d["request_model"], d["model"]) == ("openai", "gpt-4o",
                                                               "gpt-4o-2024-08-06")  # fmt: skip
    assert d["messages"] == [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": "Weather in Paris?"}]  # fmt: skip
    assert d["response"] == "Let me check."
    assert d["tool_calls"] == [{"id": "call_1", "name": "get_weather",
                                "arguments": {"city": "Paris"}}]  # fmt: skip
    assert d["usage"] == {"input_tokens": 21, "output_tokens": 9, "total_tokens": 30,
                          "cache_read_tokens": 16, "reasoning_tokens": 4}  # fmt: skip
    assert (d["stream"], d["time_to_first_token_ms"]) == (True, 250.0)
    assert d["params"] == {"temperature": 0.2}
    tool = events[("tool_call", "get_weather")]
    assert tool.data["input"] == {"city": "Paris"} and tool.data["output"] == {"temp": 21}
    assert tool.parent_id == agent.id
    db = events[("span", "SELECT weather")]
    assert db.parent_id == tool.id and db.data["attributes"] == {"db.system": "sqlite"}
    failed = next(e for e in timeline(store, "conv-1") if e.status == "error")
    assert failed.error is not None
    assert (failed.error.type, failed.error.message) == ("RuntimeError", "rate limited")


def test_protobuf_gzip_maps_genai_spans(client: TestClient, store: Store) -> None:
    body = gzip.compress(protobuf(make_spans(agent_run)))
    r = client.post("/v1/traces", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(r.content)
    assert answer.partial_success.rejected_spans == 0
    check_agent_run(store)
    n = count_events(store)
    assert n == 5
    r = client.post("/v1/traces", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert r.status_code == 200 and count_events(store) == n  # a re-sent batch: nothing twice


def test_json_body_answers_json(client: TestClient, store: Store) -> None:
    r = client.post("/v1/traces", content=orjson.dumps(otlp_json(make_spans(agent_run))),
                    headers=JS)  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {}
    check_agent_run(store)


def test_child_before_parent_and_one_session_per_trace(client: TestClient, store: Store) -> None:
    def run(tracer: Tracer) -> None:
        with tracer.start_as_current_span("handle request"):
            with tracer.start_as_current_span("step one"):
                pass

    child, root = make_spans(run)  # ended child first
    for span in (child, root):
        r = client.post("/v1/traces", content=protobuf([span]), headers=PB)
        assert r.status_code == 200
    sid = str(uuid.UUID(format(root.context.trace_id, "032x")))
    sess = store.get_session(sid, project="a")
    assert (sess.name, sess.status) == ("handle request", "success")
    by_name = {e.name: e for e in timeline(store, sid)}
    assert by_name["step one"].parent_id == by_name["handle request"].id
    assert by_name["step one"].span_id == format(child.context.span_id, "016x")


def test_deprecated_genai_attributes(client: TestClient, store: Store) -> None:
    def run(tracer: Tracer) -> None:
        with tracer.start_as_current_span("openai.chat", attributes={
            "traceloop.association.properties.session_id": "s-old",
            "traceloop.association.properties.user_id": "bob",
            "traceloop.association.properties.tenant": "acme",
            "llm.request.type": "chat", "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-mini",
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "hi",
            "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "",
            "gen_ai.completion.0.tool_calls.0.id": "c1",
            "gen_ai.completion.0.tool_calls.0.name": "lookup",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"q": 1}',
            "gen_ai.usage.prompt_tokens": 3, "gen_ai.usage.completion_tokens": 2,
            "llm.usage.total_tokens": 5, "gen_ai.usage.cache_read_input_tokens": 1,
        }):  # fmt: skip
            pass

    assert (
        client.post("/v1/traces", content=protobuf(make_spans(run)), headers=PB).status_code == 200
    )
    sess = store.get_session("s-old", project="a")
    assert sess.user == "bob" and sess.configs == {"service.name": "svc", "tenant": "acme"}
    (llm,) = timeline(store, "s-old")
    assert llm.type == "llm_call" and llm.data["model"] == "gpt-4o-mini"
    assert llm.data["messages"] == [{"role": "user", "content": "hi"}]
    assert llm.data["tool_calls"] == [{"id": "c1", "name": "lookup", "arguments": {"q": 1}}]
    assert llm.data["usage"] == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5,
                                 "cache_read_tokens": 1}  # fmt: skip


def test_openinference_kinds(client: TestClient, store: Store) -> None:
    def run(tracer: Tracer) -> None:
        base = {"session.id": "s-oi", "user.id": "carol", "metadata": '{"env": "prod"}'}
        with tracer.start_as_current_span("agent", attributes={
                **base, "openinference.span.kind": "AGENT", "input.value": "go"}):  # fmt: skip
            for kind in ("CHAIN", "RETRIEVER", "RERANKER", "GUARDRAIL", "EVALUATOR"):
                with tracer.start_as_current_span(kind.lower(), attributes={
                        **base, "openinference.span.kind": kind, "output.value": '{"ok": true}'}):  # fmt: skip
                    pass
            with tracer.start_as_current_span("search", attributes={
                    **base, "openinference.span.kind": "TOOL", "tool.name": "search",
                    "input.value": '{"q": "x"}', "output.value": "found"}):  # fmt: skip
                pass
            with tracer.start_as_current_span("ChatCompletion", attributes={
                **base, "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                "llm.provider": "openai",
                "llm.input_messages.0.message.role": "user",
                "llm.input_messages.0.message.content": "hi",
                "llm.output_messages.0.message.role": "assistant",
                "llm.output_messages.0.message.content": "hello",
                "llm.token_count.prompt": 4, "llm.token_count.completion": 1,
                "llm.token_count.total": 5, "llm.token_count.completion_details.reasoning": 0,
            }):  # fmt: skip
                pass

    assert (
        client.post("/v1/traces", content=protobuf(make_spans(run)), headers=PB).status_code == 200
    )
    sess = store.get_session("s-oi", project="a")
    assert sess.user == "carol" and sess.configs == {"service.name": "svc", "env": "prod"}
    types = {e.name: e for e in timeline(store, "s-oi")}
    assert types["agent"].type == "agent" and types["agent"].data["input"] == "go"
    for kind in ("chain", "retriever", "reranker", "guardrail", "evaluator"):
        assert types[kind].type == kind and types[kind].data["output"] == {"ok": True}
    assert types["search"].type == "tool_call"
    assert types["search"].data["input"] == {"q": "x"} and types["search"].data["output"] == "found"
    llm = types["ChatCompletion"]
    assert (llm.type, llm.data["model"], llm.data["response"]) == ("llm_call", "gpt-4o", "hello")
    assert llm.data["messages"] == [{"role": "user", "content": "hi"}]
    assert llm.data["usage"] == {"input_tokens": 4, "output_tokens": 1, "total_tokens": 5,
                                 "reasoning_tokens": 0}  # fmt: skip


def _status(r: Any) -> Status:
    return Status.FromString(r.content)


def test_bad_bodies_get_a_clear_4xx(client: TestClient, store: Store) -> None:
    r = client.post("/v1/traces", content=b"\x0a\xff\xff\xff\xff\x0f garbage", headers=PB)
    assert r.status_code == 400 and "ExportTraceServiceRequest" in _status(r).message
    r = client.post("/v1/traces", content=b"{not json", headers=JS)
    assert r.status_code == 400 and "malformed JSON" in r.json()["message"]
    r = client.post("/v1/traces", content=b"x", headers={**A, "Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/x-protobuf" in r.json()["message"]
    r = client.post("/v1/traces", content=b"x", headers={**PB, "Content-Encoding": "br"})
    assert r.status_code == 415
    r = client.post("/v1/traces", content=b"", headers={"Content-Type": "application/x-protobuf"})
    assert r.status_code == 401
    assert count_events(store) == 0


def test_limits_of_ingest_apply(small_client: TestClient) -> None:
    """The small client allows 4096 bytes on the wire, 16384 decoded, 5 records per batch."""
    bomb = gzip.compress(b"\x00" * 3_000_000, 9)
    assert len(bomb) < 4096
    r = small_client.post("/v1/traces", content=bomb, headers={**PB, "Content-Encoding": "gzip"})
    assert r.status_code == 413 and "decompresses to more than" in _status(r).message
    r = small_client.post("/v1/traces", content=b"\x00" * 5000, headers=PB)
    assert r.status_code == 413

    def many(tracer: Tracer) -> None:
        for i in range(6):
            with tracer.start_as_current_span(f"s{i}"):
                pass

    r = small_client.post("/v1/traces", content=protobuf(make_spans(many)), headers=PB)
    assert r.status_code == 413 and "6 spans is over the limit of 5" in _status(r).message


def test_invalid_ids_are_rejected_alone(client: TestClient, store: Store) -> None:
    def run(tracer: Tracer) -> None:
        for name in ("good", "bad-trace", "bad-span"):
            with tracer.start_as_current_span(name, attributes={"session.id": "s-ids"}):
                pass

    doc = otlp_json(make_spans(run))
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["traceId"] = "0" * 32
    del spans[2]["spanId"]
    r = client.post("/v1/traces", content=orjson.dumps(doc), headers=JS)
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "traceId must be 16 bytes" in partial["errorMessage"]
    assert "spanId must be 8 bytes" in partial["errorMessage"]
    assert [e.name for e in timeline(store, "s-ids")] == ["good"]


def test_nul_in_attributes_is_stored_replaced(client: TestClient, store: Store) -> None:
    def run(tracer: Tracer) -> None:
        with tracer.start_as_current_span("n\x00ul", attributes={"session.id": "s-nul",
                                                                "k": "a\x00b"}):  # fmt: skip
            pass

    r = client.post("/v1/traces", content=protobuf(make_spans(run)), headers=PB)
    assert r.status_code == 200
    (ev,) = timeline(store, "s-nul")
    assert ev.name == "n\ufffdul" and ev.data["attributes"]["k"] == "a\ufffdb"
