"""Several exporters at once, each on its own lane so a slow one never starves the others.

Each lane is a thread with a bounded queue of batches. ``export`` hands the batch to every lane
and returns; a lane whose queue is full drops its copy, and that drop is counted. What a lane
fails to deliver is counted as failed through the pipeline's counters.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from .._suppress import suppressed_var
from ._base import Exporter, ExportResult, RecordBatch

__all__ = ["FanoutExporter"]

log = logging.getLogger("agentlog")


class _Lane:
    def __init__(self, exporter: Exporter, max_batches: int) -> None:
        self.exporter = exporter
        self.queue: queue.Queue[RecordBatch | None] = queue.Queue(max_batches)
        self.busy = 0
        self.cond = threading.Condition()
        self.stats: Any = None
        self.thread = threading.Thread(target=self._run, name="agentlog-lane", daemon=True)
        self.thread.start()

    def offer(self, batch: RecordBatch) -> bool:
        with self.cond:
            try:
                self.queue.put_nowait(batch)
            except queue.Full:
                return False
            self.busy += 1
            return True

    def _run(self) -> None:
        suppressed_var.set(True)
        while True:
            batch = self.queue.get()
            if batch is None:
                return
            try:
                result = self.exporter.export(batch)
            except Exception as exc:
                result = ExportResult.failure(repr(exc))
            if self.stats is not None:
                if not result.ok and not result.spooled:
                    self.stats.add("failed", batch.session_ids)
                elif result.rejected:
                    self.stats.add("failed", [batch.session_ids[i] for i in result.rejected])
            with self.cond:
                self.busy -= 1
                self.cond.notify_all()

    def drain(self, deadline: float) -> bool:
        with self.cond:
            while self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


class FanoutExporter:
    def __init__(self, exporters: list[Exporter], *, max_batches: int = 256) -> None:
        self.exporters = list(exporters)
        self._max_batches = max_batches
        self._lanes = [_Lane(e, max_batches) for e in self.exporters]
        self._stats: Any = None

    def bind_stats(self, stats: Any) -> None:
        self._stats = stats
        for lane in self._lanes:
            lane.stats = stats
        for exp in self.exporters:
            bind = getattr(exp, "bind_stats", None)
            if callable(bind):
                bind(stats)

    def after_fork_in_child(self) -> None:
        for exp in self.exporters:
            hook = getattr(exp, "after_fork_in_child", None)
            if callable(hook):
                hook()
        self._lanes = [_Lane(e, self._max_batches) for e in self.exporters]
        self.bind_stats(self._stats)

    def export(self, batch: RecordBatch) -> ExportResult:
        for lane in self._lanes:
            if not lane.offer(batch) and self._stats is not None:
                self._stats.add("dropped", batch.session_ids)
        return ExportResult()

    def spool(self, batch: RecordBatch) -> bool:
        spooled = False
        for exp in self.exporters:
            fn = getattr(exp, "spool", None)
            if callable(fn):
                spooled = bool(fn(batch)) or spooled
        return spooled

    def force_flush(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        ok = all([lane.drain(deadline) for lane in self._lanes])
        for exp in self.exporters:
            try:
                ok = exp.force_flush(max(0.0, deadline - time.monotonic())) and ok
            except Exception:
                ok = False
        return ok

    def shutdown(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for lane in self._lanes:
            lane.drain(deadline)
            try:
                lane.queue.put_nowait(None)
            except queue.Full:
                pass
        for exp in self.exporters:
            try:
                exp.shutdown(max(0.1, deadline - time.monotonic()))
            except Exception:
                log.warning("agentlog: exporter shutdown failed", exc_info=True)
