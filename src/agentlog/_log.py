"""The SDK's own logging: a problem inside the SDK is logged once per call site, never raised."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

__all__ = ["log", "warn_once"]

log = logging.getLogger("agentlog")
_seen: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_MAX_SEEN = 1000


def warn_once(key: str, message: str, *args: object, exc_info: bool = True) -> None:
    """Log ``message`` the first time ``key`` is seen; duplicates are dropped."""
    with _lock:
        if key in _seen:
            _seen.move_to_end(key)
            return
        _seen[key] = None
        if len(_seen) > _MAX_SEEN:  # bounded: the least recently seen key may speak again
            _seen.popitem(last=False)
    try:
        log.warning(message, *args, exc_info=exc_info)
    except Exception:  # a broken logging handler is not our caller's problem either
        pass
