"""The ``http`` exporter: batches to an agentlog collector, with retries and a crash-safe spool.

A batch is sent once; if that fails it is written to the spool *before* any retry (so a process
that exits or dies while waiting loses nothing) and handed to a drain thread, which re-sends the
spool oldest first with jittered backoff, probing the collector at least every
``probe_interval`` seconds; a batch delivered live wakes it at once. The worker itself retries
only within ``retry_deadline`` (0 by default): it never waits out an outage. While this process has a backlog, new batches queue
behind it in the spool, so the collector sees them in order. ``shutdown()`` spends what is left
of its timeout delivering the backlog, then abandons what is still in flight (spooled already).

The spool is per destination (``destination_dir``: endpoint and key): a run with another key or
endpoint never sends or deletes these batches. A 401/403 deletes nothing: the batch is kept for
when a valid key is used. With the spool unusable too (full, read-only), a batch that cannot be
delivered at once is counted failed without retries: the worker keeps its pace.

Each request runs on a short-lived thread the caller waits on (with a timeout); when shutdown
starts, a request still in flight is abandoned: the collector is idempotent by record id, so
should it still land, the later re-send is a harmless duplicate. Nothing here is imported, and
no lock taken, on a send that a forked child could inherit held (see ``after_fork_in_child``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from .._context import suppressed_var
from .._log import warn_once
from .._signals import quiet_thread
from ._base import ExportResult, RecordBatch
from ._health import Health
from ._http_drain import DrainMixin
from ._ingest import COMPRESS_LEVEL, IngestClient, Outcome, backoff_delay
from ._spool import Spool, SpoolFile, destination_dir

if TYPE_CHECKING:
    from .._config import Config
    from .._stats import Stats

__all__ = ["HttpExporter"]

log = logging.getLogger("agentlog")


class _Flight:
    """A batch ``export()`` is working on, so ``spool()`` at shutdown does not write it twice."""

    __slots__ = ("lines", "session_ids", "spooled")

    def __init__(self, lines: list[bytes], session_ids: list[str | None]) -> None:
        self.lines = lines
        self.session_ids = session_ids
        self.spooled = False  # on disk already (write-ahead, or handed to ``spool()``)


class HttpExporter(DrainMixin):
    """Sends batches to ``POST {endpoint}/v1/ingest``. Never raises out of its methods.

    A batch it spools is counted as spooled here, while the file is still claimed, before the
    drain thread can deliver it and move it to observed (``counts_spooled``).
    """

    counts_spooled = True

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        spool_dir: str = ".agentlog/spool",
        spool_max_bytes: int = 256 * 1024 * 1024,
        timeout: float = 10.0,
        retry_deadline: float = 0.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        probe_interval: float = 2.0,
        compress_level: int = COMPRESS_LEVEL,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not endpoint or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.client = IngestClient(
            endpoint, api_key=api_key, timeout=timeout, compress_level=compress_level,
            headers=headers,
        )  # fmt: skip
        self.retry_deadline = retry_deadline
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.probe_interval = probe_interval
        # Absolute now: a later chdir by the host must not move the spool.
        directory = destination_dir(Path(spool_dir).absolute(), "http", self.client.url, api_key)
        self._spool = Spool(directory, max_bytes=spool_max_bytes)
        self._health = Health(self.client.url, directory)
        self._stats: Stats | None = None
        self._init_state()
        try:
            self._spool.open(label=self.client.url)
        except OSError as exc:
            self._health.spool_failed(exc)

    @classmethod
    def from_config(cls, cfg: Config) -> HttpExporter:
        if not cfg.endpoint:
            raise ValueError("endpoint: the http exporter needs endpoint='http://host:port'")
        return cls(
            cfg.endpoint, api_key=cfg.api_key, spool_dir=cfg.spool_dir,
            spool_max_bytes=cfg.spool_max_bytes, timeout=cfg.export_timeout,
        )  # fmt: skip

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._init_drain_state()
        self._closing = False  # shutdown() is delivering the backlog: new batches queue behind
        self._closed = False  # shutdown() gave up: nothing more is sent
        self._lost = False  # a batch handed to export() failed (or lost records) since force_flush
        self._pid = os.getpid()
        self._started = False  # the drain of spool files left by earlier processes
        self._flights: list[_Flight] = []  # batches inside export(), guarded by _flight_lock
        self._flight_lock = threading.Lock()  # held across a spool write: one copy per batch
        self._sending: set[threading.Event] = set()  # one per request in flight; set: give way

    def bind_stats(self, stats: Stats) -> None:
        """Called by the pipeline at start: counters bound, the spool left by others is drained."""
        self._stats = stats
        if os.getpid() == self._pid:  # in a forked child this runs before after_fork_in_child
            self._kick_drain()

    # -- the pipeline's calls ------------------------------------------------------------------

    def export(self, batch: RecordBatch) -> ExportResult:
        if not len(batch):
            return ExportResult()
        flight = _Flight(batch.lines, batch.session_ids)
        with self._flight_lock:
            self._flights.append(flight)
        try:
            result = self._export(flight)
        except Exception as exc:  # never raise into the pipeline
            warn_once("http-export", "agentlog: http export failed: %r", exc)
            result = ExportResult.failure(repr(exc))
        finally:
            with self._flight_lock:
                self._flights.remove(flight)
            with self._lock:
                self._changed.notify_all()  # shutdown() may be waiting for this export to end
        if result.rejected or not (result.ok or result.spooled):
            self._lost = True
        return result

    def _export(self, flight: _Flight) -> ExportResult:
        lines = flight.lines
        if not self._started:
            self._kick_drain()
        with self._lock:
            queue_behind = self._backlog or self._closing
        if queue_behind:
            queued = self._to_spool(lines, flight.session_ids)
            if queued is not None:
                return queued
            # The spool refused it: a live send, out of order, beats losing the batch.
        outcome = self._send(lines)
        if outcome is None:
            return self._abandon(flight)
        if outcome.settled:
            return self._delivered(outcome)
        held = self._write_ahead(flight)
        if held is None:
            self._note(outcome)
            if flight.spooled:  # shutdown's spool() wrote it meanwhile
                return ExportResult(ok=False, spooled=True, reason=outcome.reason)
            # No spool either: counted failed now, without retries, so the worker keeps pace.
            return ExportResult.failure(outcome.reason or "collector unreachable")
        delay = 0.0
        attempt = 0
        deadline = time.monotonic() + self.retry_deadline
        while outcome.kind == "transient":  # a refused key does not heal by retrying
            delay = backoff_delay(
                attempt, base=self.backoff_base, cap=self.backoff_max,
                retry_after=outcome.retry_after,
            )  # fmt: skip
            if time.monotonic() + delay > deadline or self._stop.wait(delay):
                break
            attempt += 1
            retry = self._send(lines)
            if retry is None:
                break
            outcome = retry
            if outcome.settled:
                held.complete()
                return self._delivered(outcome)
        self._note(outcome)
        with self._lock:
            self._failures = max(self._failures, attempt + 1)
        self._hold(held, delay, flight.session_ids)  # the drainer takes it after this backoff
        return ExportResult(ok=False, spooled=True, reason=outcome.reason)

    def _write_ahead(self, flight: _Flight) -> SpoolFile | None:
        """The batch on disk, claimed, before any retry: from here on a crash loses nothing."""
        try:
            with self._flight_lock:
                if flight.spooled:
                    return None
                held = self._make_room_and_write(flight.lines, claim=True)
                flight.spooled = True
            return held
        except OSError as exc:
            self._health.spool_failed(exc)
            return None

    def _delivered(self, outcome: Outcome) -> ExportResult:
        self._health.delivered()
        with self._lock:
            self._failures = 0
            backlog = self._backlog
        if backlog:
            self._wake_drain()  # the collector is back: drain now, not after the backoff
        if outcome.kind == "refused":
            return ExportResult.failure(outcome.reason or "refused")
        return ExportResult(rejected=outcome.rejected, reason=outcome.reason)

    def _note(self, outcome: Outcome) -> None:
        if outcome.kind == "auth":
            self._health.refused_key(outcome.reason)
            with self._lock:
                self._auth_blocked = True
                self._changed.notify_all()
        else:
            self._health.unreachable(outcome.reason)

    def _send(self, lines: list[bytes]) -> Outcome | None:
        """One attempt that gives way to shutdown: None when shutdown began before it ended.
        The request runs on its own daemon thread: a collector that accepts the connection
        but never answers would otherwise hold the caller (and ``shutdown()``) for ``timeout``."""
        wake = threading.Event()
        box: list[Outcome] = []

        def run() -> None:
            suppressed_var.set(True)  # a fresh thread starts with a fresh context
            try:
                box.append(self.client.send(lines))
            finally:
                wake.set()

        with self._lock:
            if self._stop.is_set():
                return None
            self._sending.add(wake)
        try:
            t = quiet_thread(target=run, name="agentlog-send", daemon=True)
            try:
                t.start()
            except RuntimeError:  # no threads left (or interpreter exit): send in this one
                return self.client.send(lines)
            # The timeout is per step (connect, each send, each read): bound the whole request too.
            if not wake.wait(self.client.timeout * 3 + 1.0):
                return Outcome("transient", reason="no answer in time")
        finally:
            with self._lock:
                self._sending.discard(wake)
        return box[0] if box else None

    def _abandon(self, flight: _Flight) -> ExportResult:
        """Shutdown cut this export short: keep the batch on disk (once) for the next process."""
        try:
            with self._flight_lock:
                if not flight.spooled:
                    self._keep(flight.lines, flight.session_ids)
                    flight.spooled = True
        except OSError as exc:
            self._health.spool_failed(exc)
            return ExportResult.failure(f"shutdown; spool: {exc}")
        return ExportResult(ok=False, spooled=True, reason="shutdown")

    def _to_spool(self, lines: list[bytes], session_ids: list[str | None]) -> ExportResult | None:
        """Queued behind the backlog; None if the spool refused it."""
        try:
            held = self._make_room_and_write(lines, claim=True)
        except OSError as exc:
            self._health.spool_failed(exc)
            return None
        self._hold(held, 0.0, session_ids)
        return ExportResult(ok=False, spooled=True)

    def _hold(self, f: SpoolFile | None, delay: float, session_ids: list[str | None]) -> None:
        """Count a just-spooled (claimed) batch as spooled, keep it claimed for ``delay``
        seconds (a backoff), then hand it to the drainer.

        Counted before the claim is handed over: the drainer's move from spooled to observed
        always finds the records counted, however late the exporting thread runs again.
        """
        self._count_spooled(session_ids)
        with self._lock:
            if f is not None:
                if self._closed:  # given up: free it for the next process at once
                    f.release()
                else:
                    self._held.append((f, time.monotonic() + delay))
            self._written += 1  # a drainer ending on an empty listing looks again
            self._release_expired_held()
            self._backlog = True
        self._kick_drain()

    def _keep(self, lines: list[bytes], session_ids: list[str | None]) -> None:
        """Write a batch for a later process (at shutdown), counted before anyone can send it."""
        f = self._make_room_and_write(lines, claim=True)
        self._count_spooled(session_ids)
        if f is not None:
            f.release()

    def _count_spooled(self, session_ids: list[str | None]) -> None:
        if self._stats is not None:
            self._stats.add("spooled", session_ids)

    def _make_room_and_write(self, lines: list[bytes], *, claim: bool) -> SpoolFile | None:
        size = sum(len(line) + 1 for line in lines)
        if size > self._spool.max_bytes:
            raise OSError(f"a batch of {size} bytes exceeds spool_max_bytes")
        self._spool.ensure_open()
        with self._lock:  # so the drainer cannot take a held file while it is being dropped
            dropped = self._spool.make_room(size, {f.path: f for f, _ in self._held})
            if dropped:
                gone = {id(f) for f in dropped}
                self._held = deque(e for e in self._held if id(e[0]) not in gone)
        for victim in dropped:
            self._count(victim, "dropped")
            warn_once(
                "spool-full", "agentlog: spool full, dropped its oldest batches", exc_info=False
            )
        written = self._spool.write(lines, claim=claim)
        self._health.spool_written()
        return written

    def spool(self, batch: RecordBatch) -> bool:
        """At shutdown: keep what could not be sent for the next process.

        Safe while ``export()`` is still working on the same batch (the pipeline hands over its
        in-flight batch when the shutdown deadline passes): the batch is written to disk once,
        whichever of the two gets there first.
        """
        if not len(batch):
            return True
        try:
            with self._flight_lock:
                flight = next((f for f in self._flights if f.lines == batch.lines), None)
                if flight is None or not flight.spooled:
                    self._keep(batch.lines, batch.session_ids)
                if flight is not None:
                    flight.spooled = True
        except Exception as exc:  # OSError: the disk refused; anything else: still not raised
            self._health.spool_failed(exc)
            return False
        return True

    def force_flush(self, timeout: float = 5.0) -> bool:
        """True only when everything handed to ``export()`` (since the previous call) was
        delivered: nothing failed, nothing is in flight, nothing waits in this process's spool.
        Waits up to ``timeout`` for the backlog to drain (probing the collector meanwhile);
        returns False at once when it cannot drain (the key was refused, or shutdown gave up)."""
        try:
            return self._wait_delivered(timeout)
        except Exception:
            warn_once("http-flush", "agentlog: http exporter flush failed")
            return False

    def shutdown(self, timeout: float = 5.0) -> None:
        """Deliver the backlog within ``timeout`` (oldest first), then stop: what is still in
        flight is abandoned (its batch spooled) and the rest stays for the next process."""
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            # The last part of the timeout is for in-flight exports to write their batches.
            drain_until = deadline - min(0.5, max(0.0, timeout) / 5)
            with self._lock:
                self._closing = True
            self._wait_delivered(drain_until - time.monotonic(), closing=True)
            with self._lock:
                self._closed = True
                self._stop.set()
                for wake in self._sending:
                    wake.set()
                # An export() cut short is spooling its batch: let it finish before closing.
                while self._flights and (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
            self._wake_drain()
            t = self._drainer
            if t is not None and t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))
            with self._lock:
                while self._held:
                    self._held.popleft()[0].release()
            self.client.close()
            self._spool.close()
        except Exception:
            log.debug("agentlog: http exporter shutdown", exc_info=True)

    def after_fork_in_child(self) -> None:
        """The child gets its own client, locks and identity; the parent's batches stay the
        parent's. Every lock and event is new: one held by a parent thread at fork (a send in
        flight) would otherwise block the child for good."""
        held = [f for f, _ in self._held]
        self._init_state()
        self._health.after_fork_in_child()
        for f in held:
            f.forget()  # the parent still holds these claims and will send them
        self.client.reopen()
        try:
            self._spool.after_fork_in_child()
        except OSError as exc:
            self._health.spool_failed(exc)

    def __repr__(self) -> str:
        return f"HttpExporter({self.client.url!r}, spool={str(self._spool.directory)!r})"
