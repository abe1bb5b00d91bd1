"""Event spans: how everything that records an event talks to the pipeline.

Decorators, ``track_*`` helpers and the integrations all end up here. ``Span`` is for work that
may outlive a frame (generators, streams): it is registered while open so that ``shutdown()``
can still write it, as partial, if the process exits first.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._context import session_var, span_var, suppressed_var
from ._ids import new_id, now_ns
from ._log import warn_once
from ._serialize import dumps, safe_repr
from ._state import STATE

__all__ = [
    "OPEN_SPANS",
    "Span",
    "close_open_spans",
    "emit_event",
    "error_info",
    "otel_ids",
    "recording",
    "start_span",
]

# Spans that may end after their frame (generators, streams), by id; ended ones remove themselves.
OPEN_SPANS: dict[int, Span] = {}
_open_lock = threading.Lock()


def recording() -> bool:
    """True when an event recorded now would be kept (initialized, not suppressed)."""
    return STATE.pipeline is not None and not suppressed_var.get()


def otel_ids() -> tuple[str | None, str | None]:
    # Only look if the host already imported OpenTelemetry: importing it ourselves costs ~50 ms.
    mod = sys.modules.get("opentelemetry.trace")
    if mod is None:
        return None, None
    try:
        ctx = mod.get_current_span().get_span_context()
        if not ctx.is_valid:
            return None, None
        return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    except Exception:
        return None, None


def error_info(exc: BaseException | str) -> dict[str, Any]:
    if isinstance(exc, str):
        return {"type": "Error", "message": exc, "stacktrace": None}
    try:
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:
        stack = None
    try:
        message = str(exc)
    except Exception:
        message = safe_repr(exc)
    return {"type": type(exc).__name__, "message": message, "stacktrace": stack}


def emit_event(
    type: str,
    name: str | None,
    data: dict[str, Any] | None,
    *,
    ts: int | None = None,
    end_ts: int | None = None,
    status: str = "ok",
    partial: bool = False,
    error: dict[str, Any] | None = None,
    event_id: int | None = None,
    parent_id: int | None = None,
    session_id: str | None = None,
    inherit: bool = True,
) -> int | None:
    """Record one event in the current session under the current span. Never raises."""
    pipeline = STATE.pipeline
    if pipeline is None or suppressed_var.get():
        return None
    try:
        ts = now_ns() if ts is None else ts
        eid = new_id(ts) if event_id is None else event_id
        if inherit:
            if session_id is None:
                sess = session_var.get()
                session_id = sess.id if sess is not None else None
            if parent_id is None:
                parent_id = span_var.get()
        tid, sid = otel_ids()
        pipeline.emit(
            (eid, session_id, parent_id, type, name, ts, end_ts, status, partial,
             dumps(data if data is not None else {}), error, tid, sid)
        )  # fmt: skip
        return eid
    except Exception:
        warn_once("emit_event", "agentlog: could not record an event")
        return None


class Span:
    """An open event span. ``end()`` writes it exactly once, from whatever thread ends it."""

    __slots__ = (
        "_lock",
        "data",
        "ended",
        "id",
        "name",
        "otel_span_id",
        "parent_id",
        "session_id",
        "start_ns",
        "trace_id",
        "type",
    )  # fmt: skip

    def __init__(self, type: str, name: str | None, data: dict[str, Any] | None) -> None:
        self.type = type
        self.name = name
        self.data: dict[str, Any] = dict(data) if data else {}
        self.start_ns = now_ns()
        self.id = new_id(self.start_ns)
        sess = session_var.get()
        self.session_id = sess.id if sess is not None else None
        self.parent_id = span_var.get()
        self.trace_id, self.otel_span_id = otel_ids()
        self.ended = False
        self._lock = threading.Lock()
        with _open_lock:
            OPEN_SPANS[self.id] = self

    @contextmanager
    def activate(self) -> Iterator[None]:
        """Make this span the parent of what is recorded inside the block (never across yield)."""
        token = span_var.set(self.id)
        try:
            yield
        finally:
            span_var.reset(token)

    def end(
        self,
        *,
        error: BaseException | str | None = None,
        partial: bool = False,
        data: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> None:
        with self._lock:
            if self.ended:
                return
            self.ended = True
        with _open_lock:
            OPEN_SPANS.pop(self.id, None)
        pipeline = STATE.pipeline
        if pipeline is None:
            return
        try:
            if data:
                self.data.update(data)
            err = error_info(error) if error is not None else None
            pipeline.emit(
                (self.id, self.session_id, self.parent_id, self.type, self.name, self.start_ns,
                 now_ns(), status or ("error" if err else "ok"), partial, dumps(self.data), err,
                 self.trace_id, self.otel_span_id)
            )  # fmt: skip
        except Exception:
            warn_once("span_end", "agentlog: could not record a span")


def start_span(
    type: str, name: str | None = None, data: dict[str, Any] | None = None
) -> Span | None:
    """Open a span in the current session, or return None when nothing would be recorded."""
    if STATE.pipeline is None or suppressed_var.get():
        return None
    try:
        return Span(type, name, data)
    except Exception:
        warn_once("start_span", "agentlog: could not start a span")
        return None


def close_open_spans() -> None:
    """At shutdown: write every span still open (a generator or stream never finished)."""
    with _open_lock:
        spans = list(OPEN_SPANS.values())
    for span in spans:
        span.end(partial=True)
