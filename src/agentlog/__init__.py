"""agentlog: drop-in tracing for AI agents.

``agentlog.init()`` once, then ``@agentlog.session`` / ``with agentlog.session(...)`` around a
run of your agent and ``@agentlog.tool`` / ``@agentlog.llm`` / ``@agentlog.decision`` on what it
calls. See the README for the whole API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._api import (
    add_event,
    current_session,
    flush,
    init,
    instrument,
    shutdown,
    status,
    store_message,
    track_decision,
    track_error,
    track_llm_call,
    track_tool_call,
    uninstrument,
)
from ._constants import VERSION
from ._context import ContextExecutor, suppress_instrumentation
from ._decorators import decision, llm, tool, trace
from ._errors import AgentlogError, ConflictError, InvalidInputError, NotFoundError
from ._scoring import score
from ._session import Session, close_session, session
from ._stats import ExporterStatus, PipelineStatus

if TYPE_CHECKING:
    from ._events import DiskEvent, Event, TextEvent
    from .client import Client

__version__ = VERSION

__all__ = [
    "AgentlogError",
    "Client",
    "ConflictError",
    "ContextExecutor",
    "DiskEvent",
    "Event",
    "ExporterStatus",
    "InvalidInputError",
    "NotFoundError",
    "PipelineStatus",
    "Session",
    "TextEvent",
    "__version__",
    "add_event",
    "close_session",
    "current_session",
    "decision",
    "flush",
    "init",
    "instrument",
    "llm",
    "score",
    "session",
    "shutdown",
    "status",
    "store_message",
    "suppress_instrumentation",
    "tool",
    "trace",
    "track_decision",
    "track_error",
    "track_llm_call",
    "track_tool_call",
    "uninstrument",
]

# pydantic and the store are imported on first use, so that ``import agentlog`` stays cheap.
_LAZY = {
    "Client": ".client",
    "DiskEvent": "._events",
    "Event": "._events",
    "TextEvent": "._events",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentlog' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The public API only: not the typing helpers and private modules that sit in globals().
    return sorted(__all__)
