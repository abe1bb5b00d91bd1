"""``AnthropicInstrumentor``: the entry point agentlog finds under ``agentlog.instrumentors``."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

from ._patch import Patch, Switch, install, remove
from ._wrap import async_create, async_stream_helper, sync_create, sync_stream_helper

__all__ = ["AnthropicInstrumentor"]

_MESSAGES = "anthropic.resources.messages"


class AnthropicInstrumentor:
    """Records Messages API calls (created or streamed, sync or async) as ``llm_call`` events."""

    def __init__(self) -> None:
        self._switch = Switch()
        self._patches: list[Patch] = []
        self._lock = threading.Lock()

    def available(self) -> bool:
        try:
            return importlib.util.find_spec("anthropic") is not None
        except (ImportError, ValueError):  # a broken or stubbed-out install
            return False

    def _targets(self) -> list[tuple[str, str, str, Callable[..., Any]]]:
        s = self._switch
        return [
            (_MESSAGES, "Messages", "create", sync_create(s)),
            (_MESSAGES, "AsyncMessages", "create", async_create(s)),
            (_MESSAGES, "Messages", "stream", sync_stream_helper(s)),
            (_MESSAGES, "AsyncMessages", "stream", async_stream_helper(s)),
        ]

    def instrument(self) -> bool:
        """Wrap the SDK (idempotent); True when the wrappers are active."""
        if not self.available():
            return False
        with self._lock:
            install(self._patches, self._targets())
            self._switch.enabled = bool(self._patches)
            return self._switch.enabled

    def uninstrument(self) -> bool:
        """Take agentlog's wrappers off; a layer someone wrapped on top is left in place."""
        with self._lock:
            was_active = self._switch.enabled
            self._switch.enabled = False
            removed = remove(self._patches)
            return removed or was_active
