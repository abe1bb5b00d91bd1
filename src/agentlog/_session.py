"""Sessions: one run of an agent, as a ``with`` block, an ``async with`` block or a decorator."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import Token
from typing import Any, TypeVar, cast

from ._constants import SESSION_STATUSES
from ._context import session_var, span_var
from ._generators import Plan, stepwise_asyncgen, stepwise_gen
from ._ids import format_ts, new_id_str, now_ns
from ._log import warn_once
from ._serialize import clean_text, to_jsonable
from ._session_state import (
    SessionState,
    close_open_sessions,
    forget_inherited_sessions,
    open_session,
    registered,
    session_configs,
)
from ._spans import emit_event, error_info
from ._state import STATE

__all__ = [
    "Session",
    "SessionScope",
    "SessionState",
    "close_open_sessions",
    "close_session",
    "forget_inherited_sessions",
    "session",
]

F = TypeVar("F", bound=Callable[..., Any])


class Session:
    """The handle a ``with agentlog.session(...) as s`` block gets."""

    __slots__ = ("_state",)

    def __init__(self, state: SessionState) -> None:
        self._state = state

    @property
    def id(self) -> str:
        return self._state.id

    @property
    def name(self) -> str | None:
        return self._state.name

    @property
    def configs(self) -> dict[str, Any] | None:
        return self._state.configs

    def set_status(self, status: str) -> None:
        """The status this session ends with, whatever happens in the block."""
        if status not in SESSION_STATUSES or status == "running":
            warn_once(
                f"status:{status}", "agentlog: ignoring unknown session status %r", status,
                exc_info=False,
            )  # fmt: skip
            return
        self._state.explicit_status = status

    @property
    def tags(self) -> list[str]:
        return list(self._state.tags or ())

    def add_tags(self, *tags: str) -> None:
        """Tag the session (tags accumulate; readers filter with ``list(tags=[...])``)."""
        st = self._state
        new = clean_tags(tags)
        if not new:
            return
        with st.lock:
            st.tags = list(dict.fromkeys([*(st.tags or ()), *new]))
        if not st.ended:
            st.emit()

    def set_summary(self, summary: str) -> None:
        self._state.summary = clean_text(summary)

    def patch_configs(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge top-level keys (``None`` deletes one) and record the new configs."""
        st = self._state
        if not isinstance(patch, Mapping):
            warn_once("patch_configs", "agentlog: patch_configs() takes a dict, not %s",
                      type(patch).__name__, exc_info=False)  # fmt: skip
            return dict(st.configs or {})
        with st.lock:
            merged = dict(st.configs or {})
            for key, value in to_jsonable(patch).items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            st.configs = merged
        if not st.ended:
            st.emit()
        return dict(merged)

    def __repr__(self) -> str:
        return f"<agentlog.Session {self.id} {self._state.name!r}>"


def _exit_status(exc: BaseException | None) -> str:
    if exc is None:
        return "success"
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        return "cancelled"
    aio = sys.modules.get("asyncio")  # a CancelledError implies asyncio is loaded already
    if aio is not None and isinstance(exc, aio.CancelledError):
        return "cancelled"
    if isinstance(exc, SystemExit):
        return "success" if exc.code in (None, 0) else "error"
    return "error"


