"""The ``http`` exporter: batches to an agentlog collector, with retries and a crash-safe spool.

A batch is sent once; if that fails transiently it is written to the spool *before* any retry
(so a process that exits or dies while waiting loses nothing), then retried with jittered
exponential backoff within ``retry_deadline``. What is still undelivered stays in the spool and
a drain thread re-sends it, oldest first, once the collector answers again. While this process
has a backlog, new batches queue behind it in the spool, so the collector sees them in order.
All waits are on the shutdown event: ``shutdown()`` never waits out a backoff, nor a request.
Each request runs on a short-lived thread the caller waits on; when shutdown starts, a request
still in flight is abandoned (its batch spooled) rather than waited out for ``timeout``: the
collector is idempotent by record id, so should the abandoned request still land, the later
re-send is a harmless duplicate.
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
from ._base import ExportResult, RecordBatch
from ._ingest import IngestClient, Outcome, backoff_delay
from ._spool import Spool, SpoolFile

if TYPE_CHECKING:
    from .._config import Config
    from .._stats import Stats

__all__ = ["HttpExporter"]

log = logging.getLogger("agentlog")
# How long a batch just handed back to the pipeline as "spooled" stays out of the drainer's reach.
_COUNT_GRACE = 0.05


class _Flight:
    """A batch ``export()`` is working on, so ``spool()`` at shutdown does not write it twice."""

    __slots__ = ("lines", "spooled")

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        self.spooled = False  # on disk already (write-ahead, or handed to ``spool()``)


class HttpExporter:
    """Sends batches to ``POST {endpoint}/v1/ingest``. Never raises out of its methods."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None = None,
        spool_dir: str = ".agentlog/spool",
        spool_max_bytes: int = 256 * 1024 * 1024,
        timeout: float = 10.0,
        retry_deadline: float = 5.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        compress_level: int = 5,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not endpoint or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.client = IngestClient(
            endpoint, api_key=api_key, timeout=timeout, compress_level=compress_level,
            headers=headers,
        )  # fmt: skip
        self.retry_deadline = (
            retry_deadline if retry_deadline is not None else max(30.0, 3 * timeout)
        )
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # Absolute now: a later chdir by the host must not move the spool.
        self._spool = Spool(Path(spool_dir).absolute(), max_bytes=spool_max_bytes)
        self._stats: Stats | None = None
        self._init_state()
        try:
            self._spool.open()
        except OSError as exc:
            warn_once(
                "spool-open", "agentlog: cannot use spool %s: %s", spool_dir, exc, exc_info=False
            )

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
        self._drainer: threading.Thread | None = None
        self._backlog = False  # this process has undelivered files: new batches queue behind
        self._held: deque[tuple[SpoolFile, float]] = deque()  # given up, still claimed
        self._failures = 0  # consecutive failed drain attempts (0: the collector answers)
        self._closed = False
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
        flight = _Flight(batch.lines)
        with self._flight_lock:
            self._flights.append(flight)
        try:
            return self._export(flight)
        except Exception as exc:  # never raise into the pipeline
            warn_once("http-export", "agentlog: http export failed: %r", exc)
            return ExportResult.failure(repr(exc))
        finally:
            with self._flight_lock:
                self._flights.remove(flight)
            with self._lock:
                self._changed.notify_all()  # shutdown() may be waiting for this export to end

    def _export(self, flight: _Flight) -> ExportResult:
        lines = flight.lines
        if not self._started:
            self._kick_drain()
        with self._lock:
            queue_behind = self._backlog or self._closed
        if queue_behind:
            return self._to_spool(lines)
        outcome = self._send(lines)
        if outcome is None:
            return self._abandon(flight)
        if outcome.settled:
            return self._result(outcome)
        try:  # write-ahead: from here on, exiting or crashing loses nothing
            with self._flight_lock:
                held = None if flight.spooled else self._make_room_and_write(lines, claim=True)
                flight.spooled = True
        except OSError as exc:
            warn_once("spool-write", "agentlog: cannot write to the spool: %s", exc, exc_info=False)
            held = None
        deadline = time.monotonic() + self.retry_deadline
        attempt = 0
        while True:
            delay = backoff_delay(
                attempt,
                base=self.backoff_base,
                cap=self.backoff_max,
                retry_after=outcome.retry_after,
            )
            if time.monotonic() + delay > deadline or self._stop.wait(delay):
                break
            attempt += 1
            retry = self._send(lines)
            if retry is None:
                break
            outcome = retry
            if outcome.settled:
                if held is not None:
                    held.complete()
                return self._result(outcome)
        if held is None:
            if self._stop.is_set():
                return self._abandon(flight)
            return ExportResult.failure(outcome.reason or "collector unreachable")
        with self._lock:
            self._failures = max(self._failures, attempt + 1)
        self._hold(held, max(delay, _COUNT_GRACE))  # the drainer takes it after this backoff
        return ExportResult(ok=False, spooled=True, reason=outcome.reason)

    def _send(self, lines: list[bytes]) -> Outcome | None:
        """One attempt that gives way to shutdown: None when shutdown began before it ended.

        The request runs on its own daemon thread: a collector that accepts the connection
        but never answers would otherwise hold the caller (and ``shutdown()``) for ``timeout``.
        """
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
            t = threading.Thread(target=run, name="agentlog-send", daemon=True)
            try:
                t.start()
            except RuntimeError:  # no threads left (or interpreter exit): send in this one
                return self.client.send(lines)
            wake.wait()
        finally:
            with self._lock:
                self._sending.discard(wake)
        return box[0] if box else None

    def _abandon(self, flight: _Flight) -> ExportResult:
        """Shutdown cut this export short: keep the batch on disk (once) for the next process."""
        try:
            with self._flight_lock:
                if not flight.spooled:
                    self._make_room_and_write(flight.lines, claim=False)
                    flight.spooled = True
        except OSError as exc:
            warn_once("spool-write", "agentlog: cannot write to the spool: %s", exc, exc_info=False)
            return ExportResult.failure(f"shutdown; spool: {exc}")
        return ExportResult(ok=False, spooled=True, reason="shutdown")

    @staticmethod
    def _result(outcome: Outcome) -> ExportResult:
        if outcome.kind == "refused":
            return ExportResult.failure(outcome.reason or "refused")
        return ExportResult(rejected=outcome.rejected, reason=outcome.reason)

    def _to_spool(self, lines: list[bytes]) -> ExportResult:
        try:
            held = self._make_room_and_write(lines, claim=True)
        except OSError as exc:
            warn_once("spool-write", "agentlog: cannot write to the spool: %s", exc, exc_info=False)
            return ExportResult.failure(f"spool: {exc}")
        self._hold(held, _COUNT_GRACE)
        return ExportResult(ok=False, spooled=True)

    def _hold(self, f: SpoolFile | None, delay: float) -> None:
        """Keep a just-spooled batch claimed for ``delay`` seconds, then hand it to the drainer.

        The pipeline counts a batch as spooled only after ``export()`` returns; were the drainer
        to deliver it before that, the per-session move from spooled to observed would miss it.
        """
        with self._lock:
            if f is not None:
                if self._closed:  # shutting down: free it for the next process at once
                    f.release()
                else:
                    self._held.append((f, time.monotonic() + delay))
            self._release_expired_held()
            self._backlog = True
        self._kick_drain()

    def _release_expired_held(self) -> None:
        """Under the lock: past their delay, held files go back to plain files (fewer open fds)."""
        now = time.monotonic()
        while self._held and self._held[0][1] <= now:
            self._held.popleft()[0].release()

    def _make_room_and_write(self, lines: list[bytes], *, claim: bool) -> SpoolFile | None:
        size = sum(len(line) + 1 for line in lines)
        if size > self._spool.max_bytes:
            raise OSError(f"a batch of {size} bytes exceeds spool_max_bytes")
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
        return self._spool.write(lines, claim=claim)

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
                    self._make_room_and_write(batch.lines, claim=False)
                if flight is not None:
                    flight.spooled = True
        except Exception as exc:
            warn_once("spool-write", "agentlog: cannot write to the spool: %s", exc, exc_info=False)
            return False
        return True

    def force_flush(self, timeout: float = 5.0) -> bool:
        """Wait for this process's backlog to be delivered, unless the collector is failing."""
        try:
            return self._wait_backlog(timeout)
        except Exception:
            warn_once("http-flush", "agentlog: http exporter flush failed")
            return False

    def _wait_backlog(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._backlog:
            self._kick_drain()
        with self._lock:
            while self._backlog:
                left = deadline - time.monotonic()
                # While the collector fails, waiting would only hold the caller up.
                if left <= 0 or self._failures or self._stop.is_set():
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop at once: requests in flight are abandoned and their batches spooled."""
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            with self._lock:
                self._closed = True
                self._stop.set()
                for wake in self._sending:
                    wake.set()
                # An export() cut short is spooling its batch: let it finish before closing.
                while self._flights and (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
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
        """The child gets its own client and identity; the parent's batches stay the parent's."""
        held = [f for f, _ in self._held]
        self._init_state()
        for f in held:
            f.forget()  # the parent still holds these claims and will send them
        self.client.reopen()
        try:
            self._spool.after_fork_in_child()
        except OSError:
            log.debug("agentlog: spool after fork", exc_info=True)

    # -- accounting ----------------------------------------------------------------------------

    def _count(self, f: SpoolFile, dst: str, indices: tuple[int, ...] | None = None) -> None:
        stats = self._stats
        if stats is None:
            return
        sids = f.session_ids
        if indices is not None:
            sids = [sids[i] for i in indices]
        if f.owner == self._spool.owner:
            stats.move("spooled", dst, sids)
        else:  # a previous process's records: this process counts only their fate
            stats.add(dst, sids)

    def _settle(self, f: SpoolFile, outcome: Outcome) -> None:
        f.complete()
        if outcome.kind == "refused":
            self._count(f, "failed")
        else:
            bad = set(outcome.rejected)
            self._count(f, "observed", tuple(i for i in range(len(f.lines)) if i not in bad))
            if bad:
                self._count(f, "failed", tuple(sorted(bad)))

    # -- the drain thread ----------------------------------------------------------------------

    def _kick_drain(self) -> None:
        with self._lock:
            self._started = True
            if self._closed or not self._spool.owner:
                return
            if self._drainer is not None and self._drainer.is_alive():
                return
            t = threading.Thread(target=self._drain, name="agentlog-spool", daemon=True)
            try:
                t.start()  # under the lock: two callers never start two drainers
            except RuntimeError:  # no threads left (or interpreter exit): the next kick retries
                warn_once("spool-thread", "agentlog: cannot start the spool drain thread")
                return
            self._drainer = t

    def _drain(self) -> None:
        suppressed_var.set(True)  # the drain thread never records itself
        try:
            while not self._stop.is_set():
                if not self._drain_pass():
                    return
        except Exception:
            warn_once("spool-drain", "agentlog: spool drain stopped unexpectedly")
        finally:
            with self._lock:
                if self._drainer is threading.current_thread():
                    self._drainer = None
                self._changed.notify_all()

    def _take_held(self, path: Path) -> SpoolFile | None:
        """A batch given up by ``export()``: adopted once its backoff is over."""
        with self._lock:
            entry = next((e for e in self._held if e[0].path == path), None)
        if entry is None:
            return None
        if self._stop.wait(max(0.0, entry[1] - time.monotonic())):
            return None
        with self._lock:
            if entry not in self._held:
                return None  # released meanwhile: now a plain file, claimed the usual way
            self._held.remove(entry)
        return entry[0]

    def _forget_vanished_held(self, paths: list[Path]) -> None:
        listed = set(paths)
        with self._lock:
            gone = [e for e in self._held if e[0].path not in listed]
            for e in gone:
                self._held.remove(e)
        for f, _ in gone:  # removed by someone else (or the whole spool was deleted)
            self._count(f, "dropped")
            f.release()

    def _drain_pass(self) -> bool:
        """Send what can be sent, oldest first. False: nothing left, the thread may end."""
        paths = self._spool.sendable()
        self._forget_vanished_held(paths)
        with self._lock:
            held_paths = {f.path for f, _ in self._held}
            if not paths:
                self._backlog = False
                self._drainer = None
                self._changed.notify_all()
                return False
        progress = False
        for path in paths:
            if self._stop.is_set():
                return False
            f = self._take_held(path) if path in held_paths else None
            if f is None and not self._stop.is_set():
                f = self._spool.claim(path)
            if f is None:
                continue  # being sent by another process, or already gone
            outcome = self._send(f.lines)
            if outcome is None:  # shutting down: the file stays for the next process
                f.release()
                return False
            if not outcome.settled:
                f.release()
                return self._wait_after_failure(outcome)
            self._settle(f, outcome)
            progress = True
            with self._lock:
                self._failures = 0
                self._changed.notify_all()
        # Only files another process is sending right now: look again a little later.
        return progress or not self._stop.wait(self.backoff_base)

    def _wait_after_failure(self, outcome: Outcome) -> bool:
        with self._lock:
            self._release_expired_held()
            self._failures += 1
            attempt = self._failures
            self._changed.notify_all()
        delay = backoff_delay(
            attempt - 1,
            base=self.backoff_base,
            cap=self.backoff_max,
            retry_after=outcome.retry_after,
        )
        return not self._stop.wait(delay)

    def __repr__(self) -> str:
        return f"HttpExporter({self.client.url!r}, spool={str(self._spool.directory)!r})"
