"""agentlog records to OpenTelemetry span names and attributes (GenAI semantic conventions).

Ids are derived, never random, so records of one session that arrive in different batches (or
from different processes) land in one trace: the trace id comes from the session id, a span id
from the event id, and the session's root span id from the session id again.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timezone
from typing import Any

import orjson

from .._ids import parse_ts
from ._genai_messages import input_messages, output_messages, tool_definitions

__all__ = [
    "event_attributes",
    "json_attr",
    "message_attributes",
    "root_span_id",
    "session_attributes",
    "span_id_for",
    "span_name",
    "to_ns",
    "trace_id_for",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _digest(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")
    return value or 1  # an all-zero id is invalid in OpenTelemetry


def trace_id_for(session_id: str) -> int:
    """A session id that is a UUID is used as is (easy to find in a tracing UI); else a hash."""
    try:
        value = uuid.UUID(session_id).int
    except ValueError:
        return _digest("agentlog-session:" + session_id, 16)
    return value or 1


def root_span_id(session_id: str) -> int:
    return _digest("agentlog-root:" + session_id, 8)


def span_id_for(record_id: str) -> int:
    return _digest("agentlog-span:" + record_id, 8)


def to_ns(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = parse_ts(value)
    except ValueError:
        return None
    return ((dt - _EPOCH) // _MICRO) * 1000


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH


def json_attr(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=repr).decode()
    return text if len(text) <= limit else text[:limit] + "...[truncated]"


def span_name(rec: dict[str, Any]) -> str:
    etype = str(rec.get("type") or "event")
    name = rec.get("name")
    data = _dict(rec.get("data"))
    if etype == "llm_call":
        model = data.get("model")
        return f"chat {model}" if model else "chat"
    if etype == "tool_call":
        return f"execute_tool {name}" if name else "execute_tool"
    return str(name) if name else etype


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def event_attributes(rec: dict[str, Any], *, payload_limit: int) -> dict[str, Any]:
    """Attributes for one event record; payloads as JSON strings cut at ``payload_limit`` chars."""
    etype = str(rec.get("type") or "event")
    data = _dict(rec.get("data"))
    attrs: dict[str, Any] = {"agentlog.event.type": etype, "agentlog.event.id": str(rec.get("id"))}
    if rec.get("session_id"):
        attrs["session.id"] = str(rec["session_id"])
    if rec.get("name"):
        attrs["agentlog.event.name"] = str(rec["name"])
    if rec.get("partial"):
        attrs["agentlog.partial"] = True
    if rec.get("parent_id"):
        attrs["agentlog.parent_id"] = str(rec["parent_id"])
    if rec.get("status"):
        attrs["agentlog.event.status"] = str(rec["status"])
    dur = _number(rec.get("duration_ms"))
    if dur is not None:
        attrs["agentlog.duration_ms"] = float(dur)
    if etype == "llm_call":
        attrs.update(_llm_attributes(rec, data, payload_limit))
    elif etype == "tool_call":
        attrs["gen_ai.operation.name"] = "execute_tool"
        if rec.get("name"):
            attrs["gen_ai.tool.name"] = str(rec["name"])
        if data.get("call_id"):
            attrs["gen_ai.tool.call.id"] = str(data["call_id"])
        if rec.get("session_id"):
            attrs["gen_ai.conversation.id"] = str(rec["session_id"])
        if payload_limit and "input" in data:
            attrs["gen_ai.tool.call.arguments"] = json_attr(data["input"], payload_limit)
        if payload_limit and "output" in data:
            attrs["gen_ai.tool.call.result"] = json_attr(data["output"], payload_limit)
    elif etype == "decision":
        if data.get("choice") is not None:
            attrs["agentlog.decision.choice"] = json_attr(data["choice"], payload_limit or 256)
        conf = _number(data.get("confidence"))
        if conf is not None:
            attrs["agentlog.decision.confidence"] = float(conf)
    if payload_limit and data:
        attrs["agentlog.data"] = json_attr(data, payload_limit)
    return attrs


def session_attributes(rec: dict[str, Any], *, payload_limit: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {"session.id": str(rec.get("id")), "agentlog.event.type": "session"}
    for key, dst in (("user", "user.id"), ("name", "agentlog.session.name"),
                     ("status", "agentlog.session.status"),
                     ("parent_session_id", "agentlog.session.parent_id")):  # fmt: skip
        if rec.get(key):
            attrs[dst] = str(rec[key])
    if rec.get("tags"):
        attrs["agentlog.session.tags"] = [str(t) for t in rec["tags"]]
    if rec.get("summary"):
        attrs["agentlog.session.summary"] = json_attr(rec["summary"], payload_limit or 1024)
    if rec.get("configs") and payload_limit:
        attrs["agentlog.session.configs"] = json_attr(rec["configs"], payload_limit)
    return attrs


_USAGE_ATTRS = (("input_tokens", "gen_ai.usage.input_tokens"),
                ("output_tokens", "gen_ai.usage.output_tokens"),
                ("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
                ("cache_write_tokens", "gen_ai.usage.cache_creation.input_tokens"),
                ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
                ("total_tokens", "gen_ai.usage.total_tokens"))  # fmt: skip
_OI_USAGE = (("input_tokens", "prompt"), ("output_tokens", "completion"), ("total_tokens", "total"),
             ("cache_read_tokens", "prompt_details.cache_read"),
             ("cache_write_tokens", "prompt_details.cache_write"),
             ("reasoning_tokens", "completion_details.reasoning"))  # fmt: skip


def _llm_attributes(rec: dict[str, Any], data: dict[str, Any], limit: int) -> dict[str, Any]:
    """GenAI attributes of an llm_call, with OpenInference's flattened names beside them so
    Phoenix and Arize show the messages too."""
    op = str(data.get("operation") or "chat")
    attrs: dict[str, Any] = {"gen_ai.operation.name": op if op in (
        "chat", "text_completion", "generate_content", "embeddings") else "chat",
        "openinference.span.kind": "EMBEDDING" if op == "embeddings" else "LLM"}  # fmt: skip
    requested = data.get("request_model") or data.get("model")
    if requested:
        attrs["gen_ai.request.model"] = str(requested)
    if data.get("model"):
        attrs["gen_ai.response.model"] = attrs["llm.model_name"] = str(data["model"])
    if data.get("provider"):
        attrs["gen_ai.provider.name"] = attrs["llm.provider"] = str(data["provider"])
        attrs["gen_ai.system"] = str(data["provider"])  # the older name, still widely read
    if rec.get("session_id"):
        attrs["gen_ai.conversation.id"] = str(rec["session_id"])
    usage = _dict(data.get("usage"))
    for src, dst in _USAGE_ATTRS:
        n = _number(usage.get(src))
        if n is not None:
            attrs[dst] = int(n)
    for src, dst in _OI_USAGE:
        n = _number(usage.get(src))
        if n is not None:
            attrs[f"llm.token_count.{dst}"] = int(n)
    params = _dict(data.get("params"))
    for key in ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty",
                "seed", "top_k"):  # fmt: skip
        n = _number(params.get(key))
        if n is not None:
            attrs[f"gen_ai.request.{key}"] = n
    ttft = _number(data.get("time_to_first_token_ms"))
    if ttft is not None:
        attrs["agentlog.llm.time_to_first_token_ms"] = float(ttft)
        attrs["gen_ai.response.time_to_first_chunk"] = float(ttft) / 1000.0
    if data.get("stream") is not None:
        attrs["agentlog.llm.stream"] = attrs["gen_ai.request.stream"] = bool(data["stream"])
    if data.get("response_id"):
        attrs["gen_ai.response.id"] = str(data["response_id"])
    if not limit:  # capture off for this exporter: no prompts, answers or tool definitions
        return attrs
    inputs, system = input_messages(data.get("messages"), limit)
    outputs = output_messages(data.get("response"), data.get("tool_calls"), limit)
    tools = tool_definitions(params.get("tools") or data.get("tools"))
    for key, value in (("gen_ai.input.messages", inputs), ("gen_ai.output.messages", outputs),
                       ("gen_ai.system_instructions", system), ("gen_ai.tool.definitions", tools)):  # fmt: skip
        if value:
            attrs[key] = orjson.dumps(value, default=repr).decode()
    if system:
        inputs = [{"role": "system", "parts": system}, *inputs]
    for prefix, msgs in (("llm.input_messages", inputs), ("llm.output_messages", outputs)):
        attrs.update(_openinference(prefix, msgs))
    return attrs


def _openinference(prefix: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, msg in enumerate(messages):
        base = f"{prefix}.{i}.message"
        out[f"{base}.role"] = msg["role"]
        texts = [str(p.get("content") if p.get("type") == "text" else p.get("response", ""))
                 for p in msg["parts"] if p.get("type") in ("text", "tool_call_response")]  # fmt: skip
        if texts:
            out[f"{base}.content"] = "".join(texts)
        calls = [p for p in msg["parts"] if p.get("type") == "tool_call"]
        for j, call in enumerate(calls):
            tc = f"{base}.tool_calls.{j}.tool_call"
            if call.get("id"):
                out[f"{tc}.id"] = str(call["id"])
            out[f"{tc}.function.name"] = str(call.get("name") or "")
            args = call.get("arguments")
            out[f"{tc}.function.arguments"] = args if isinstance(args, str) else \
                orjson.dumps(args, default=repr).decode()  # fmt: skip
        resp = next((p for p in msg["parts"] if p.get("type") == "tool_call_response"), None)
        if resp is not None and resp.get("id"):
            out[f"{base}.tool_call_id"] = str(resp["id"])
    return out


def message_attributes(rec: dict[str, Any], *, payload_limit: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {"agentlog.event.type": "message", "agentlog.point_event": True,
                             "agentlog.event.id": str(rec.get("id"))}  # fmt: skip
    if rec.get("session_id"):
        attrs["session.id"] = str(rec["session_id"])
    for key in ("role", "format"):
        if rec.get(key):
            attrs[f"agentlog.message.{key}"] = str(rec[key])
    if payload_limit and rec.get("blob") is not None:  # JSON even for a string blob
        text = orjson.dumps(rec["blob"], default=repr).decode()
        attrs["agentlog.message.content"] = json_attr(text, payload_limit)
    return attrs
