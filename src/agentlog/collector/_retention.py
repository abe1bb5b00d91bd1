"""``agentlog serve --retention 30d``: prune the store in the background while serving.

A pass runs at start-up and then every ``every`` seconds; each pass is ``Store.prune``, whose
small transactions leave ingest and reads running. Several collectors on one database may all
run it: a row pruned by one is not there for the others, and counts stay exact.
"""

from __future__ import annotations

import threading

from .._log import log
from .._signals import quiet_thread
from ..store import Store

__all__ = ["RetentionWorker"]


class RetentionWorker:
    def __init__(self, store: Store, older_than: float, *, every: float = 600.0) -> None:
        if not older_than > 0 or not every > 0:
            raise ValueError("retention and its interval must be positive")
        self.store = store
        self.older_than = older_than
        self.every = every
        self.passes = 0
        self._stop = threading.Event()
        self._thread = quiet_thread(target=self._run, name="agentlog-retention",
                                    daemon=True)  # fmt: skip

    def start(self) -> RetentionWorker:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.store.prune(self.older_than)
                if result.sessions or result.events:
                    log.info("agentlog retention: removed %d sessions, %d events, %d messages "
                             "(longest step %.0f ms)", result.sessions, result.events,
                             result.messages, result.longest_step_ms)  # fmt: skip
            except Exception:  # a failed pass is logged; the next one tries again
                log.exception("agentlog retention: pass failed")
            self.passes += 1
            self._stop.wait(self.every)  # pacing between passes, and wakes at once on stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30.0)
