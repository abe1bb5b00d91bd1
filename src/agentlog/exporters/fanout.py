"""Several exporters at once, each on its own lane so a slow one never starves the others.

Each lane is a thread with a bounded queue of batches. ``export`` hands the batch to every lane
and returns at once; the batch is counted when the last lane is done with it, once, by the worst
that happened to each record anywhere (failed, else dropped, else spooled, else observed). Each
lane keeps its own counts too: ``status().exporters``.

Shutdown gives each lane its share of the time left: the lane finishes what it holds, then what
it could not start is spooled (when its exporter can) or counted dropped, and only then is its
exporter shut down, so no export runs on a closed exporter.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence

from .._log import warn_once
from .._signals import quiet_thread
from .._stats import ExporterStatus, Stats
from .._suppress import suppressed_var
from ._base import Exporter, ExportResult, RecordBatch, exporter_name

__all__ = ["FanoutExporter"]

# Outcomes of a record on one lane, in the order "worse wins" when lanes disagree.
OBSERVED, SPOOLED, DROPPED, FAILED = 0, 1, 2, 3
_FIELDS = ("observed", "spooled", "dropped", "failed")


class _LaneStats(Stats):
    """One lane's counts. What its exporter counts later (a spooled batch delivered after all)
    applies to the pipeline's counts too; what it counts as spooled when it writes a batch
    (``counts_spooled``) is the lane's own: the pipeline's count is the batch's tally."""

    def __init__(self, forward: Stats | None) -> None:
        super().__init__()
        self.forward = forward

    def add(self, field: str, session_ids: list[str | None] | None, n: int = 0) -> None:
        self.own(field, len(session_ids) if session_ids is not None else n)
        if self.forward is not None and field != "spooled":
            self.forward.add(field, session_ids, n)

    def move(self, src: str, dst: str, session_ids: list[str | None]) -> None:
        with self._lock:
            self.totals[src] -= len(session_ids)
            self.totals[dst] += len(session_ids)
        if self.forward is not None:
            self.forward.move(src, dst, session_ids)

    def own(self, field: str, n: int) -> None:
        """The lane's own outcome: the pipeline's counts get it from the batch's tally."""
        Stats.add(self, field, None, n)


class _Tally:
    """One batch across the lanes: counted in the pipeline's stats when the last lane is done."""

    __slots__ = ("batch", "left", "lock", "rejected", "whole")

    def __init__(self, batch: RecordBatch, lanes: int) -> None:
        self.batch = batch
        self.left = lanes
        self.whole = OBSERVED
        self.rejected: set[int] = set()
        self.lock = threading.Lock()

    def settle(self, outcome: int, rejected: Sequence[int], stats: Stats | None) -> None:
        with self.lock:
            self.whole = max(self.whole, outcome)
            self.rejected.update(rejected)
            self.left -= 1
            if self.left:
                return
        if stats is None:
            return
        sids = self.batch.session_ids
        if not self.rejected or self.whole == FAILED:
            stats.add(_FIELDS[self.whole], sids)
            return
        bad = self.rejected
        stats.add("failed", [s for i, s in enumerate(sids) if i in bad])
        stats.add(_FIELDS[self.whole], [s for i, s in enumerate(sids) if i not in bad])


def _outcome(result: ExportResult) -> tuple[int, tuple[int, ...]]:
    if result.spooled:
        return SPOOLED, ()
    if not result.ok:
        return FAILED, ()
    return OBSERVED, tuple(result.rejected)


