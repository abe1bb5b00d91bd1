"""The ``otlp`` exporter: sessions and events as OpenTelemetry spans over OTLP/HTTP (protobuf).

A session is a trace. Its root span is written when the session ends (its end record carries
the final status and times); every event is a child span of its enclosing event, or of the
root. Point events (no duration) become zero-length spans rather than span events: a span event
would have to wait for its parent span, which may only end in a later batch or another process,
while a zero-length span can be sent at once and still sits at the right place in the tree.
Messages become zero-length spans as well.

Spans are made by a private ``TracerProvider`` with fixed ids; the global provider is never
read or set, so the host's own OpenTelemetry setup is left alone.

A batch the endpoint did not take (after the OTLP exporter's own retries) is spooled as agentlog
records, in a spool of its own per destination (endpoint and headers), and converted to spans
again when it is re-sent: the ids are derived from the records, so a re-sent span is the same
span. ``force_flush`` is True only when everything was delivered; ``shutdown`` spends its
timeout delivering the backlog.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from .._log import warn_once
from ._base import ExportResult, RecordBatch
from ._genai import (
    event_attributes,
    message_attributes,
    root_span_id,
    session_attributes,
    span_id_for,
    span_name,
    to_ns,
    trace_id_for,
)
from ._ingest import Outcome, otel_suppressed
from ._resend import Resender
from ._spool import destination_dir

if TYPE_CHECKING:
    from .._config import Config
    from .._stats import Stats

__all__ = ["OtlpExporter"]

log = logging.getLogger("agentlog")
_MAX_SESSIONS = 10_000
_SAMPLED = otel_trace.TraceFlags(otel_trace.TraceFlags.SAMPLED)


class _PresetIds(IdGenerator):
    """Hands out the ids the converter chose for the span being started."""

    def __init__(self) -> None:
        self.trace_id = 1
        self.span_id = 1

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


class _Collect(SpanProcessor):
    """Gathers ended spans so a whole batch goes out in one OTLP request."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


