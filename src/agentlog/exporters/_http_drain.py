"""The ``http`` exporter's drain thread: re-sends its spool, oldest first, and keeps probing.

While a backlog exists the collector is probed at least every ``probe_interval`` seconds (or as
a ``Retry-After`` asks), and every ``_POLL`` seconds while someone waits for the backlog
(``force_flush()``, ``shutdown()``): a collector that comes back is noticed within seconds, not
after an exponential backoff has grown to half a minute. A refused key is not probed that
eagerly: it does not heal by itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._context import suppressed_var
from .._log import warn_once
from .._signals import quiet_thread
from ._ingest import MAX_RETRY_AFTER, Outcome, backoff_delay
from ._spool import Spool, SpoolFile

if TYPE_CHECKING:
    from .._stats import Stats
    from ._health import Health

__all__ = ["DrainMixin"]

# How often a drain that someone waits for looks again.
_POLL = 0.25


class DrainMixin:
    """Mixed into ``HttpExporter``; every attribute below is set up by it."""

    _lock: threading.Lock
    _changed: threading.Condition
    _stop: threading.Event
    _spool: Spool
    _stats: Stats | None
    _health: Health
    _closing: bool
    _closed: bool
    _lost: bool
    _flights: list[Any]
    backoff_base: float
    backoff_max: float
    probe_interval: float

    def _send(self, lines: list[bytes]) -> Outcome | None: ...  # pragma: no cover

    def _note(self, outcome: Outcome) -> None: ...  # pragma: no cover

    def _init_drain_state(self) -> None:
        self._drainer: threading.Thread | None = None
        self._drain_wake = threading.Event()  # cuts a drain's wait short
        self._backlog = False  # this process has undelivered files: new batches queue behind
        self._held: deque[tuple[SpoolFile, float]] = deque()  # given up, still claimed
        self._failures = 0  # consecutive failed attempts (0: the collector answers)
        self._auth_blocked = False  # the collector refused the key: waiting cannot help
        self._waiters = 0  # force_flush() / shutdown() calls waiting for the backlog
        self._written = 0  # batches held so far: a drain that listed none looks again if it moved

    def _wait_delivered(self, timeout: float, closing: bool = False) -> bool:
        """Wait for the backlog (and exports in flight) to be delivered; see ``force_flush``."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            self._waiters += 1
        try:
            self._kick_drain()
            self._wake_drain()  # probe now, not after the current backoff
            with self._lock:
                # Shutdown also gives what earlier processes left (the drainer's work) its time.
                while (
                    self._backlog
                    or (self._flights and not closing)
                    or (closing and self._drainer is not None)
                ):
                    left = deadline - time.monotonic()
                    if left <= 0 or self._auth_blocked or self._stop.is_set():
                        return False
                    self._changed.wait(min(left, _POLL))
                lost, self._lost = self._lost, False
                return not lost
        finally:
            with self._lock:
                self._waiters -= 1

    def _wake_drain(self) -> None:
        self._drain_wake.set()

    def _nap(self, delay: float) -> bool:
        """Wait ``delay`` (or until woken); False once the exporter stops."""
        self._drain_wake.wait(max(0.0, delay))
        self._drain_wake.clear()
        return not self._stop.is_set()

    def _release_expired_held(self) -> None:
        """Under the lock: past their delay, held files go back to plain files (fewer open fds)."""
        now = time.monotonic()
        while self._held and self._held[0][1] <= now:
            self._held.popleft()[0].release()

    # -- accounting ----------------------------------------------------------------------------

    def _count(self, f: SpoolFile, dst: str, indices: tuple[int, ...] | None = None) -> None:
        own = f.owner == self._spool.owner
        if own and dst != "observed":
            self._lost = True
        stats = self._stats
        if stats is None:
            return
        sids = f.session_ids
        if indices is not None:
            sids = [sids[i] for i in indices]
        if own:
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

    # -- the thread ----------------------------------------------------------------------------

    def _kick_drain(self) -> None:
        with self._lock:
            self._started = True
            if self._closed or not self._spool.owner:
                return
            if self._drainer is not None and self._drainer.is_alive():
                return
            t = quiet_thread(target=self._drain, name="agentlog-spool", daemon=True)
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
        """A batch given up by ``export()``: adopted once its backoff is over (or when woken)."""
        with self._lock:
            entry = next((e for e in self._held if e[0].path == path), None)
        if entry is None:
            return None
        left = entry[1] - time.monotonic()
        if left > 0 and not self._nap(left):
            return None
        with self._lock:
            if entry not in self._held:
                return None  # released meanwhile: now a plain file, claimed the usual way
            self._held.remove(entry)
        return entry[0]

    def _forget_vanished_held(self, paths: list[Path]) -> None:
        """Held files no longer on disk. Not merely absent from ``paths``: a batch written and
        held after the listing was taken is new, not gone (and still to be delivered)."""
        listed = set(paths)
        with self._lock:
            gone = [e for e in self._held if e[0].path not in listed and not e[0].path.exists()]
            for e in gone:
                self._held.remove(e)
        for f, _ in gone:  # removed by someone else (or the whole spool was deleted)
            self._count(f, "dropped")
            f.release()

    def _drain_pass(self) -> bool:
        """Send what can be sent, oldest first. False: nothing left, the thread may end."""
        with self._lock:
            written = self._written
        paths = self._spool.sendable()
        self._forget_vanished_held(paths)
        with self._lock:
            held_paths = {f.path for f, _ in self._held}
            if not paths:
                if written != self._written:
                    return True  # held while we listed: its kick saw this thread alive
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
            self._health.delivered()
            progress = True
            with self._lock:
                self._failures = 0
                self._auth_blocked = False
                self._changed.notify_all()
        # Only files another process is sending right now: look again a little later.
        return progress or self._nap(self.backoff_base)

    def _wait_after_failure(self, outcome: Outcome) -> bool:
        self._note(outcome)
        with self._lock:
            self._release_expired_held()
            self._failures += 1
            attempt = self._failures
            urgent = self._waiters > 0 or self._closing
            self._changed.notify_all()
        if outcome.kind == "auth":
            if self._closing:
                return False  # exiting: the key will not change before we do
            return self._nap(self.backoff_max)
        delay = backoff_delay(
            attempt - 1, base=self.backoff_base, cap=min(self.backoff_max, self.probe_interval),
            retry_after=None,
        )  # fmt: skip
        if urgent:
            delay = min(delay, _POLL)
        if outcome.retry_after is not None:  # the collector asked for a pause: honour it
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        return self._nap(delay)
