"""Switching the integration on and off.

The handler rides on ``langchain_core.tracers.context.register_configure_hook``: LangChain's
``CallbackManager.configure`` (run for every invoke, stream and batch) adds the handler held
by a registered context variable. Our variable's *default* is the handler, so every thread and
task sees it without the user passing callbacks, and removing our entry from the hook list
switches it off again without touching anyone else's hook.
"""

from __future__ import annotations

import contextvars
import importlib.util
import threading
from typing import Any

from agentlog._log import warn_once

__all__ = ["LangChainInstrumentor"]


class LangChainInstrumentor:
    """Entry point ``langchain`` in group ``agentlog.instrumentors``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._var: contextvars.ContextVar[Any] | None = None
        self._handler: Any = None
        self._active = False

    def available(self) -> bool:
        try:
            return importlib.util.find_spec("langchain_core") is not None
        except (ImportError, ValueError):
            return False

    def instrument(self) -> bool:
        with self._lock:
            if self._active:
                return True
            try:
                from langchain_core.tracers.context import register_configure_hook

                from ._handler import AgentlogCallbackHandler
                from ._owner import patch_models
                from ._runctx import patch_run_context

                if self._var is None:
                    self._handler = AgentlogCallbackHandler()
                    self._var = contextvars.ContextVar(
                        "agentlog_langchain_handler", default=self._handler
                    )
                self._handler.runs.enabled = True
                register_configure_hook(self._var, True)
                patch_models()
                patch_run_context(self._handler.runs.span_id_for)
            except Exception:
                warn_once("langchain:instrument", "agentlog: could not instrument LangChain")
                self._remove_hook()
                self._unpatch()
                return False
            self._active = True
            return True

    def uninstrument(self) -> bool:
        with self._lock:
            if not self._active:
                return False
            self._active = False
            # Should the hook list ever be out of reach, the handler still stops opening runs.
            self._handler.runs.enabled = False
            removed = self._remove_hook()
            self._unpatch()
            return removed

    @staticmethod
    def _unpatch() -> None:
        try:
            from ._owner import unpatch_models
            from ._runctx import unpatch_run_context

            unpatch_models()
            unpatch_run_context()
        except Exception:
            warn_once("langchain:uninstrument", "agentlog: could not unpatch LangChain")

    def _remove_hook(self) -> bool:
        """Drop our entry from LangChain's hook list: it has no public unregister."""
        if self._var is None:
            return False
        try:
            from langchain_core.tracers import context as lc_context

            hooks: list[Any] = lc_context._configure_hooks
            mine = [h for h in hooks if h[0] is self._var]
            for hook in mine:
                hooks.remove(hook)
            return bool(mine)
        except Exception:
            warn_once("langchain:unhook", "agentlog: could not remove the LangChain hook")
            return False