class OtlpExporter:
    """Sends batches as spans to an OTLP/HTTP endpoint (``{endpoint}/v1/traces``)."""

    counts_spooled = True  # the spool counts what it keeps, before its drainer can resend it

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        compression: str = "gzip",
        service_name: str | None = None,
        payload_limit: int = 8192,
        span_exporter: SpanExporter | None = None,
        spool_dir: str | None = None,
        spool_max_bytes: int = 256 * 1024 * 1024,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        if endpoint is not None:
            _check_endpoint(endpoint)
        self.payload_limit = payload_limit
        url = endpoint.rstrip("/") + "/v1/traces" if endpoint else None  # None: OTEL_* variables
        # An explicit non-default compression wins; the default yields to OTEL_*_COMPRESSION.
        comp = None if compression == "gzip" and _env("COMPRESSION") else Compression(compression)
        self._own_exporter = span_exporter is None
        self._exporter_args: dict[str, Any] = {
            "endpoint": url, "headers": headers, "timeout": timeout, "compression": comp,
        }  # fmt: skip
        self.span_exporter = span_exporter or OTLPSpanExporter(**self._exporter_args)
        attrs: dict[str, Any] = {}
        if service_name or not os.environ.get("OTEL_SERVICE_NAME"):
            attrs["service.name"] = service_name or "agentlog"
        self._ids = _PresetIds()
        self._collect = _Collect()
        self._provider = TracerProvider(
            sampler=ALWAYS_ON, resource=Resource.create(attrs), id_generator=self._ids,
            shutdown_on_exit=False,
        )  # fmt: skip
        self._provider.add_span_processor(self._collect)
        self._tracer = self._provider.get_tracer("agentlog")
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._orphan_trace = int.from_bytes(secrets.token_bytes(16), "big") or 1
        # None: no spool (a batch that fails is counted failed, as with a plain SpanExporter).
        self._resender: Resender | None = None
        self._lost = False  # a batch failed (or lost records) since the last force_flush
        if spool_dir is not None:
            # The exporter's resolved endpoint and headers (OTEL_* variables included) name the
            # destination: another endpoint or key never sends or deletes these batches.
            where = str(getattr(self.span_exporter, "_endpoint", None) or url or "")
            hdrs = getattr(self.span_exporter, "_headers", None) or headers or {}
            key = repr(sorted((str(k).lower(), str(v)) for k, v in dict(hdrs).items()))
            self._resender = Resender(
                destination_dir(Path(spool_dir).absolute(), "otlp", where, key), self._resend,
                max_bytes=spool_max_bytes, backoff_base=backoff_base, backoff_max=backoff_max,
                name="otlp", endpoint=where or "the OTLP endpoint",
            )  # fmt: skip

    @classmethod
    def from_config(cls, cfg: Config) -> OtlpExporter:
        timeout = None if _env("TIMEOUT") else cfg.export_timeout
        headers = {"authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else None
        # A directory of its own under the spool root, named by endpoint and headers.
        spool_dir = cfg.spool_dir
        return cls(
            cfg.endpoint, headers=headers, timeout=timeout, spool_dir=spool_dir,
            spool_max_bytes=cfg.spool_max_bytes,
        )  # fmt: skip

    # -- conversion ----------------------------------------------------------------------------

    def _parent(self, trace_id: int, span_id: int | None) -> otel_context.Context:
        if span_id is None:
            return otel_context.Context()  # never the caller's current span
        ctx = otel_trace.SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED)
        return otel_trace.set_span_in_context(
            otel_trace.NonRecordingSpan(ctx), otel_context.Context()
        )

    def _span(
        self, name: str, *, trace_id: int, span_id: int, parent: int | None, start: int,
        end: int, attrs: dict[str, Any], kind: otel_trace.SpanKind = otel_trace.SpanKind.INTERNAL,
        error: dict[str, Any] | None = None, failed: bool = False,
        links: Sequence[otel_trace.Link] = (),
    ) -> None:  # fmt: skip
        self._ids.trace_id, self._ids.span_id = trace_id, span_id
        span = self._tracer.start_span(
            name, context=self._parent(trace_id, parent), kind=kind, attributes=attrs,
            links=links, start_time=start,
        )  # fmt: skip
        if error:
            span.add_event(
                "exception",
                {k: str(error.get(f) or "") for k, f in (("exception.type", "type"),
                 ("exception.message", "message"), ("exception.stacktrace", "stacktrace"))},
                timestamp=start if end == start else end,
            )  # fmt: skip
        if failed or error:
            desc = str(error.get("message") or error.get("type") or "") if error else ""
            span.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, desc or None))
        span.end(end_time=max(end, start))

    def _event(self, rec: dict[str, Any]) -> None:
        start = to_ns(rec.get("ts"))
        if start is None:
            raise ValueError("event without a valid ts")
        end = to_ns(rec.get("end_ts"))
        point = end is None
        sid = rec.get("session_id")
        trace_id = trace_id_for(sid) if sid else self._orphan_trace
        parent_id = rec.get("parent_id")
        parent = span_id_for(parent_id) if parent_id else (root_span_id(sid) if sid else None)
        attrs = event_attributes(rec, payload_limit=self.payload_limit)
        if point:
            attrs["agentlog.point_event"] = True
        known = self._sessions.get(sid) if sid else None
        if known and known.get("user"):
            attrs["user.id"] = str(known["user"])
        links = []
        with contextlib.suppress(TypeError, ValueError):  # the host's own span, if one was active
            tid, spid = int(rec["trace_id"], 16), int(rec["span_id"], 16)
            if tid and spid:
                links.append(otel_trace.Link(otel_trace.SpanContext(tid, spid, is_remote=True)))
        error = rec.get("error") if isinstance(rec.get("error"), dict) else None
        self._span(
            span_name(rec), trace_id=trace_id, span_id=span_id_for(str(rec["id"])), parent=parent,
            start=start, end=start if end is None else end, attrs=attrs, error=error,
            failed=rec.get("status") == "error" or rec.get("type") == "error",
            kind=otel_trace.SpanKind.CLIENT if rec.get("type") == "llm_call" else otel_trace.SpanKind.INTERNAL,
            links=links,
        )  # fmt: skip

    def _session(self, rec: dict[str, Any]) -> None:
        sid = str(rec["id"])
        known = self._sessions.get(sid) or {}
        merged = {k: v for k, v in known.items()}
        merged.update({k: v for k, v in rec.items() if v is not None})
        if known.get("started_at"):
            merged["started_at"] = known["started_at"]  # the first start wins
        self._sessions[sid] = merged
        self._sessions.move_to_end(sid)
        while len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)
        if merged.get("status") in (None, "running"):
            return  # the root span is written when the session ends
        end = to_ns(merged.get("ended_at"))
        start = to_ns(merged.get("started_at")) or end
        if start is None or end is None:
            raise ValueError("session end without valid started_at/ended_at")
        links = []
        if merged.get("parent_session_id"):
            psid = str(merged["parent_session_id"])
            pctx = otel_trace.SpanContext(trace_id_for(psid), root_span_id(psid), is_remote=True)
            links.append(otel_trace.Link(pctx, {"agentlog.link": "parent_session"}))
        self._span(
            str(merged.get("name") or "session"), trace_id=trace_id_for(sid),
            span_id=root_span_id(sid), parent=None, start=start, end=end,
            attrs=session_attributes(merged, payload_limit=self.payload_limit),
            failed=merged.get("status") == "error", links=links,
        )  # fmt: skip

    def _message(self, rec: dict[str, Any]) -> None:
        ts = to_ns(rec.get("ts"))
        sid = rec.get("session_id")
        if ts is None:
            raise ValueError("message without a valid ts")
        attrs = message_attributes(rec, payload_limit=self.payload_limit)
        self._span(
            f"message {rec.get('role') or ''}".strip(), trace_id=trace_id_for(sid) if sid else self._orphan_trace,
            span_id=span_id_for(str(rec["id"])), parent=root_span_id(sid) if sid else None,
            start=ts, end=ts, attrs=attrs,
        )  # fmt: skip

    def _score(self, rec: dict[str, Any]) -> None:
        """A score as a point span under its session (or its event), like a message."""
        ts = to_ns(rec.get("ts"))
        sid = rec.get("session_id")
        if ts is None or not sid:
            raise ValueError("score without a valid ts or session_id")
        attrs: dict[str, Any] = {"agentlog.event.type": "score", "agentlog.point_event": True,
                                 "session.id": str(sid), "agentlog.score.name": str(rec["name"]),
                                 "agentlog.score.value": rec["value"]}  # fmt: skip
        attrs["agentlog.event.id"] = str(rec["id"])  # read back as this score (collector)
        if rec.get("event_id"):
            attrs["agentlog.score.event_id"] = str(rec["event_id"])
        if rec.get("comment"):
            attrs["agentlog.score.comment"] = str(rec["comment"])
        if rec.get("source"):
            attrs["agentlog.score.source"] = str(rec["source"])
        parent = span_id_for(str(rec["event_id"])) if rec.get("event_id") else root_span_id(sid)
        self._span(f"score {rec['name']}", trace_id=trace_id_for(sid),
                   span_id=span_id_for(str(rec["id"])), parent=parent, start=ts, end=ts,
                   attrs=attrs)  # fmt: skip

    # -- the pipeline's calls ------------------------------------------------------------------

    def bind_stats(self, stats: Stats) -> None:
        if self._resender is not None:
            self._resender.bind_stats(stats)

    def export(self, batch: RecordBatch) -> ExportResult:
        if not len(batch):
            return ExportResult()
        resender = self._resender
        if (
            resender is not None
            and resender.backlog
            and resender.keep(batch.lines, batch.session_ids)
        ):
            return ExportResult(ok=False, spooled=True)  # queued behind the backlog, in order
        try:
            sent, rejected = self._convert_and_send(batch.records)
        except Exception as exc:
            warn_once("otlp-export", "agentlog: OTLP export failed: %r", exc)
            sent, rejected = repr(exc), ()
        if sent is None:
            if resender is not None:
                resender.delivered_live()
            self._lost = self._lost or bool(rejected)
            return ExportResult(rejected=rejected)
        if resender is not None:
            resender.health.unreachable(sent)
            if resender.keep(batch.lines, batch.session_ids):
                return ExportResult(ok=False, spooled=True, reason=sent)
        self._lost = True
        return ExportResult.failure(sent)

    def _convert_and_send(
        self, records: list[dict[str, Any]]
    ) -> tuple[str | None, tuple[int, ...]]:
        """Records to spans, sent in one request: (None or why it failed, rejected indices)."""
        rejected: list[int] = []
        with self._lock:
            self._collect.spans = []
            for i, rec in enumerate(records):
                try:
                    kind = rec.get("kind")
                    if kind == "event":
                        self._event(rec)
                    elif kind == "session":
                        self._session(rec)
                    elif kind == "message":
                        self._message(rec)
                    elif kind == "score":
                        self._score(rec)
                    else:
                        raise ValueError(f"unknown record kind {kind!r}")
                except (KeyError, TypeError, ValueError) as exc:
                    warn_once(
                        f"otlp-record:{exc}",
                        "agentlog: record not exported as a span: %s",
                        exc,
                        exc_info=False,
                    )
                    rejected.append(i)
            spans, self._collect.spans = self._collect.spans, []
        if not spans:
            return None, tuple(rejected)
        with otel_suppressed():
            result = self.span_exporter.export(spans)
        if result is not SpanExportResult.SUCCESS:
            return "OTLP export failed (see the opentelemetry logger)", tuple(rejected)
        return None, tuple(rejected)

    def _resend(self, lines: list[bytes]) -> Outcome:
        """The spool's re-send: every failure counts as transient (OTLP/HTTP does not say)."""
        try:
            records = [orjson.loads(line) for line in lines]
            failed, rejected = self._convert_and_send(records)
        except Exception as exc:
            return Outcome("transient", reason=repr(exc))
        if failed is not None:
            return Outcome("transient", reason=failed)
        return Outcome("delivered", rejected=rejected)

    def spool(self, batch: RecordBatch) -> bool:
        """At shutdown: keep what could not be sent for the next process (if spooling is on)."""
        if not len(batch):
            return True
        return self._resender is not None and self._resender.keep(batch.lines, batch.session_ids)

    def force_flush(self, timeout: float = 5.0) -> bool:
        """True only when everything handed to ``export()`` since the previous call was
        delivered: nothing failed, nothing waits in the spool (waits up to ``timeout`` for it)."""
        try:
            ok = self._resender is None or self._resender.wait_delivered(timeout)
            lost, self._lost = self._lost, False
            return ok and not lost
        except Exception:
            warn_once("otlp-flush", "agentlog: OTLP exporter flush failed")
            return False

    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver the backlog within ``timeout``; what is left stays for the next process."""
        try:
            if self._resender is not None:
                self._resender.shutdown(timeout)
            self.span_exporter.shutdown()
            self._provider.shutdown()
        except Exception:
            log.debug("agentlog: otlp exporter shutdown", exc_info=True)

    def after_fork_in_child(self) -> None:
        """The child gets its own HTTP session: pooled connections are not shared across fork."""
        self._lock = threading.Lock()
        if self._own_exporter:
            self.span_exporter = OTLPSpanExporter(**self._exporter_args)
        if self._resender is not None:
            self._resender.after_fork_in_child()


def _check_endpoint(endpoint: str) -> None:
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")


def _env(suffix: str) -> bool:
    return bool(
        os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{suffix}")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{suffix}")
    )
