"""Switching the integration on and off.

The handler rides on ``langchain_core.tracers.context.register_configure_hook``: LangChain's
``CallbackManager.configure`` (run for every invoke, stream and batch) adds the handler that a
registered context variable's ``get()`` returns. Ours is a stand-in whose ``get()`` answers in
every thread and task, with the handler while agentlog records and None otherwise, so before
``init()`` (or with agentlog disabled) LangChain runs exactly as without us. Removing our entry
from the hook list switches it off without touching anyone else's hook.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from agentlog.instrumentation import recording, warn_once

__all__ = ["LangChainInstrumentor"]


class _HandlerSlot:
    """Takes a ContextVar's place in LangChain's hook list, where only ``get()`` is called."""

    name = "agentlog_langchain_handler"

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def get(self, default: Any = None) -> Any:
        return self.handler if recording() else default


class LangChainInstrumentor:
    """Entry point ``langchain`` in group ``agentlog.instrumentors``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._var: _HandlerSlot | None = None
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
                from ._usage import patch_stream_usage

                if self._var is None:
                    self._handler = AgentlogCallbackHandler()
                    self._var = _HandlerSlot(self._handler)
                self._handler.runs.enabled = True
                register_configure_hook(self._var, True)  # type: ignore[arg-type]
                patch_models(self._handler.runs.keep_usage)
                patch_stream_usage()
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
            from ._usage import unpatch_stream_usage

            unpatch_models()
            unpatch_run_context()
            unpatch_stream_usage()
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
