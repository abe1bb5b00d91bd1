"""Where the current session and span live: contextvars, so they follow ``await`` and tasks.

Threads do not inherit contextvars; ``ContextExecutor`` (and the opt-in ``threading``
instrumentation) copy the submitting context into the worker thread.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ._log import warn_once
from ._suppress import is_suppressed, suppress_instrumentation, suppressed_var

if TYPE_CHECKING:
    from ._session_state import SessionState

__all__ = [
    "ContextExecutor",
    "current_session",
    "current_span",
    "is_suppressed",
    "llm_owner_var",
    "llm_recorded_by",
    "session_id_or_drop",
    "session_var",
    "span_var",
    "suppress_instrumentation",
    "suppressed_var",
]

T = TypeVar("T")

session_var: contextvars.ContextVar[SessionState | None] = contextvars.ContextVar(
    "agentlog_session", default=None
)
# The id (int) of the innermost open event span: the ``parent_id`` of whatever is recorded next.
span_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("agentlog_span", default=None)


# Set while a framework integration (LangChain) records a model call itself: provider wrappers
# underneath (OpenAI, Anthropic) then stay silent, so one model call is one ``llm_call``.
llm_owner_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "agentlog_llm_owner", default=None
)


def llm_recorded_by() -> str | None:
    """The integration already recording the model call in progress, if any."""
    return llm_owner_var.get()


def current_session() -> SessionState | None:
    return session_var.get()


def current_span() -> int | None:
    return span_var.get()


class ContextExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose tasks run in a copy of the submitter's context.

    Work submitted from inside a session or span is recorded under that session and span.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)


def session_id_or_drop(pipeline: Any, session_id: str | None, what: str) -> str | None:
    """``session_id``, else the current session's id. Outside a session a record would belong
    nowhere: None, after one warning and a counted drop."""
    if session_id is not None:
        return session_id
    state = session_var.get()
    if state is None:
        warn_once(f"{what}_no_session", "agentlog: %s() outside a session is ignored; pass "
                  "session_id=...", what, exc_info=False)  # fmt: skip
        pipeline.stats.add("dropped", [None])
        return None
    return state.id
