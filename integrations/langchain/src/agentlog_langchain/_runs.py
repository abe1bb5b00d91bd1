"""The open LangChain runs and the agentlog spans that stand for them.

LangChain names every run (``run_id``) and its parent (``parent_run_id``). Child spans are
parented explicitly from this map; only a root run takes its parent span and session from the
context it starts in, so the tree stays whole even when LangChain runs a callback in another
thread or task than the work it describes.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from uuid import UUID

from agentlog.instrumentation import Span, start_span, warn_once

from ._convert import error_kind

__all__ = ["MAX_OPEN_RUNS", "Run", "RunTree"]

# Runs a stream never finished keep their entry until shutdown; past this many no new ones are
# tracked (counted in ``RunTree.dropped``) rather than grow without bound.
MAX_OPEN_RUNS = 10_000
_HIDDEN = "langsmith:hidden"  # LangChain/LangGraph plumbing that its own tracer hides too


class Run:
    __slots__ = ("alias", "chunks", "first_token_ns", "span", "usage")

    def __init__(self, span: Span, *, alias: bool = False) -> None:
        self.span = span
        self.alias = alias  # a hidden run standing in for its parent's span: never ended here
        self.first_token_ns: int | None = None
        self.chunks: list[str] | None = None
        self.usage: Any = None  # usage agentlog asked for and hid from the caller (``_usage``)


class RunTree:
    def __init__(self) -> None:
        self.enabled = True
        self.dropped = 0
        self._runs: dict[UUID, Run] = {}
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            # A fork while another thread held the lock would leave the child's copy held.
            os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def get(self, run_id: UUID) -> Run | None:
        return self._runs.get(run_id)

    def span_of(self, run_id: UUID) -> Span | None:
        """The span standing for an open run (a hidden run's: its parent's)."""
        run = self._runs.get(run_id)
        return run.span if run is not None else None

    def keep_usage(self, run_id: UUID, usage_metadata: Any) -> None:
        """Usage the caller does not see, for the run's ``llm_call`` when it ends."""
        run = self._runs.get(run_id)
        if run is not None:
            run.usage = usage_metadata

    def span_id_for(self, run_id: UUID) -> int | None:
        run = self._runs.get(run_id)
        return run.span.id if run is not None else None

    def start(
        self, run_id: UUID, parent_run_id: UUID | None, tags: list[str] | None,
        etype: str, name: str, data: dict[str, Any],
    ) -> None:  # fmt: skip
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
            if parent is None and not self.enabled:
                return  # uninstrumented: finish the trees already open, start no new ones
            if len(self._runs) >= MAX_OPEN_RUNS:
                self.dropped += 1
                warn_once("langchain:max_runs", "agentlog: too many open LangChain runs; "
                          "new ones are not recorded", exc_info=False)  # fmt: skip
                return
        parent_span = parent.span if parent is not None else None
        if etype in ("chain", "agent") and tags and _HIDDEN in tags:
            if parent_span is None:
                return
            run = Run(parent_span, alias=True)  # its children hang under its parent
        else:
            span = start_span(etype, name, data)
            if span is None:
                return  # not recording: children fall back to the context, as this run would
            if parent_span is not None:
                span.parent_id = parent_span.id
                span.session_id = parent_span.session_id
            run = Run(span)
        with self._lock:
            self._runs[run_id] = run

    def end(
        self, run_id: UUID, *, error: BaseException | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None or run.alias:
            return
        span = run.span
        if span.type == "llm_call" and run.first_token_ns is not None:
            timing = {"stream": True,
                      "time_to_first_token_ms": (run.first_token_ns - span.start_ns) / 1e6}  # fmt: skip
            data = {**timing, **(data or {})}
        if error is None:
            span.end(data=data)
        elif error_kind(error) == "stopped":
            span.end(data=data, partial=True)
        else:
            span.end(data=data, error=error)
