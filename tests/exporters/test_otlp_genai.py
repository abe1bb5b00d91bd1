"""The otlp exporter's GenAI attributes: what an OpenTelemetry GenAI backend reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import agentlog
from agentlog.exporters import RecordBatch
from agentlog.exporters.otlp import OtlpExporter
from agentlog.testing import capture


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris? my key is sk-proj-abcdefghijklmnopqrstuvwxyz012345"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "c0", "content": "21C"},
]  # fmt: skip
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                           "parameters": {"type": "object"}}}]  # fmt: skip


def _spans(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keep = Keep()
    exporter = OtlpExporter(span_exporter=keep)
    assert exporter.export(RecordBatch.from_records(records)).ok
    exporter.shutdown()
    return {s.name: dict(s.attributes or {}) for s in keep.spans}


def _agent(capture_payloads: bool = True) -> tuple[str, list[dict[str, Any]]]:
    with capture(capture_payloads=capture_payloads) as cap:
        with agentlog.session("weather", user="alice") as s:
            agentlog.track_llm_call(
                model="gpt-4o-2024-08-06", provider="openai", messages=MESSAGES,
                response="It is 21C.", params={"temperature": 0.1, "tools": TOOLS},
                tool_calls=[{"id": "c1", "name": "get_weather", "arguments": {"city": "Nice"}}],
                usage={"input_tokens": 21, "output_tokens": 9, "cache_read_tokens": 16,
                       "cache_write_tokens": 2, "reasoning_tokens": 4},
                stream=True, time_to_first_token_ms=120.0,
            )  # fmt: skip
            agentlog.track_tool_call("get_weather", input={"city": "Paris"}, output="21C")
        records = cap.records
    for rec in records:  # the requested model, as provider integrations record it
        if rec.get("type") == "llm_call":
            rec["data"]["request_model"] = "gpt-4o"
    return s.id, records


def test_llm_call_span_follows_the_genai_conventions() -> None:
    sid, records = _agent()
    a = _spans(records)["chat gpt-4o-2024-08-06"]
    assert a["gen_ai.operation.name"] == "chat"
    assert (a["gen_ai.request.model"], a["gen_ai.response.model"]) == (
        "gpt-4o",
        "gpt-4o-2024-08-06",
    )
    assert a["gen_ai.provider.name"] == "openai" and a["gen_ai.conversation.id"] == sid
    assert json.loads(a["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    inputs = json.loads(a["gen_ai.input.messages"])
    assert inputs[0]["role"] == "user" and inputs[0]["parts"][0]["type"] == "text"
    assert "sk-proj-abcdefghijklmnopqrstuvwxyz012345" not in a["gen_ai.input.messages"]  # redacted
    assert inputs[1] == {"role": "assistant", "parts": [
        {"type": "tool_call", "id": "c0", "name": "get_weather", "arguments": {"city": "Paris"}}]}  # fmt: skip
    assert inputs[2] == {"role": "tool", "parts": [
        {"type": "tool_call_response", "id": "c0", "response": "21C"}]}  # fmt: skip
    assert json.loads(a["gen_ai.output.messages"]) == [{"role": "assistant", "parts": [
        {"type": "text", "content": "It is 21C."},
        {"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Nice"}}]}]  # fmt: skip
    assert json.loads(a["gen_ai.tool.definitions"]) == [{"type": "function", "name": "get_weather",
        "description": "Weather", "parameters": {"type": "object"}}]  # fmt: skip
    assert a["gen_ai.usage.input_tokens"] == 21 and a["gen_ai.usage.output_tokens"] == 9
    assert a["gen_ai.usage.cache_read.input_tokens"] == 16
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 2
    assert a["gen_ai.usage.reasoning.output_tokens"] == 4
    assert a["gen_ai.request.temperature"] == 0.1 and a["gen_ai.request.stream"] is True
    assert a["gen_ai.response.time_to_first_chunk"] == 0.12
    # OpenInference's names beside them, for Phoenix and Arize
    assert a["openinference.span.kind"] == "LLM"
    assert a["llm.input_messages.0.message.role"] == "system"
    assert a["llm.output_messages.0.message.content"] == "It is 21C."
    assert a["llm.token_count.prompt"] == 21


def test_tool_call_is_an_execute_tool_span() -> None:
    sid, records = _agent()
    t = _spans(records)["execute_tool get_weather"]
    assert (t["gen_ai.operation.name"], t["gen_ai.tool.name"]) == ("execute_tool", "get_weather")
    assert json.loads(t["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    assert t["gen_ai.tool.call.result"] == "21C" and t["gen_ai.conversation.id"] == sid


def test_capture_off_sends_no_content() -> None:
    @agentlog.tool
    def lookup(city: str) -> str:
        return "21C"

    @agentlog.llm(model="gpt-4o")
    def ask(messages: list[dict[str, Any]]) -> str:
        return "It is 21C."

    for payloads in (True, False):
        with capture(capture_payloads=payloads) as cap:
            with agentlog.session("weather"):
                lookup("Paris")
                ask(MESSAGES[:2])
            spans = _spans(cap.records)
        tool = spans["execute_tool lookup"]
        llm = next(a for name, a in spans.items() if name.startswith("chat"))
        content = ("gen_ai.tool.call.arguments" in tool, "gen_ai.tool.call.result" in tool,
                   "gen_ai.input.messages" in llm, "gen_ai.output.messages" in llm)  # fmt: skip
        assert content == (payloads,) * 4, (payloads, tool, llm)


def test_payload_limit_cuts_text_not_structure() -> None:
    _, records = _agent()
    keep = Keep()
    exporter = OtlpExporter(span_exporter=keep, payload_limit=5)
    exporter.export(RecordBatch.from_records(records))
    (a,) = [dict(s.attributes or {}) for s in keep.spans if s.name.startswith("chat")]
    out = json.loads(a["gen_ai.output.messages"])  # still valid JSON
    assert out[0]["parts"][0]["content"] == "It is...[truncated]"
    assert exporter.export(RecordBatch.from_records(records)).ok
