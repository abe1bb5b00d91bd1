"""A session's state and the registry of open ones: beneath the context layer.

``_context`` types its ``session_var`` with ``SessionState``, so this module must not import
the context (or anything that does): it knows only the process state and the record format.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ._ids import format_ts, now_ns
from ._log import warn_once
from ._serialize import clean_text, to_jsonable
from ._state import STATE

__all__ = [
    "SessionState",
    "close_open_sessions",
    "forget_inherited_sessions",
    "open_session",
    "registered",
    "session_configs",
]

# Sessions opened by this process and not yet ended: shutdown() closes them as cancelled.
_OPEN: dict[str, SessionState] = {}
_open_lock = threading.Lock()


def session_configs(configs: Any) -> dict[str, Any] | None:
    """Configs as a JSON object, whatever was passed: never raises, never drops them."""
    if configs is None:
        return None
    out = to_jsonable(configs)
    return out if isinstance(out, dict) else {"value": out}


class SessionState:
    __slots__ = (
        "configs", "ended", "explicit_status", "id", "lock", "name", "parent_session_id", "pid",
        "skip", "started_ns", "status", "summary", "tags", "user",
    )  # fmt: skip

    def __init__(
        self, id: str, name: Any, user: Any, configs: dict[str, Any] | None,
        parent_session_id: str | None,
    ) -> None:  # fmt: skip
        self.id = id
        # Repaired here, once: a name or user JSON cannot carry would lose the whole session.
        self.name = clean_text(name)
        self.user = clean_text(user)
        self.configs = configs
        self.parent_session_id = parent_session_id
        self.status = "running"
        self.explicit_status: str | None = None
        self.summary: str | None = None
        self.started_ns = now_ns()
        self.pid = os.getpid()
        self.ended = False
        self.lock = threading.Lock()
        self.tags: list[str] | None = None
        # Sampled out with nothing to hold (no keep_errors): decorated calls skip recording.
        self.skip = False

    def record(self, *, end_ns: int | None = None) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": "session",
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "configs": self.configs,
            "status": self.status,
            "summary": self.summary,
            "started_at": format_ts(self.started_ns),
            "ended_at": format_ts(end_ns) if end_ns is not None else None,
            "parent_session_id": self.parent_session_id,
            "tags": self.tags,
        }

    def emit(self, end_ns: int | None = None) -> None:
        pipeline = STATE.pipeline
        if pipeline is not None:
            try:
                pipeline.emit(self.record(end_ns=end_ns))
            except Exception:
                warn_once("session_emit", "agentlog: could not record a session")

    def finish(self, status: str) -> None:
        with self.lock:
            if self.ended:
                return
            self.ended = True
            self.status = self.explicit_status or status
        with _open_lock:
            _OPEN.pop(self.id, None)
        self.emit(end_ns=now_ns())


def open_session(state: SessionState) -> None:
    """Remember ``state`` until it ends, so shutdown can close it."""
    with _open_lock:
        _OPEN[state.id] = state


def registered(session_id: str) -> SessionState | None:
    with _open_lock:
        return _OPEN.get(session_id)


def close_open_sessions(status: str = "cancelled") -> None:
    """At shutdown: end this process's sessions still open (a forked child's are its own)."""
    pid = os.getpid()
    with _open_lock:
        states = [s for s in _OPEN.values() if s.pid == pid]
    for state in states:
        state.finish(status)


def forget_inherited_sessions() -> None:
    """In a forked child: the parent's open sessions are the parent's to close."""
    with _open_lock:
        _OPEN.clear()
