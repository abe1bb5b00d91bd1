"""OTLP spans to agentlog records: sessions from conversation/session ids, events from spans.

Record ids are derived from the trace and span ids (a UUID 5 of both), never drawn: a batch
sent twice yields the same records, which the store keeps once, and a child's ``parent_id``
(the parent span's derived id) is right whether the parent arrives before, with, or after it.

Spans written by agentlog's own ``otlp`` exporter carry ``agentlog.*`` attributes and are read
back as the records they were made from (same ids, types, data), so ``otlp`` into this
collector gives the same timeline as ``http``.

Which span becomes what is documented in docs/otlp-ingest.md (keep the two in step).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .._ids import format_ts
from ._otlp_decode import Span
from ._otlp_genai import CONSUMED_PREFIXES, FIRST_CHUNK_EVENTS, llm_data, parse_json, tool_data

__all__ = ["Mapped", "TraceSessions", "event_id", "map_spans"]

_NS = uuid.UUID("6b1d0c4e-3f0a-5c1e-9a49-0e7c6d1f2a10")  # agentlog's namespace for span ids

_SESSION_KEYS = ("gen_ai.conversation.id", "session.id",
                 "traceloop.association.properties.session_id")  # fmt: skip
_USER_KEYS = ("user.id", "enduser.id", "traceloop.association.properties.user_id")
_RESOURCE_CONFIGS = ("service.name", "service.version", "service.namespace",
                     "deployment.environment.name", "deployment.environment")  # fmt: skip
_ASSOC = "traceloop.association.properties."
_LLM_OPS = ("chat", "text_completion", "generate_content", "embeddings")
_TYPES_OI = {"LLM": "llm_call", "EMBEDDING": "llm_call", "TOOL": "tool_call", "AGENT": "agent",
             "CHAIN": "chain", "RETRIEVER": "retriever", "RERANKER": "reranker",
             "GUARDRAIL": "guardrail", "EVALUATOR": "evaluator"}  # fmt: skip
_TYPES_OP = {"execute_tool": "tool_call", "invoke_agent": "agent", "create_agent": "agent",
             "invoke_workflow": "workflow"}  # fmt: skip
_TYPES_TRACELOOP = {"tool": "tool_call", "agent": "agent", "workflow": "workflow",
                    "task": "task"}  # fmt: skip
_LLM_REQUEST_TYPES = {"chat": "chat", "completion": "text_completion", "embedding": "embeddings"}
_KIND_NAMES = ("unspecified", "internal", "server", "client", "producer", "consumer")


def event_id(trace_id: str, span_id: str) -> str:
    return str(uuid.uuid5(_NS, trace_id + span_id))


class TraceSessions:
    """Which session a trace went to, remembered for spans of it that come in later batches
    without a session attribute of their own (bounded: the oldest traces are forgotten)."""

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._map: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, project: str, trace_id: str) -> str | None:
        with self._lock:
            return self._map.get((project, trace_id))

    def put(self, project: str, trace_id: str, session_id: str) -> None:
        with self._lock:
            self._map[(project, trace_id)] = session_id
            self._map.move_to_end((project, trace_id))
            while len(self._map) > self._size:
                self._map.popitem(last=False)


@dataclass
class Mapped:
    records: list[dict[str, Any]] = field(default_factory=list)
    owners: list[int | None] = field(default_factory=list)  # span index of each record
    rejected: dict[int, str] = field(default_factory=dict)  # span index: why


def _attr(span: Span, keys: tuple[str, ...]) -> str | None:
    for source in (span.attrs, span.resource):
        for key in keys:
            value = source.get(key)
            if value is not None and value != "":
                return str(value)
    return None


def _ts(ns: int) -> str:
    return format_ts(ns)


def map_spans(spans: list[Span], *, project: str, traces: TraceSessions) -> Mapped:
    out = Mapped()
    by_trace: dict[str, str] = {}
    for span in spans:
        if span.invalid is None and span.trace_id not in by_trace:
            sid = _attr(span, _SESSION_KEYS)
            if sid is not None:
                by_trace[span.trace_id] = sid
    sessions: dict[str, dict[str, Any]] = {}
    for i, span in enumerate(spans):
        if span.invalid is None and span.start_ns <= 0:
            span.invalid = f"span {span.name!r}: startTimeUnixNano is missing"
        if span.invalid is not None:
            out.rejected[i] = span.invalid
            continue
        sid = by_trace.get(span.trace_id) or traces.get(project, span.trace_id)
        if sid is None:
            sid = str(uuid.UUID(span.trace_id))  # one session per trace: the trace id itself
        by_trace[span.trace_id] = sid
        try:
            own = "agentlog.event.type" in span.attrs
            rec = _own(span) if own else None
            if rec is None:
                rec = _event(span, sid)
                if own:  # its data was cut: the conventions gave the data, the ids are its own
                    _own_ids(rec, span.attrs)
                else:
                    _fold_session(sessions.setdefault(sid, {"kind": "session", "id": sid}), span)
        except (TypeError, ValueError, KeyError, OverflowError, OSError) as exc:
            out.rejected[i] = f"span {span.name!r}: {exc}"
            continue
        out.records.append(rec)
        out.owners.append(i)
    for trace_id, sid in by_trace.items():
        traces.put(project, trace_id, sid)
    for rec in sessions.values():
        rec.pop("_root_end", None)
        if not rec["configs"]:
            del rec["configs"]
        out.records.insert(0, rec)  # sessions first: their events then find them
        out.owners.insert(0, None)
    return out


def _fold_session(rec: dict[str, Any], span: Span) -> None:
    start = _ts(span.start_ns)
    if rec.get("started_at") is None or start < rec["started_at"]:
        rec["started_at"] = start
    user = _attr(span, _USER_KEYS)
    if user is not None:
        rec["user"] = user
    configs = rec.get("configs")
    if configs is None:  # the resource's, once per session and batch
        res = span.resource
        configs = {k: res[k] for k in _RESOURCE_CONFIGS if k in res}
    for key, value in span.attrs.items():
        if key.startswith(_ASSOC) and key[len(_ASSOC) :] not in ("session_id", "user_id"):
            configs[key[len(_ASSOC) :]] = value
    meta = parse_json(span.attrs.get("metadata"))  # OpenInference's using_metadata()
    if isinstance(meta, dict):
        configs.update(meta)
    rec["configs"] = configs
    if span.parent_span_id is None:  # a root span: the session's run ends with it
        end = span.end_ns if span.end_ns >= span.start_ns else span.start_ns
        if end >= rec.get("_root_end", 0):
            rec["_root_end"] = end
            rec["ended_at"] = _ts(end)
            rec["status"] = "error" if _failed(span) else "success"
        if rec.get("name") is None:
            rec["name"] = str(span.attrs.get("gen_ai.agent.name") or span.name or "trace")


def _failed(span: Span) -> bool:
    return span.status_code == 2 or any(name == "exception" for name, _, _ in span.events)


def _error(span: Span) -> dict[str, Any] | None:
    if not _failed(span):
        return None
    exc = next((a for name, _, a in span.events if name == "exception"), {})
    message = str(exc.get("exception.message") or span.status_message or "")
    return {"type": str(exc.get("exception.type") or "Error"),
            "message": message or "span status ERROR",
            "stacktrace": exc.get("exception.stacktrace") or None}  # fmt: skip


def _kind(span: Span) -> tuple[str, str | None]:
    """(agentlog event type, GenAI operation for llm_call)."""
    a = span.attrs
    op = a.get("gen_ai.operation.name")
    if op in _LLM_OPS:
        return "llm_call", str(op)
    if op in _TYPES_OP:
        return _TYPES_OP[str(op)], None
    oi = a.get("openinference.span.kind")
    if isinstance(oi, str) and oi.upper() in _TYPES_OI:
        etype = _TYPES_OI[oi.upper()]
        return etype, ("embeddings" if oi.upper() == "EMBEDDING" else "chat")
    req = a.get("llm.request.type")
    if req in _LLM_REQUEST_TYPES:
        return "llm_call", _LLM_REQUEST_TYPES[str(req)]
    tl = a.get("traceloop.span.kind")
    if tl in _TYPES_TRACELOOP:
        return _TYPES_TRACELOOP[str(tl)], None
    if "gen_ai.request.model" in a or "gen_ai.prompt.0.role" in a:
        return "llm_call", "chat"
    return "span", None


def _name(span: Span, etype: str) -> str:
    a = span.attrs
    if etype == "tool_call":
        keys: tuple[str, ...] = ("gen_ai.tool.name", "tool.name", "traceloop.entity.name")
    elif etype == "agent":
        keys = ("gen_ai.agent.name", "agent.name", "traceloop.entity.name")
    else:
        keys = ("traceloop.entity.name",) if etype in ("workflow", "task") else ()
    for key in keys:
        if a.get(key):
            return str(a[key])
    return span.name or etype


def _rest(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if not k.startswith(CONSUMED_PREFIXES)}


def _event(span: Span, sid: str) -> dict[str, Any]:
    etype, op = _kind(span)
    if etype == "llm_call":
        data = llm_data(span.attrs, span.events, span.start_ns, op or "chat")
    elif etype == "tool_call":
        data = tool_data(span.attrs)
    else:
        data = {}
        for key, dst in (("input.value", "input"), ("output.value", "output"),
                         ("traceloop.entity.input", "input"),
                         ("traceloop.entity.output", "output")):  # fmt: skip
            if key in span.attrs and dst not in data:
                data[dst] = parse_json(span.attrs[key])
    data["attributes"] = _rest(span.attrs)
    data["span_kind"] = _KIND_NAMES[span.kind] if 0 <= span.kind < 6 else str(span.kind)
    if span.scope:
        data["scope"] = span.scope
    others = [{"name": n, "ts": _ts(t) if t > 0 else None, "attributes": a}
              for n, t, a in span.events if n != "exception" and n not in FIRST_CHUNK_EVENTS]  # fmt: skip
    if others:
        data["events"] = others
    return _event_record(span, sid, etype, _name(span, etype), data,
                         event_id(span.trace_id, span.span_id),
                         event_id(span.trace_id, span.parent_span_id)
                         if span.parent_span_id else None)  # fmt: skip


def _event_record(span: Span, sid: str | None, etype: str, name: str, data: dict[str, Any],
                  rid: str, parent: str | None, *, point: bool = False) -> dict[str, Any]:  # fmt: skip
    end = None if point or span.end_ns < span.start_ns else span.end_ns
    error = _error(span)
    return {
        "kind": "event", "id": rid, "session_id": sid, "parent_id": parent, "type": etype,
        "name": name, "ts": _ts(span.start_ns), "end_ts": None if end is None else _ts(end),
        "duration_ms": None if end is None else (end - span.start_ns) / 1e6,
        "status": "error" if error else "ok", "partial": False, "data": data, "error": error,
        "trace_id": span.trace_id, "span_id": span.span_id,
    }  # fmt: skip


# -- agentlog's own spans (exporters/otlp.py) back to the records they came from --------------


def _own_ids(rec: dict[str, Any], a: dict[str, Any]) -> None:
    rec["type"] = str(a["agentlog.event.type"])
    if a.get("agentlog.event.id"):
        rec["id"] = str(a["agentlog.event.id"])
    rec["parent_id"] = str(a["agentlog.parent_id"]) if a.get("agentlog.parent_id") else None
    rec["name"] = str(a["agentlog.event.name"]) if a.get("agentlog.event.name") else None


def _own(span: Span) -> dict[str, Any] | None:
    a = span.attrs
    etype = str(a["agentlog.event.type"])
    sid = a.get("session.id")
    if etype == "session":
        if not sid:
            return None
        rec: dict[str, Any] = {"kind": "session", "id": str(sid), "started_at": _ts(span.start_ns),
                               "ended_at": _ts(max(span.end_ns, span.start_ns))}  # fmt: skip
        for key, src in (("name", "agentlog.session.name"), ("user", "user.id"),
                         ("status", "agentlog.session.status"), ("summary", "agentlog.session.summary"),
                         ("parent_session_id", "agentlog.session.parent_id")):  # fmt: skip
            if a.get(src) is not None:
                rec[key] = str(a[src])
        configs = parse_json(a.get("agentlog.session.configs"))
        if isinstance(configs, dict):
            rec["configs"] = configs
        if isinstance(a.get("agentlog.session.tags"), list):
            rec["tags"] = [str(t) for t in a["agentlog.session.tags"]]
        return rec
    rid = str(a.get("agentlog.event.id") or event_id(span.trace_id, span.span_id))
    if etype == "score":
        if not sid:
            return None
        return {"kind": "score", "id": rid, "session_id": str(sid), "ts": _ts(span.start_ns),
                "event_id": a.get("agentlog.score.event_id"), "name": a.get("agentlog.score.name"),
                "value": a.get("agentlog.score.value"), "comment": a.get("agentlog.score.comment"),
                "source": a.get("agentlog.score.source") or "sdk"}  # fmt: skip
    if etype == "message":
        if not sid:
            return None
        return {"kind": "message", "id": rid, "session_id": str(sid), "ts": _ts(span.start_ns),
                "role": str(a.get("agentlog.message.role") or "user"),
                "format": str(a.get("agentlog.message.format") or "openai"),
                "blob": parse_json(a.get("agentlog.message.content"))}  # fmt: skip
    raw = a.get("agentlog.data", "{}")  # absent: the event had no data
    data = parse_json(raw) if isinstance(raw, str) and not raw.endswith("...[truncated]") else None
    if not isinstance(data, dict):
        return None  # cut: read from the conventions instead
    rec = _event_record(span, str(sid) if sid else None, etype,
                        str(a.get("agentlog.event.name") or "") or etype, data, rid,
                        str(a["agentlog.parent_id"]) if a.get("agentlog.parent_id") else None,
                        point=bool(a.get("agentlog.point_event")))  # fmt: skip
    if not a.get("agentlog.event.name"):
        rec["name"] = None
    rec["partial"] = bool(a.get("agentlog.partial"))
    if isinstance(a.get("agentlog.duration_ms"), (int, float)):
        rec["duration_ms"] = float(a["agentlog.duration_ms"])
    if etype == "error" and rec["error"] is None:
        rec["status"] = "ok"
    host = next(((t, s) for t, s, la in span.links if not la), None)
    rec["trace_id"], rec["span_id"] = host if host else (None, None)
    return rec
