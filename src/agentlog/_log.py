"""The SDK's own logging: a problem inside the SDK is logged once, never raised.

Two layers, one rule. ``warn_once(key, ...)`` speaks the first time a call site's key is seen.
``DuplicateFilter``, installed on the ``agentlog`` logger, drops a warning identical (same
message and arguments) to one already logged, whoever logged it: a failure that repeats per
batch or per record is one line, not a flood, and no traceback is printed twice.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

__all__ = ["DuplicateFilter", "log", "warn_once"]

log = logging.getLogger("agentlog")
_MAX_SEEN = 1000


class _Seen:
    """A bounded set of keys: the least recently seen key is forgotten first and may speak again."""

    def __init__(self, limit: int) -> None:
        self.keys: OrderedDict[object, None] = OrderedDict()
        self.limit = limit
        self.lock = threading.Lock()

    def first(self, key: object) -> bool:
        with self.lock:
            if key in self.keys:
                self.keys.move_to_end(key)
                return False
            self.keys[key] = None
            if len(self.keys) > self.limit:
                self.keys.popitem(last=False)
            return True


class DuplicateFilter(logging.Filter):
    """Let a WARNING (or worse) through once per distinct message; lower levels pass."""

    def __init__(self, limit: int = _MAX_SEEN) -> None:
        super().__init__()
        self.seen = _Seen(limit)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            key: object = (record.levelno, str(record.msg), repr(record.args)[:1000])
        except Exception:  # an argument whose repr fails: let the record through
            return True
        return self.seen.first(key)


_once = _Seen(_MAX_SEEN)
_seen = _once.keys  # the keys warn_once has spoken for (bounded)
if not any(isinstance(f, DuplicateFilter) for f in log.filters):
    log.addFilter(DuplicateFilter())


def warn_once(key: str, message: str, *args: object, exc_info: bool = True) -> None:
    """Log ``message`` the first time ``key`` is seen; duplicates are dropped."""
    if not _once.first(key):
        return
    try:
        log.warning(message, *args, exc_info=exc_info)
    except Exception:  # a broken logging handler is not our caller's problem either
        pass
