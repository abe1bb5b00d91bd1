"""What a remote exporter says about its destination and its spool: once per change, never more.

An exporter reports every outcome here; only a change of state is logged. The first failure to
reach the destination logs one WARNING (the endpoint, the error, where the records are kept),
its recovery one INFO line; a refused key one ERROR (how to pass a key); a spool that cannot be
written one WARNING. A collector that stays down for an hour, or a disk that stays full, costs
one line, not one per batch; a state that flaps is logged again at most once a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

__all__ = ["Health"]

log = logging.getLogger("agentlog")
# A state that flaps (a disk with room for one more small batch, a collector restarting in a
# loop) is logged again at most this often; in between, the change goes to DEBUG.
_REPEAT_AFTER = 60.0


class Health:
    def __init__(self, endpoint: str, spool: Path) -> None:
        self.endpoint = endpoint
        self.spool = spool
        self.after_fork_in_child()

    def after_fork_in_child(self) -> None:
        """A fresh lock: the parent's may have been held by a thread the child does not have."""
        self._lock = threading.Lock()
        self.down = False  # the last attempt could not reach the destination
        self.auth_failed = False  # the destination refused the key
        self.spool_dead = False  # the last spool write failed
        self._said: dict[str, float] = {}  # state -> when it was last logged above DEBUG

    def _turn(self, attr: str, value: bool) -> bool:
        with self._lock:
            changed: bool = getattr(self, attr) != value
            setattr(self, attr, value)
        return changed

    def _level(self, state: str, level: int) -> int:
        """``level`` the first time ``state`` is entered and then at most every minute."""
        now = time.monotonic()
        with self._lock:
            last = self._said.get(state)
            if last is not None and now - last < _REPEAT_AFTER:
                return logging.DEBUG
            self._said[state] = now
        return level

    def unreachable(self, reason: str | None) -> None:
        if self._turn("down", True):
            where = (
                "the spool at %s cannot be written either: records are counted as failed"
                if self.spool_dead
                else "records are kept in the spool at %s and sent when it answers again"
            )
            _log(
                self._level("down", logging.WARNING), "agentlog: cannot reach %s (%s); " + where,
                self.endpoint, reason or "no answer", self.spool,
            )  # fmt: skip

    def refused_key(self, reason: str | None) -> None:
        if self._turn("auth_failed", True):
            _log(
                self._level("auth", logging.ERROR),
                "agentlog: %s refused the API key (%s). Nothing is sent with this key and "
                "nothing is deleted: records are kept in the spool at %s and sent once a valid "
                "key is used. Pass it as agentlog.init(api_key=...) or set AGENTLOG_API_KEY.",
                self.endpoint, reason or "unauthorized", self.spool,
            )  # fmt: skip

    def delivered(self) -> None:
        was_down = self._turn("down", False)
        was_refused = self._turn("auth_failed", False)
        if was_down or was_refused:
            _log(
                self._level("up", logging.INFO),
                "agentlog: %s accepts records again; sending what the spool at %s holds",
                self.endpoint, self.spool,
            )  # fmt: skip

    def spool_failed(self, exc: BaseException) -> None:
        if self._turn("spool_dead", True):
            _log(
                self._level("spool_dead", logging.WARNING),
                "agentlog: cannot write to the spool at %s (%s); while %s cannot be reached, "
                "records are counted as failed",
                self.spool, exc, self.endpoint,
            )  # fmt: skip

    def spool_written(self) -> None:
        if self.spool_dead and self._turn("spool_dead", False):
            level = self._level("spool_ok", logging.INFO)
            _log(level, "agentlog: the spool at %s can be written again", self.spool)


def _log(level: int, message: str, *args: object) -> None:
    try:
        log.log(level, message, *args)
    except Exception:  # a broken logging handler is not our caller's problem
        pass
