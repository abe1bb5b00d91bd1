"""``POST /v1/traces``: OTLP/HTTP trace export into the store (protobuf or JSON, gzip or not).

The same key, size and in-flight limits as ``/v1/ingest`` apply (the body is read by the same
bounded reader). The answer is the one OTLP exporters expect: 200 with an
``ExportTraceServiceResponse`` (``partial_success`` naming how many spans were rejected and
why), encoded like the request; a 4xx or 5xx carries a ``google.rpc.Status`` the same way.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from google.protobuf.json_format import MessageToDict
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.concurrency import run_in_threadpool

from ._errors import ApiError
from ._ingest import IngestLimits, ingest_records, read_body
from ._otlp_decode import Span, decode_json, decode_protobuf
from ._otlp_map import Mapped, TraceSessions, map_spans

__all__ = ["router"]

router = APIRouter()

_PROTOBUF = ("application/x-protobuf", "application/protobuf")
_GRPC_CODES = {400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14}  # google.rpc.Code
_STATUS_SCHEMA = {"type": "object", "properties": {
    "code": {"type": "integer"}, "message": {"type": "string"},
    "details": {"type": "array", "items": {"type": "object"}}}}  # fmt: skip
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An OTLP ExportTraceServiceRequest: OTLP/JSON as here, or protobuf with "
        "'Content-Type: application/x-protobuf' (the usual OTLP exporters' form; the answer is "
        "then protobuf too); optionally gzip-compressed ('Content-Encoding: gzip').",
        # Only JSON is declared: OpenAPI tools cannot generate protobuf bodies.
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "responses": {
        "200": {"description": "ExportTraceServiceResponse; partialSuccess.rejectedSpans counts "
                "the spans not stored and errorMessage says why",
                "content": {"application/json": {"schema": {"type": "object"}},
                            "application/x-protobuf": _BINARY}},
        **{str(code): {"description": text, "content": {
            "application/json": {"schema": _STATUS_SCHEMA}, "application/x-protobuf": _BINARY}}
           for code, text in ((400, "A body that is not an OTLP trace export"),
                              (401, "No valid API key"),
                              (413, "Over a size or span-count limit"),
                              (415, "Neither protobuf nor JSON, or an unknown Content-Encoding"),
                              (429, "Too many batches in progress; retry after Retry-After"))},
    },
}  # fmt: skip


def _media(request: Request) -> str | None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _PROTOBUF:
        return "protobuf"
    if ctype == "application/json":
        return "json"
    return None


def _answer(kind: str, message: Any, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    if kind == "protobuf":
        return Response(message.SerializeToString(), status_code=status, headers=headers,
                        media_type="application/x-protobuf")  # fmt: skip
    body = MessageToDict(message)
    return Response(orjson.dumps(body), status_code=status, headers=headers,
                    media_type="application/json")  # fmt: skip


def _status(
    kind: str, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return _answer(kind, Status(code=_GRPC_CODES.get(status, 2), message=message), status, headers)


def _decode_and_map(body: bytes, kind: str, *, project: str, limits: IngestLimits,
                    traces: TraceSessions) -> Mapped:  # fmt: skip
    spans: list[Span] = decode_protobuf(body) if kind == "protobuf" else decode_json(body)
    if len(spans) > limits.max_records:
        raise ApiError(413, "payload_too_large",
                       f"{len(spans)} spans is over the limit of {limits.max_records} per "
                       "request; send smaller batches")  # fmt: skip
    return map_spans(spans, project=project, traces=traces)


def _traces(request: Request) -> TraceSessions:
    state = request.app.state
    if getattr(state, "otlp_traces", None) is None:
        state.otlp_traces = TraceSessions()
    traces: TraceSessions = state.otlp_traces
    return traces


@router.post("/v1/traces", tags=["ingest"], openapi_extra=_OPENAPI, response_model=None,
             summary="Ingest OTLP/HTTP traces")  # fmt: skip
async def otlp_traces(request: Request) -> Response:
    """Store OpenTelemetry spans as sessions and events (docs/otlp-ingest.md has the mapping),
    idempotent by trace and span id. Protobuf and JSON bodies, gzip accepted; the key, size and
    in-flight limits are those of ``/v1/ingest``."""
    kind = _media(request)
    if kind is None:
        return _status("json", 415, "Content-Type must be application/x-protobuf or "
                       f"application/json, got {request.headers.get('content-type')!r}")  # fmt: skip
    limits: IngestLimits = request.app.state.limits
    inflight: list[int] = getattr(request.app.state, "inflight", None) or [0]
    if inflight[0] >= limits.max_inflight:
        return _status(kind, 429, f"{limits.max_inflight} batches are being ingested; retry "
                       "later", headers={"Retry-After": "1"})  # fmt: skip
    inflight[0] += 1
    try:
        body = await read_body(request.stream(), limits=limits,
                               encoding=request.headers.get("content-encoding", ""),
                               content_length=request.headers.get("content-length"))  # fmt: skip
        project: str = request.state.project
        mapped = await run_in_threadpool(_decode_and_map, body, kind, project=project,
                                         limits=limits, traces=_traces(request))  # fmt: skip
        result = await ingest_records(
            request.app.state.writer, b"", mapped.records, project=project
        )
    except ApiError as exc:
        return _status(kind, exc.status, exc.message)
    finally:
        inflight[0] -= 1
    rejected = dict(mapped.rejected)
    for r in result.rejected:
        owner = mapped.owners[r.index]
        if owner is not None:
            rejected.setdefault(owner, r.reason)
    response = ExportTraceServiceResponse()
    if rejected:
        reasons = list(dict.fromkeys(rejected.values()))
        message = "; ".join(reasons[:5]) + (
            f"; and {len(reasons) - 5} more" if len(reasons) > 5 else ""
        )
        response.partial_success.rejected_spans = len(rejected)
        response.partial_success.error_message = message
    return _answer(kind, response)
