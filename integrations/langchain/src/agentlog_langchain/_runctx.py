"""Your code inside a LangChain run records under that run's span.

LangChain runs the body of every runnable and tool (and LangGraph every node) in a fresh copy
of the context, set up by a private ``_set_config_context(config)`` whose ``config["callbacks"]``
names the run being entered (``parent_run_id``). Wrapping it to also make that run's span
agentlog's current span (``set_current_span``), inside that copy, makes an ``@agentlog.tool``
function or a provider call made from a LangChain tool nest under the tool's span. The copy is dropped when
the body returns, so nothing needs resetting and the caller's context is never touched.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

from agentlog.instrumentation import set_current_span, warn_once

__all__ = ["patch_late", "patch_run_context", "unpatch_run_context"]

_MARK = "__agentlog_langchain__"
# The module-level names their own ``set_config_context`` looks up at call time.
_TARGETS = (
    ("langchain_core.runnables.config", "_set_config_context"),
    ("langgraph._internal._runnable", "_set_config_context"),
)
# The handler whose spans runs map to; None once uninstrumented (wrappers left under someone
# else's then pass straight through).
_span_of: Callable[[UUID], int | None] | None = None
_pending: list[tuple[str, str]] = []  # targets to wrap once their module is imported
_lock = threading.Lock()


def _enter(config: Any) -> None:
    lookup = _span_of
    if lookup is None or not isinstance(config, dict):
        return
    run_id = getattr(config.get("callbacks"), "parent_run_id", None)
    if run_id is None:
        return
    span_id = lookup(run_id)
    if span_id is not None:
        set_current_span(span_id)  # in LangChain's own copy of the context: never reset


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(config: Any, *args: Any, **kwargs: Any) -> Any:
        result = fn(config, *args, **kwargs)
        try:
            _enter(config)
        except Exception:
            warn_once("langchain:run_context", "agentlog: could not enter a LangChain run")
        return result

    setattr(wrapper, _MARK, True)
    return wrapper


def _patch_loaded() -> None:
    """Wrap the targets whose modules are imported by now; the rest wait for a later call.

    LangGraph is never imported here: importing it is the user's business (and it may be
    installed yet unusable); its module is wrapped the first time a run starts after it is.
    """
    with _lock:
        for target in list(_pending):
            module = sys.modules.get(target[0])
            if module is None:
                continue
            _pending.remove(target)
            current = getattr(module, target[1], None)
            if callable(current) and not getattr(current, _MARK, False):
                setattr(module, target[1], _wrap(current))


def patch_late() -> None:
    """Called as runs start: cheap once everything is wrapped."""
    if _pending:
        try:
            _patch_loaded()
        except Exception:
            warn_once("langchain:run_context_patch", "agentlog: could not wrap LangGraph")


def patch_run_context(span_of: Callable[[UUID], int | None]) -> None:
    global _span_of
    importlib.import_module(_TARGETS[0][0])  # langchain-core's own: always there
    _span_of = span_of
    with _lock:
        _pending[:] = _TARGETS
    _patch_loaded()


def unpatch_run_context() -> None:
    global _span_of
    _span_of = None
    with _lock:
        _pending.clear()
        for module_name, attr in _TARGETS:
            module = sys.modules.get(module_name)
            current = getattr(module, attr, None) if module is not None else None
            if getattr(current, _MARK, False):
                setattr(module, attr, current.__wrapped__)  # type: ignore[union-attr]