class SessionScope:
    """What ``agentlog.session(...)`` returns: a context manager and a decorator in one."""

    def __init__(
        self, name: str | None = None, *, user: str | None = None,
        configs: dict[str, Any] | None = None, id: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.user = user
        self.configs = configs
        self.id = id
        self.tags = clean_tags(tags) if tags else None
        self._stack: list[tuple[SessionState, Token[Any], Token[Any]]] = []

    def _start(self) -> SessionState:
        """A new session under the current one; its start is recorded, no context is set."""
        parent = session_var.get()
        configs = session_configs(self.configs)
        sid = self.id
        if sid is not None and (not isinstance(sid, str) or not sid):
            warn_once("session_id", "agentlog: session id %r is not a non-empty string; using "
                      "str() of it", sid, exc_info=False)  # fmt: skip
            sid = str(sid) or None
        state = SessionState(
            sid or new_id_str(), self.name, self.user, configs,
            parent.id if parent is not None else None,
        )  # fmt: skip
        state.tags = self.tags
        pipeline = STATE.pipeline
        if pipeline is not None:
            open_session(state)
            state.emit()
            sampler = getattr(pipeline, "sampler", None)
            if sampler is not None:
                state.skip = sampler.skips(state.id)
        return state

    def _end(self, state: SessionState, exc: BaseException | None) -> None:
        if STATE.pipeline is None or state.pid != os.getpid():
            return  # a forked child leaving its parent's session does not end it
        try:
            status = _exit_status(exc)
            if status == "error" and exc is not None:
                emit_event(
                    "error", type(exc).__name__, {}, status="error", error=error_info(exc),
                    session_id=state.id, parent_id=None, inherit=False,
                )  # fmt: skip
            state.finish(status)
        except Exception:
            warn_once("session_close", "agentlog: could not close a session")

    @staticmethod
    def _activation(state: SessionState) -> Callable[[], AbstractContextManager[None]]:
        """The session as the current one (with no enclosing span), for one step at a time."""

        @contextmanager
        def active() -> Iterator[None]:
            s_token = session_var.set(state)
            p_token = span_var.set(None)
            try:
                yield
            finally:
                span_var.reset(p_token)
                session_var.reset(s_token)

        return active

    def _open(self) -> Session:
        state = self._start()
        self._stack.append((state, session_var.set(state), span_var.set(None)))
        return Session(state)

    def _close(self, exc: BaseException | None) -> None:
        state, s_token, p_token = self._stack.pop()
        try:
            span_var.reset(p_token)
            session_var.reset(s_token)
        except ValueError:  # entered in another context: leave the caller's context alone
            pass
        self._end(state, exc)

    def __enter__(self) -> Session:
        return self._open()

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self._close(exc)

    async def __aenter__(self) -> Session:
        return self._open()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        self._close(exc)

    def _plan(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan:
        scope = self._fresh()
        state = scope._start()
        return Plan(
            scope._activation(state),
            lambda out: scope._end(state, out.error if out.finished else GeneratorExit()),
        )

    def _fresh(self) -> SessionScope:
        return SessionScope(self.name, user=self.user, configs=self.configs, id=self.id,
                            tags=self.tags)  # fmt: skip

    def __call__(self, fn: F) -> F:
        """As a decorator: every call of ``fn`` is one session."""
        if self.name is None:
            self.name = getattr(fn, "__qualname__", None)
        # Generators: the session is current only while the generator's own code runs, never
        # across a yield, so the consumer's context is left as it was between items.
        if inspect.isasyncgenfunction(fn):
            return cast(F, stepwise_asyncgen(fn, self._plan))
        if inspect.isgeneratorfunction(fn):
            return cast(F, stepwise_gen(fn, self._plan))
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await fn(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return cast(F, wrapper)


def session(
    name: str | Callable[..., Any] | None = None, *, user: str | None = None,
    configs: dict[str, Any] | None = None, id: str | None = None,
    tags: Sequence[str] | None = None,
) -> Any:  # fmt: skip
    """Open a session: ``with session(...)``, ``async with session(...)`` or ``@session(...)``."""
    if callable(name):  # bare @agentlog.session
        return SessionScope(None)(name)
    return SessionScope(name, user=user, configs=configs, id=id, tags=tags)


def clean_tags(tags: Any) -> list[str]:
    """Tags as non-empty strings of at most 200 characters; anything else is left out, once
    warned about (recording never raises)."""
    if isinstance(tags, str):
        tags = [tags]
    out = []
    for t in tags or ():
        if isinstance(t, str) and 0 < len(t) <= 200:
            out.append(t)
        else:
            warn_once("tag", "agentlog: ignoring tag %r (tags are strings of 1 to 200 "
                      "characters)", t, exc_info=False)  # fmt: skip
    return list(dict.fromkeys(out))


def close_session(session_id: str, status: str = "success", summary: str | None = None) -> None:
    """Close a session by id, e.g. one that was started in another process."""
    if status not in SESSION_STATUSES or status == "running":
        warn_once(f"close:{status}", "agentlog: unknown session status %r", status, exc_info=False)
        return
    state = registered(session_id)
    if state is not None:
        state.summary = clean_text(summary) if summary is not None else state.summary
        state.explicit_status = status
        state.finish(status)
        return
    pipeline = STATE.pipeline
    if pipeline is not None:
        pipeline.emit(
            {"v": 1, "kind": "session", "id": session_id, "name": None, "user": None,
             "configs": None, "status": status, "summary": clean_text(summary), "started_at": None,
             "ended_at": format_ts(now_ns()), "parent_session_id": None}
        )  # fmt: skip