class _Lane:
    def __init__(self, exporter: Exporter, name: str, max_batches: int) -> None:
        self.exporter = exporter
        self.name = name
        self.queue: queue.Queue[tuple[RecordBatch, _Tally] | None] = queue.Queue(max_batches)
        self.busy = 0  # batches queued or inside export()
        self.records = 0  # records in those batches
        self.closed = False
        self.cond = threading.Condition()
        self.stats = _LaneStats(None)
        # Its exporter counts what it spools in ``stats`` itself: ``_settle`` must not again.
        self.counts_spooled = getattr(exporter, "counts_spooled", False) is True
        self.pipeline_stats: Stats | None = None
        self.thread = quiet_thread(target=self._run, name="agentlog-lane", daemon=True)
        self.thread.start()

    def offer(self, batch: RecordBatch, tally: _Tally) -> None:
        with self.cond:
            if not self.closed:
                try:
                    self.queue.put_nowait((batch, tally))
                except queue.Full:
                    pass
                else:
                    self.busy += 1
                    self.records += len(batch)
                    return
        warn_once(f"lane-full:{self.name}", "agentlog: exporter %r cannot keep up; its lane's "
                  "queue is full and batches are dropped (counted)", self.name, exc_info=False)  # fmt: skip
        self._settle(batch, tally, DROPPED, ())

    def _settle(
        self, batch: RecordBatch, tally: _Tally, outcome: int, rejected: Sequence[int]
    ) -> None:
        if rejected:
            self.stats.own("failed", len(rejected))
            self.stats.own(_FIELDS[outcome], len(batch) - len(rejected))
        elif not (outcome == SPOOLED and self.counts_spooled):
            self.stats.own(_FIELDS[outcome], len(batch))
        tally.settle(outcome, rejected, self.pipeline_stats)

    def _run(self) -> None:
        suppressed_var.set(True)
        while True:
            item = self.queue.get()
            if item is None:
                return
            batch, tally = item
            try:
                result = self.exporter.export(batch)
            except Exception as exc:
                warn_once(f"lane-raised:{self.name}", "agentlog: exporter %r raised", self.name)
                result = ExportResult.failure(repr(exc))
            outcome, rejected = _outcome(result)
            self._settle(batch, tally, outcome, rejected)
            with self.cond:
                self.busy -= 1
                self.records -= len(batch)
                self.cond.notify_all()

    def drain(self, deadline: float) -> bool:
        with self.cond:
            while self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self, deadline: float) -> None:
        """Finish what the lane holds by ``deadline``, keep what it could not start, then close."""
        self.drain(deadline)
        left: list[tuple[RecordBatch, _Tally]] = []
        with self.cond:
            self.closed = True
            while True:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    left.append(item)
            self.busy -= len(left)
            self.records -= sum(len(b) for b, _ in left)
        spool = getattr(self.exporter, "spool", None)
        for batch, tally in left:
            kept = False
            if callable(spool):
                try:
                    kept = bool(spool(batch))
                except Exception:
                    warn_once(f"lane-spool:{self.name}", "agentlog: exporter %r could not spool",
                              self.name)  # fmt: skip
            self._settle(batch, tally, SPOOLED if kept else DROPPED, ())
        try:  # an export still running is the exporter's to end (an http send is spooled)
            self.exporter.shutdown(max(0.1, deadline - time.monotonic()))
        except Exception:
            warn_once(f"lane-shutdown:{self.name}", "agentlog: exporter %r shutdown failed",
                      self.name)  # fmt: skip
        self.queue.put(None)  # the queue is empty now: this cannot block
        self.thread.join(max(0.5, deadline - time.monotonic()))

    def status(self) -> ExporterStatus:
        with self.stats._lock:
            counts = dict(self.stats.totals)
        return ExporterStatus.of(self.records, counts)


class FanoutExporter:
    counts_itself = True  # the lanes count each batch when the last of them is done with it

    def __init__(self, exporters: list[Exporter], *, max_batches: int = 256) -> None:
        self.exporters = list(exporters)
        self._max_batches = max_batches
        self.names = _unique_names(self.exporters)
        self._stats: Stats | None = None
        self._lanes = self._make_lanes()

    def _make_lanes(self) -> list[_Lane]:
        return [
            _Lane(e, n, self._max_batches) for e, n in zip(self.exporters, self.names, strict=True)
        ]

    def bind_stats(self, stats: Stats) -> None:
        self._stats = stats
        for lane in self._lanes:
            lane.pipeline_stats = stats
            lane.stats.forward = stats
            bind = getattr(lane.exporter, "bind_stats", None)
            if callable(bind):
                bind(lane.stats)

    def after_fork_in_child(self) -> None:
        for exp in self.exporters:
            hook = getattr(exp, "after_fork_in_child", None)
            if callable(hook):
                hook()
        self._lanes = self._make_lanes()
        if self._stats is not None:
            self.bind_stats(self._stats)

    def export(self, batch: RecordBatch) -> ExportResult:
        tally = _Tally(batch, len(self._lanes))
        for lane in self._lanes:
            lane.offer(batch, tally)
        return ExportResult()

    def spool(self, batch: RecordBatch) -> bool:
        """At shutdown, a batch no lane ever got: each exporter spools it if it can (else that
        destination drops it). The batch is counted here; True tells the pipeline it was."""
        tally = _Tally(batch, len(self._lanes))
        for lane in self._lanes:
            fn = getattr(lane.exporter, "spool", None)
            kept = False
            if callable(fn):
                try:
                    kept = bool(fn(batch))
                except Exception:
                    kept = False
            lane._settle(batch, tally, SPOOLED if kept else DROPPED, ())
        return True

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
        lanes = self._lanes
        for k, lane in enumerate(lanes):
            # Lanes work side by side: each waits for its share of what is left, and a lane
            # done early leaves its time to the ones after it.
            share = max(0.0, deadline - time.monotonic()) / (len(lanes) - k)
            lane.close(time.monotonic() + share)

    def exporter_status(self) -> dict[str, ExporterStatus]:
        return {lane.name: lane.status() for lane in self._lanes}

    def in_process(self) -> int:
        return sum(lane.records for lane in self._lanes)


def _unique_names(exporters: Sequence[Exporter]) -> list[str]:
    names: list[str] = []
    for exp in exporters:
        base = name = exporter_name(exp)
        k = 2
        while name in names:
            name = f"{base}-{k}"
            k += 1
        names.append(name)
    return names
