"""Spool-and-resend for an exporter whose endpoint is down: a thin drain loop over ``Spool``.

The exporter writes a batch it could not deliver with ``keep()``; a drain thread re-sends the
spooled batches oldest first, with jittered backoff capped at ``probe_interval`` (so an endpoint
that comes back is noticed within seconds), through the exporter's own ``send(lines) ->
Outcome``. Batches left by a process that exited (or died) are re-sent by the next one. While a
backlog exists new batches should queue behind it (``backlog``), so the endpoint sees them in
order. ``wait_delivered()`` waits for the backlog (``force_flush``); ``shutdown()`` spends its
timeout delivering it before it stops.

``keep()`` counts the batch as spooled while it still holds the new file's claim, so the
drainer's later move from spooled to observed always finds it counted, however late the
exporting thread runs again (the exporter says ``counts_spooled``: the pipeline does not count).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .._context import suppressed_var
from .._log import warn_once
from .._signals import quiet_thread
from ._health import Health
from ._ingest import MAX_RETRY_AFTER, Outcome, backoff_delay
from ._spool import Spool, SpoolFile

if TYPE_CHECKING:
    from .._stats import Stats

__all__ = ["Resender"]

log = logging.getLogger("agentlog")
_POLL = 0.25  # how often a drain that someone waits for looks again


class Resender:
    def __init__(
        self,
        directory: Path,
        send: Callable[[list[bytes]], Outcome],
        *,
        max_bytes: int,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        probe_interval: float = 2.0,
        name: str = "spool",
        endpoint: str = "the endpoint",
    ) -> None:
        self.spool = Spool(directory, max_bytes=max_bytes)
        self._send = send
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.probe_interval = probe_interval
        self._name = name
        self.health = Health(endpoint, directory)
        self._stats: Stats | None = None
        self._init_state()
        try:
            self.spool.open(label=endpoint)
        except OSError as exc:
            self.health.spool_failed(exc)

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._wake = threading.Event()  # cuts the drainer's wait short
        self._drainer: threading.Thread | None = None
        self.backlog = False  # this process has undelivered files: new batches queue behind
        self._written = 0  # batches kept so far: a drainer that found none looks again if it moved
        self._waiters = 0  # wait_delivered() calls: the drainer probes more often meanwhile
        self.lost = False  # own spooled records dropped or refused since the last wait_delivered

    def bind_stats(self, stats: Stats) -> None:
        self._stats = stats
        self.kick()  # batches left by earlier processes

    def keep(self, lines: list[bytes], session_ids: list[str | None]) -> bool:
        """Spool one batch for a later re-send, counted as spooled; False if the disk refused
        it (nothing counted)."""
        try:
            size = sum(len(line) + 1 for line in lines)
            if size > self.spool.max_bytes:
                raise OSError(f"a batch of {size} bytes exceeds spool_max_bytes")
            self.spool.ensure_open()
            for victim in self.spool.make_room(size):
                self._count(victim, "dropped")
                warn_once(
                    f"{self._name}-spool-full", "agentlog: spool full, dropped its oldest batches",
                    exc_info=False,
                )  # fmt: skip
            f = self.spool.write(lines, claim=True)
        except OSError as exc:
            self.health.spool_failed(exc)
            return False
        self.health.spool_written()
        if self._stats is not None:
            self._stats.add("spooled", session_ids)
        if f is not None:
            f.release()  # counted: the drainer may take it now
        with self._lock:
            self.backlog = True
            self._written += 1
        self.kick()
        return True

    def kick(self) -> None:
        with self._lock:
            if self._stop.is_set() or not self.spool.owner:
                return
            if self._drainer is not None and self._drainer.is_alive():
                return
            t = quiet_thread(target=self._drain, name=f"agentlog-{self._name}", daemon=True)
            try:
                t.start()
            except RuntimeError:  # no threads left: the next kick retries
                return
            self._drainer = t

    def delivered_live(self) -> None:
        """The endpoint took a batch: say so if it was down, and drain the backlog now."""
        self.health.delivered()
        if self.backlog:
            self._wake.set()

    def wait_delivered(self, timeout: float, *, closing: bool = False) -> bool:
        """Wait up to ``timeout`` for the backlog to be delivered; False if it was not, or if
        own spooled records were dropped or refused since the previous call."""
        deadline = time.monotonic() + max(0.0, timeout)
        self.kick()
        with self._lock:
            self._waiters += 1
            self._wake.set()
            try:
                while self.backlog or (closing and self._drainer is not None):
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stop.is_set():
                        return False
                    self._changed.wait(min(left, _POLL))
                lost, self.lost = self.lost, False
                return not lost
            finally:
                self._waiters -= 1

    def shutdown(self, timeout: float) -> None:
        """Deliver the backlog within ``timeout``; what is left stays for the next process."""
        deadline = time.monotonic() + max(0.0, timeout)
        self.wait_delivered(timeout * 0.9, closing=True)
        self.stop(max(0.0, deadline - time.monotonic()))

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        t = self._drainer
        if t is not None and t is not threading.current_thread():
            t.join(max(0.0, timeout))
        self.spool.close()

    def after_fork_in_child(self) -> None:
        self._init_state()
        self.health.after_fork_in_child()
        try:
            self.spool.after_fork_in_child()
        except OSError as exc:
            self.health.spool_failed(exc)

    def _count(self, f: SpoolFile, dst: str, indices: tuple[int, ...] | None = None) -> None:
        if f.owner == self.spool.owner and dst != "observed":
            self.lost = True
        if self._stats is None:
            return
        sids = f.session_ids
        if indices is not None:
            sids = [sids[i] for i in indices]
        if f.owner == self.spool.owner:
            self._stats.move("spooled", dst, sids)
        else:  # a previous process's records: this process counts only their fate
            self._stats.add(dst, sids)

    def _own(self, path: Path) -> bool:
        return f"-{self.spool.owner}-" in path.name

    def _drain(self) -> None:
        suppressed_var.set(True)  # the drain thread never records itself
        failures = 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    written = self._written
                paths = self.spool.sendable()
                if not paths:
                    with self._lock:
                        if written != self._written:
                            continue  # kept while we listed: its kick saw this thread alive
                        self.backlog = False
                        self._drainer = None
                        self._changed.notify_all()
                    return
                wait = self.backoff_base / 10  # only claimed files: look again
                progress = False
                for path in paths:
                    if self._stop.is_set():
                        return
                    f = self.spool.claim(path)
                    if f is None:
                        if self._own(path):
                            break  # keep() is counting it: nothing newer goes before it
                        continue  # another process is sending it
                    outcome = self._send(f.lines)
                    if not outcome.settled:
                        f.release()
                        failures += 1
                        wait = self._delay_after(failures, outcome)
                        self.health.unreachable(outcome.reason)
                        break
                    failures = 0
                    progress = True
                    self.health.delivered()
                    f.complete()
                    if outcome.kind == "refused":
                        self._count(f, "failed")
                        continue
                    bad = set(outcome.rejected)
                    self._count(
                        f, "observed", tuple(i for i in range(len(f.lines)) if i not in bad)
                    )
                    if bad:
                        self._count(f, "failed", tuple(sorted(bad)))
                    with self._lock:
                        self._changed.notify_all()
                else:
                    if progress:
                        continue  # a full pass that sent something: list again at once
                self._wake.wait(wait)
                self._wake.clear()
        except Exception:
            warn_once(f"{self._name}-drain", "agentlog: spool drain stopped unexpectedly")
        finally:
            with self._lock:
                if self._drainer is threading.current_thread():
                    self._drainer = None
                self._changed.notify_all()

    def _delay_after(self, failures: int, outcome: Outcome) -> float:
        """Backoff capped at ``probe_interval``; shorter while someone waits; never shorter
        than a ``Retry-After``."""
        delay = backoff_delay(
            failures - 1, base=self.backoff_base, cap=min(self.backoff_max, self.probe_interval),
            retry_after=None,
        )  # fmt: skip
        if self._waiters:
            delay = min(delay, _POLL)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        return delay
