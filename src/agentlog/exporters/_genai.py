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

__all__ = [
    "event_attributes",
    "json_attr",
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
    if etype == "llm_call":
        attrs["gen_ai.operation.name"] = "chat"
        if data.get("model"):
            attrs["gen_ai.request.model"] = str(data["model"])
        if data.get("provider"):
            attrs["gen_ai.provider.name"] = str(data["provider"])
            attrs["gen_ai.system"] = str(data["provider"])  # the older name, still widely read
        if rec.get("session_id"):
            attrs["gen_ai.conversation.id"] = str(rec["session_id"])
        usage = _dict(data.get("usage"))
        for src, dst in (("input_tokens", "input_tokens"), ("output_tokens", "output_tokens")):
            n = _number(usage.get(src))
            if n is not None:
                attrs[f"gen_ai.usage.{dst}"] = int(n)
        params = _dict(data.get("params"))
        for key in ("temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty"):
            n = _number(params.get(key))
            if n is not None:
                attrs[f"gen_ai.request.{key}"] = n
        ttft = _number(data.get("time_to_first_token_ms"))
        if ttft is not None:
            attrs["agentlog.llm.time_to_first_token_ms"] = float(ttft)
        if data.get("stream") is not None:
            attrs["agentlog.llm.stream"] = bool(data.get("stream"))
    elif etype == "tool_call":
        attrs["gen_ai.operation.name"] = "execute_tool"
        if rec.get("name"):
            attrs["gen_ai.tool.name"] = str(rec["name"])
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
    if rec.get("summary"):
        attrs["agentlog.session.summary"] = json_attr(rec["summary"], payload_limit or 1024)
    if rec.get("configs") and payload_limit:
        attrs["agentlog.session.configs"] = json_attr(rec["configs"], payload_limit)
    return attrs
