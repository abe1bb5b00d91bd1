"""SQLite WAL checkpoints on a thread of their own, off the writer's commit.

With SQLite's own automatic checkpoint, the commit that crosses the threshold copies the whole
WAL back into the database file and syncs it before it returns: a batch of thousands of events
writes thousands of pages, so one ingest call in a few paid for everyone's (about a third of
the commit time in ``benchmarks/store_bench.py --preload``). Here a writer only pokes this
thread after it commits; the thread runs a PASSIVE checkpoint, which never takes the write
lock, so the copy and its fsync overlap the next batch. The automatic checkpoint stays on as
the backstop (at the threshold the store sets) should this thread fall behind or fail.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from .._log import warn_once
from .._signals import quiet_thread

__all__ = ["Checkpointer"]

# At most this many checkpoints a second: commits that come faster share one, which copies
# what they wrote in one pass and one fsync (a small commit must not cost an fsync of its own).
_MIN_GAP_S = 0.2
# The thread ends after this long without a commit (a store left open but idle, or dropped
# without close(), keeps no thread); the next commit starts it again.
_IDLE_S = 30.0


class Checkpointer:
    """Checkpoints ``path``'s WAL in the background, after writers ``poke()`` it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._done = threading.Condition()
        self.runs = 0  # checkpoints that ran
        self.failures = 0  # and those that failed

    def poke(self) -> None:
        """A write transaction committed: checkpoint soon. Cheap; never blocks or raises."""
        if self._pid != os.getpid():  # first use, or a forked child: the thread is not here
            self._start()
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() or self._stop.is_set():
                return
            if self._pid:  # a forked child: fresh primitives, the parent's thread may have
                # been using them at the fork (after an idle stop, waiters keep theirs)
                self._wake = threading.Event()
                self._done = threading.Condition()
            self._thread = quiet_thread(target=self._run, name="agentlog-sqlite-checkpoint",
                                        daemon=True)  # fmt: skip
            self._thread.start()
            self._pid = os.getpid()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                if not self._wake.wait(_IDLE_S):
                    with self._lock:
                        if not self._wake.is_set():
                            # A poke that races this sees the thread alive and is lost: its
                            # commit's pages wait for the next commit (or the backstop).
                            self._pid = 0
                            return
                if self._stop.is_set():
                    return
                self._wake.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None,
                                               check_same_thread=False)  # fmt: skip
                    # PASSIVE: copies what no reader still needs, waits on no lock.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._count(failed=False)
                except sqlite3.Error as exc:
                    # The writers' automatic checkpoint still bounds the WAL: say it once.
                    warn_once("sqlite-checkpoint", "background WAL checkpoint of %s failed (%s); "
                              "the store's automatic checkpoint takes over", self._path, exc,
                              exc_info=False)  # fmt: skip
                    self._count(failed=True)
                if self._stop.wait(_MIN_GAP_S):
                    return
        finally:
            if conn is not None:
                conn.close()

    def _count(self, *, failed: bool) -> None:
        with self._done:
            if failed:
                self.failures += 1
            else:
                self.runs += 1
            self._done.notify_all()

    def wait(self, attempts: int, timeout: float) -> bool:
        """Whether ``attempts`` checkpoints (run or failed) happened within ``timeout``."""
        with self._done:
            return self._done.wait_for(lambda: self.runs + self.failures >= attempts, timeout)

    def close(self) -> None:
        """Stop the thread (after a checkpoint in progress) and close its connection."""
        with self._lock:
            self._stop.set()
            self._wake.set()
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None:
            thread.join()
