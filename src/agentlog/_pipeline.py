"""The export pipeline: a bounded buffer, one background worker, batches, counters.

Recording appends a raw record to a deque and returns: no lock, no I/O, no formatting. The
worker turns raw records into encoded lines (ids, timestamps, redaction, truncation) and hands
batches to the exporter. A batch leaves when ``max_batch`` records wait, when nothing arrived
for ``idle_flush`` seconds, or when the oldest record has waited ``max_delay`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from itertools import repeat, starmap
from typing import Any

import orjson

from ._config import Config
from ._encode import LineEncoder
from ._log import warn_once
from ._redact import Redactor
from ._serialize import bound_fields, to_jsonable
from ._signals import quiet_thread
from ._stats import ExporterStatus, PipelineStatus, Stats, record_session_id
from ._suppress import suppressed_var
from .exporters._base import Exporter, ExportResult, RecordBatch, exporter_name

__all__ = ["CompactEvent", "EventTuple", "Pipeline"]

log = logging.getLogger("agentlog")

# A raw event as recorded on the caller's thread:
# (id, session_id, parent_id, type, name, ts_ns, end_ts_ns, status, partial, data_json,
#  error, trace_id, span_id)
EventTuple = tuple[
    int, "str | None", "int | None", str, "str | None", int, "int | None", str, bool, bytes,
    "dict[str, Any] | None", "str | None", "str | None",
]  # fmt: skip
# A sync decorated call that returned (status ok, not partial, no error, no OpenTelemetry ids)
# appends the compact shape: fewer fields to build, for the garbage collector to walk and for
# the worker to turn into columns. (id, session_id, parent_id, type, name, ts_ns, end_ts_ns,
# data_json)
CompactEvent = tuple[int, "str | None", "int | None", str, "str | None", int, int, bytes]
RawRecord = Any  # EventTuple, CompactEvent, or a ready dict for session and message records

# Fields of session and message records that say what a record is, never truncated.
_STRUCTURE = frozenset(
    ("v", "kind", "id", "session_id", "parent_session_id", "status", "started_at", "ended_at",
     "ts", "role", "format")
)  # fmt: skip


class Pipeline:
    sampler: Any = None  # the Sampler in front of emit, when sample_rate < 1 (_sampling)

    def __init__(
        self,
        exporter: Exporter,
        *,
        max_batch: int = 512,
        idle_flush: float = 1.0,
        max_delay: float = 5.0,
        max_queue: int = 100_000,
        max_payload_bytes: int = 1_000_000,
        redactor: Redactor | None = None,
    ) -> None:
        self.exporter = exporter
        self.max_batch = max_batch
        self._wake_at = max_batch - 1  # the length at which a record fills a batch
        self.idle_flush = idle_flush
        self.max_delay = max_delay
        self.max_queue = max_queue
        self.max_payload_bytes = max_payload_bytes
        self.redactor = redactor
        self.stats = Stats()
        self._encoder = LineEncoder(max_payload_bytes, self._record_line)
        self._withheld = 0  # records the user's redact callback dropped
        bind = getattr(exporter, "bind_stats", None)
        if callable(bind):
            bind(self.stats)
        self._self_counting = getattr(exporter, "counts_itself", False) is True
        # The exporter counts what it spools itself, before its drainer can deliver it (see
        # ``Exporter``): counted here after ``export()`` returns, a delivery could come first.
        self._spool_counted = getattr(exporter, "counts_spooled", False) is True
        self._init_state()

    @classmethod
    def from_config(cls, exporter: Exporter, cfg: Config) -> Pipeline:
        """The pipeline ``init()`` (and ``agentlog.testing.capture()``) runs for ``cfg``."""
        redactor = None
        if cfg.redact or cfg.redact_callback is not None:
            redactor = Redactor(
                keys=cfg.redact_keys,
                patterns=cfg.redact_patterns,
                callback=cfg.redact_callback,
                masking=cfg.redact,
            )
        pipeline = cls(
            exporter,
            max_batch=cfg.max_batch,
            idle_flush=cfg.idle_flush,
            max_delay=cfg.max_delay,
            max_queue=cfg.max_queue,
            max_payload_bytes=cfg.max_payload_bytes,
            redactor=redactor,
        )
        if cfg.sample_rate < 1.0:  # imported only then: rate 1.0 costs no import time either
            from ._sampling import install as install_sampling

            install_sampling(pipeline, cfg.sample_rate, cfg.keep_errors)
        return pipeline

    def _init_state(self) -> None:
        self._buf: deque[RawRecord] = deque()
        self._in_process: list[RawRecord] = []
        self._inflight_lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition(threading.Lock())
        self._flush_requested = 0
        self._flush_done = 0
        self._flush_deadline = 0.0  # the latest deadline among the flushes waiting
        self._flush_ok = True  # what the exporter's force_flush said for _flush_done
        self._stopping = False
        self._stopped = False
        self._alive = False
        # The decorators' fast path appends to ``_buf`` itself while its length is below
        # ``_room`` (see ``emit``): the queue's bound while the worker runs and this class's own
        # ``emit`` takes records, else 0, so that every record then goes through ``emit``.
        self._room = 0
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # -- caller side -------------------------------------------------------------------------

    def emit(self, rec: RawRecord) -> None:
        """Append one raw record. Never blocks, never raises, never does I/O.

        A sync decorated call does this inline when ``len(_buf) < _room`` (no frame for a call:
        a few hundred instructions of its ~10,000): its record goes into ``_buf`` the same way,
        and it wakes the worker on the same transitions (``n == 0`` or ``n == _wake_at``).
        """
        buf = self._buf
        n = len(buf)
        if n >= self.max_queue or self._stopped:
            self.stats.add("dropped", [record_session_id(rec)])
            return
        buf.append(rec)
        # Wake the worker only on the two transitions it cannot see coming: the first record
        # after a quiet spell, and the batch filling up. Setting the event on every record
        # would take a lock per call and bounce the GIL to the worker.
        if n == 0 or n == self._wake_at:
            self._wake.set()
        if not self._alive:
            self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._alive or self._stopped:
                return
            self._alive = True
            t = quiet_thread(target=self._run, name="agentlog-worker", daemon=True)
            self._thread = t
            t.start()
            own = getattr(self.emit, "__func__", None) is Pipeline.emit  # no sampler in front
            self._room = self.max_queue if own else 0

    def after_fork_in_child(self) -> None:
        """The child keeps nothing of the parent's buffer and starts its own worker lazily."""
        self.stats = Stats()
        self._withheld = 0
        bind = getattr(self.exporter, "bind_stats", None)
        if callable(bind):
            bind(self.stats)
        self._init_state()
        hook = getattr(self.exporter, "after_fork_in_child", None)
        if callable(hook):
            hook()

    # -- worker side -------------------------------------------------------------------------

    def _run(self) -> None:
        suppressed_var.set(True)  # exporter code never records itself
        try:
            self._loop()
        except BaseException:  # pragma: no cover - interpreter teardown
            log.debug("agentlog worker stopped", exc_info=True)
        finally:
            self._room = 0
            self._alive = False
            with self._done:
                self._done.notify_all()

    def _loop(self) -> None:
        buf = self._buf
        step = min(self.idle_flush, self.max_delay) / 4
        first_seen = last_change = 0.0
        last_len = 0
        while True:
            self._wake.clear()
            flushing = self._flush_requested != self._flush_done
            if not buf:
                if flushing:
                    self._finish_flush()
                    continue
                if self._stopping:
                    return
                last_len = 0
                self._wake.wait(1.0)
                continue
            now = time.monotonic()
            n = len(buf)
            if last_len == 0:
                first_seen = last_change = now
            elif n != last_len:
                last_change = now
            last_len = n
            due = (
                flushing
                or self._stopping
                or n >= self.max_batch
                or now - last_change >= self.idle_flush
                or now - first_seen >= self.max_delay
            )
            if not due:
                self._wake.wait(step)
                continue
            self._export_some(self.max_batch)
            last_len = 0 if not buf else len(buf)
            first_seen = last_change = time.monotonic()

    def _finish_flush(self) -> None:
        with self._done:
            target = self._flush_requested
            left = self._flush_deadline - time.monotonic()
        try:
            # The caller's whole timeout: an exporter may need it to deliver (a backlog).
            ok = bool(self.exporter.force_flush(max(0.0, left)))
        except Exception:
            warn_once("pipeline-flush", "agentlog: exporter force_flush failed")
            ok = False
        with self._done:
            self._flush_done = target
            self._flush_ok = ok
            self._done.notify_all()

    def _export_some(self, limit: int) -> None:
        buf = self._buf
        raw: list[RawRecord] = []
        try:
            # The pops run in C. Should shutdown empty the buffer meanwhile, the IndexError
            # leaves in ``raw`` what was taken: ``extend`` keeps the items it got.
            raw.extend(starmap(buf.popleft, repeat((), min(limit, len(buf)))))
        except IndexError:
            pass
        if not raw:
            return
        self._in_process = raw
        try:
            batch = self.encode(raw)
            if len(batch):
                try:
                    result = self.exporter.export(batch)
                except Exception as exc:  # exporters must not raise; count it if one does
                    warn_once("pipeline-export-raised", "agentlog: exporter raised")
                    result = ExportResult.failure(repr(exc))
                with self._inflight_lock:
                    if self._in_process is raw:  # else shutdown took this batch over
                        self._count(batch, result)
        except Exception:
            warn_once("pipeline-export", "agentlog: export failed")
            self.stats.add("failed", [record_session_id(r) for r in raw])
        finally:
            with self._inflight_lock:
                if self._in_process is raw:
                    self._in_process = []
            with self._done:
                self._done.notify_all()

    def _take_inflight(self) -> list[RawRecord]:
        """At shutdown: the batch an export call still holds becomes shutdown's to spool."""
        with self._inflight_lock:
            raw, self._in_process = self._in_process, []
        return raw

    def _count(self, batch: RecordBatch, result: ExportResult) -> None:
        if self._self_counting:
            return  # a fan-out counts each batch when its last lane is done with it
        sids = batch.session_ids
        if result.spooled:
            if not self._spool_counted:
                self.stats.add("spooled", sids)
        elif not result.ok:
            self.stats.add("failed", sids)
        elif result.rejected:
            bad = set(result.rejected)
            self.stats.add("failed", [s for i, s in enumerate(sids) if i in bad])
            self.stats.add("observed", [s for i, s in enumerate(sids) if i not in bad])
        else:
            self.stats.add("observed", sids)

    def encode(self, raw: list[RawRecord]) -> RecordBatch:
        """Raw records to JSON lines: formatting, truncation, then redaction.

        Redaction screens only what a user can put in a record (an event's data and error, a
        whole session or message record), for the whole batch in one pass: a batch with nothing
        secret-looking costs one scan, and only records that might hold a secret are walked.
        """
        parts, sids, screen, failed = self._encoder.encode(raw)
        batch = RecordBatch.from_jsonl(b"".join(parts), sids)
        redactor = self.redactor
        if redactor is not None and sids:
            batch = self._redact(redactor, batch, screen, failed)
        if failed:
            self.stats.add("failed", failed)
        return batch

    def _redact(
        self, redactor: Redactor, batch: RecordBatch, screen: list[bytes],
        failed: list[str | None],
    ) -> RecordBatch:  # fmt: skip
        callback = redactor.callback
        if callback is None and not redactor.needs_walk(b"\n".join(screen)):
            return batch
        lines, sids = batch.lines, batch.session_ids
        out_lines: list[bytes] = []
        out_sids: list[str | None] = []
        for line, sid, part in zip(lines, sids, screen, strict=True):
            try:
                if redactor.needs_walk(part):
                    line = orjson.dumps(redactor.redact(orjson.loads(line)))
                if callback is not None:
                    kept = callback(orjson.loads(line))
                    if kept is None:  # the user's callback chose to drop this record
                        failed.append(sid)
                        self._withheld += 1  # counted failed, yet no failure for flush()
                        continue
                    line = orjson.dumps(kept)
            except Exception:
                warn_once("pipeline-redact", "agentlog: redaction failed; record withheld")
                failed.append(sid)
                continue
            out_lines.append(line)
            out_sids.append(sid)
        return RecordBatch(out_lines, out_sids)

    def _record_line(self, rec: dict[str, Any]) -> bytes:
        """A session or message record's line: repaired if JSON refuses it, fields bounded."""
        try:
            line = orjson.dumps(rec)
        except TypeError:  # a lone surrogate, a value orjson does not know: repair, keep
            line = orjson.dumps(to_jsonable(rec))
        if len(line) > self.max_payload_bytes:
            line = orjson.dumps(
                bound_fields(orjson.loads(line), self.max_payload_bytes, _STRUCTURE)
            )
        return line

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` until everything recorded before this call reached its
        destination; True only if it did.

        False when the time ran out, when the exporter's ``force_flush`` says something it was
        given is not delivered (only spooled, or failed), or when records failed, were dropped or
        were left spooled while this flush ran.
        """
        if self._thread is threading.current_thread():
            return False
        if not self._alive and not self._stopped:
            self._start()
        if not self._alive:
            return not self._buf
        deadline = time.monotonic() + timeout
        before = self._undelivered()
        with self._done:
            self._flush_requested += 1
            target = self._flush_requested
            self._flush_deadline = max(self._flush_deadline, deadline)
            self._wake.set()
            while self._flush_done < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._alive:
                    return False
                self._done.wait(left)
            ok = self._flush_ok
        return ok and self._delivered_since(before)

    def _undelivered(self) -> tuple[int, int, int]:
        totals = self.stats.totals
        with self.stats._lock:
            return totals["failed"] - self._withheld, totals["dropped"], totals["spooled"]

    def _delivered_since(self, before: tuple[int, int, int]) -> bool:
        failed, dropped, spooled = self._undelivered()
        # Spooled records delivered meanwhile move back out of ``spooled``: compare the net.
        return failed == before[0] and dropped == before[1] and spooled <= before[2]

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Export what is left within ``timeout``; spool (or count as dropped) the rest."""
        if self._stopped:
            return True
        deadline = time.monotonic() + timeout
        ok = self.flush(timeout)
        self._stopping = True
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(max(0.0, deadline - time.monotonic()))
        self._room = 0
        self._stopped = True
        # An export call that outlived the deadline: an exporter with a spool answers for its
        # own in-flight batch (its shutdown() spools it); for one without, the batch is taken
        # over here and counted as dropped, so no record disappears from status() unseen.
        stuck = (
            t is not None and t.is_alive() and not callable(getattr(self.exporter, "spool", None))
        )
        left = self._take_inflight() if stuck else []
        left += [self._buf.popleft() for _ in range(len(self._buf))]
        if left:
            self._spool_or_drop(left)
        try:
            self.exporter.shutdown(max(0.1, deadline - time.monotonic()))
        except Exception:
            warn_once("pipeline-exporter-shutdown", "agentlog: exporter shutdown failed")
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(0.5)  # an export released by the exporter's shutdown: let it be counted
        return ok and not left

    def _spool_or_drop(self, raw: list[RawRecord]) -> None:
        spool: Callable[[RecordBatch], bool] | None = getattr(self.exporter, "spool", None)
        batch = self.encode(raw)
        if spool is not None:
            try:
                if spool(batch):
                    if not (self._self_counting or self._spool_counted):
                        self.stats.add("spooled", batch.session_ids)
                    return
            except Exception:
                warn_once("pipeline-spool", "agentlog: spool failed")
        self.stats.add("dropped", batch.session_ids)

    def status(self, session_id: str | None = None) -> PipelineStatus:
        pending = list(self._buf)
        busy = list(self._in_process)
        st = self.stats
        exporters: dict[str, ExporterStatus] = {}
        with st._lock:
            if session_id is None:
                counts = dict(st.totals)
                p, b = len(pending), len(busy)
            else:
                counts = dict(st.sessions.get(session_id) or dict.fromkeys(Stats._FIELDS, 0))
                p = sum(1 for r in pending if record_session_id(r) == session_id)
                b = sum(1 for r in busy if record_session_id(r) == session_id)
            updated = st.updated_at
        if session_id is None:
            exporters = self._exporter_status(counts, b)
            b += sum(e.in_process for e in exporters.values()) if self._self_counting else 0
        return PipelineStatus(
            pending=p, in_process=b, updated_at=updated, exporters=exporters, **counts
        )

    def _exporter_status(self, counts: dict[str, int], busy: int) -> dict[str, ExporterStatus]:
        per = getattr(self.exporter, "exporter_status", None)
        if callable(per):
            try:
                return dict(per())
            except Exception:
                warn_once("pipeline-exporter-status", "agentlog: exporter status failed")
                return {}
        return {exporter_name(self.exporter): ExporterStatus.of(busy, counts)}
