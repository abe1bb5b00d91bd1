"""Spans made by the real OpenTelemetry SDK, encoded as an OTLP request (protobuf or JSON)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer

from agentlog.store import Store


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def make_spans(body: Callable[[Tracer], None], **resource: Any) -> list[ReadableSpan]:
    """Run ``body`` with a tracer of a private provider; the spans it ended, in end order."""
    keep = Keep()
    tp = TracerProvider(resource=Resource.create({"service.name": "svc", **resource}))
    tp.add_span_processor(SimpleSpanProcessor(keep))
    body(tp.get_tracer("test"))
    tp.shutdown()
    return keep.spans


def protobuf(spans: list[ReadableSpan]) -> bytes:
    return bytes(encode_spans(spans).SerializeToString())


def otlp_json(spans: list[ReadableSpan]) -> dict[str, Any]:
    """OTLP/JSON as the spec has it: lowerCamelCase, ids in hex (protobuf's mapping gives
    base64, which the spec replaces with hex)."""
    doc = MessageToDict(encode_spans(spans))
    for rs in doc.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for s in ss.get("spans", ()):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return doc


def timeline(store: Store, sid: str, project: str = "a") -> list[Any]:
    return list(store.get_events(sid, limit=200, project=project).items)


def count_events(store: Store, project: str = "a") -> int:
    return len(store.iterate_events(limit=1000, project=project).events)
