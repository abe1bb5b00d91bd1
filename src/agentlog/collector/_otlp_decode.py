"""OTLP/HTTP trace bodies (protobuf or JSON) to plain ``Span`` values.

Both encodings land in the same small form, so the mapping to agentlog records is written once.
Attribute values become Python values (``AnyValue`` arrays as lists, key-value lists as dicts,
bytes as base64 text). A span whose ids are missing or invalid is kept with ``invalid`` set:
the caller counts it as rejected instead of failing the whole request.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ._errors import ApiError

__all__ = ["Span", "decode_json", "decode_protobuf"]

_KINDS = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2,
          "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}  # fmt: skip
_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


@dataclass(slots=True)
class Span:
    trace_id: str  # 32 lowercase hex digits ("" when missing)
    span_id: str  # 16 lowercase hex digits ("" when missing)
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    resource: dict[str, Any]
    scope: str
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    status_code: int = 0  # 0 unset, 1 ok, 2 error
    status_message: str = ""
    links: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    invalid: str | None = None  # why the span cannot be stored


def _check_ids(span: Span) -> None:
    if len(span.trace_id) != 32 or span.trace_id == "0" * 32:
        span.invalid = f"span {span.name!r}: traceId must be 16 bytes, not all zero"
    elif len(span.span_id) != 16 or span.span_id == "0" * 16:
        span.invalid = f"span {span.name!r}: spanId must be 8 bytes, not all zero"
    elif span.parent_span_id is not None and len(span.parent_span_id) != 16:
        span.invalid = f"span {span.name!r}: parentSpanId must be 8 bytes or empty"


def _clean(text: str) -> str:
    """NUL fits in neither PostgreSQL text nor JSONB: it becomes U+FFFD rather than costing
    the span (the same on every backend)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


# -- protobuf --------------------------------------------------------------------------------


def _pb_value(v: Any) -> Any:
    which = v.WhichOneof("value")
    if which == "string_value":
        return _clean(v.string_value)
    if which == "int_value":
        return v.int_value
    if which == "double_value":
        return v.double_value
    if which == "bool_value":
        return v.bool_value
    if which == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return None


def _pb_attrs(kvs: Any) -> dict[str, Any]:
    return {_clean(kv.key): _pb_value(kv.value) for kv in kvs}


def decode_protobuf(body: bytes) -> list[Span]:
    req = ExportTraceServiceRequest()
    try:
        req.ParseFromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ApiError(400, "invalid_protobuf",
                       f"body: not an OTLP ExportTraceServiceRequest ({exc})") from None  # fmt: skip
    out: list[Span] = []
    for rs in req.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = ss.scope.name
            for s in ss.spans:
                parent = s.parent_span_id.hex() or None
                span = Span(
                    s.trace_id.hex(), s.span_id.hex(), parent, _clean(s.name), s.kind,
                    s.start_time_unix_nano, s.end_time_unix_nano, _pb_attrs(s.attributes),
                    resource, scope,
                    [(_clean(e.name), e.time_unix_nano, _pb_attrs(e.attributes)) for e in s.events],
                    s.status.code, s.status.message,
                    [(ln.trace_id.hex(), ln.span_id.hex(), _pb_attrs(ln.attributes))
                     for ln in s.links],
                )  # fmt: skip
                _check_ids(span)
                out.append(span)
    return out


# -- JSON (OTLP/JSON: lowerCamelCase keys, hex ids, 64-bit integers as strings) ---------------


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _json_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return None
    if "stringValue" in v:
        return _clean(str(v["stringValue"]))
    for key, conv in (("boolValue", bool), ("doubleValue", float)):
        if key in v:
            return conv(v[key])
    if "intValue" in v:
        return int(v["intValue"])
    arr = _get(v, "arrayValue", "array_value")
    if isinstance(arr, dict):
        return [_json_value(x) for x in arr.get("values") or ()]
    kvl = _get(v, "kvlistValue", "kvlist_value")
    if isinstance(kvl, dict):
        return _json_attrs(kvl.get("values"))
    for key in ("string_value", "bool_value", "double_value", "int_value", "bytesValue",
                "bytes_value"):  # fmt: skip
        if key in v:
            return int(v[key]) if key == "int_value" else v[key]
    return None


def _json_attrs(kvs: Any) -> dict[str, Any]:
    if not isinstance(kvs, list):
        return {}
    return {_clean(str(kv["key"])): _json_value(kv.get("value")) for kv in kvs
            if isinstance(kv, dict) and "key" in kv}  # fmt: skip


def _hex_id(value: Any) -> str:
    """OTLP/JSON ids are hex; some producers send base64 (protobuf's JSON mapping)."""
    if not isinstance(value, str) or not value:
        return ""
    text = value.strip().lower()
    if len(text) in (16, 32):
        try:
            bytes.fromhex(text)
            return text
        except ValueError:
            pass
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return "?"  # neither: invalid, reported by _check_ids


def _enum(value: Any, names: dict[str, int]) -> int:
    if isinstance(value, str):
        return names.get(value, int(value) if value.isdigit() else 0)
    return int(value or 0)


def _json_span(s: dict[str, Any], resource: dict[str, Any], scope: str) -> Span:
    parent = _hex_id(_get(s, "parentSpanId", "parent_span_id")) or None
    status: dict[str, Any] = s["status"] if isinstance(s.get("status"), dict) else {}
    events = []
    for e in s.get("events") or ():
        if isinstance(e, dict):
            events.append((_clean(str(e.get("name") or "")), int(_get(e, "timeUnixNano", "time_unix_nano") or 0),
                           _json_attrs(e.get("attributes"))))  # fmt: skip
    links = [(_hex_id(_get(ln, "traceId", "trace_id")), _hex_id(_get(ln, "spanId", "span_id")),
              _json_attrs(ln.get("attributes"))) for ln in s.get("links") or ()
             if isinstance(ln, dict)]  # fmt: skip
    span = Span(
        _hex_id(_get(s, "traceId", "trace_id")), _hex_id(_get(s, "spanId", "span_id")), parent,
        _clean(str(s.get("name") or "")), _enum(s.get("kind"), _KINDS),
        int(_get(s, "startTimeUnixNano", "start_time_unix_nano") or 0),
        int(_get(s, "endTimeUnixNano", "end_time_unix_nano") or 0),
        _json_attrs(s.get("attributes")), resource, scope, events,
        _enum(status.get("code"), _CODES), str(status.get("message") or ""), links,
    )  # fmt: skip
    _check_ids(span)
    return span


def decode_json(body: bytes) -> list[Span]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body: malformed JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid_body", 'body: expected an object {"resourceSpans": [...]}')
    out: list[Span] = []
    try:
        for rs in _get(doc, "resourceSpans", "resource_spans") or ():
            res = rs.get("resource") or {}
            resource = _json_attrs(res.get("attributes"))
            for ss in _get(rs, "scopeSpans", "scope_spans") or \
                    rs.get("instrumentationLibrarySpans") or ():  # fmt: skip
                sc = ss.get("scope") or ss.get("instrumentationLibrary") or {}
                scope = str(sc.get("name") or "")
                for s in ss.get("spans") or ():
                    out.append(_json_span(s, resource, scope))
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise ApiError(400, "invalid_body",
                       f"body: not an OTLP/JSON ExportTraceServiceRequest ({exc})") from None  # fmt: skip
    return out
