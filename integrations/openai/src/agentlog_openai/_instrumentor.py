"""``OpenAIInstrumentor``: the entry point agentlog finds under ``agentlog.instrumentors``."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

from ._patch import Patch, Switch, install, remove
from ._wrap import async_wrapper, sync_wrapper

__all__ = ["OpenAIInstrumentor"]

_CHAT = "openai.resources.chat.completions"
_RESPONSES = "openai.resources.responses"
_EMBEDDINGS = "openai.resources.embeddings"


class OpenAIInstrumentor:
    """Records chat completions, Responses API calls and embeddings as ``llm_call`` events."""

    def __init__(self) -> None:
        self._switch = Switch()
        self._patches: list[Patch] = []
        self._lock = threading.Lock()

    def available(self) -> bool:
        try:
            return importlib.util.find_spec("openai") is not None
        except (ImportError, ValueError):  # a broken or stubbed-out install
            return False

    def _targets(self) -> list[tuple[str, str, str, Callable[..., Any]]]:
        s = self._switch
        return [
            (_CHAT, "Completions", "create", sync_wrapper("chat", s)),
            (_CHAT, "AsyncCompletions", "create", async_wrapper("chat", s)),
            (_RESPONSES, "Responses", "create", sync_wrapper("responses", s)),
            (_RESPONSES, "AsyncResponses", "create", async_wrapper("responses", s)),
            (_EMBEDDINGS, "Embeddings", "create", sync_wrapper("embeddings", s)),
            (_EMBEDDINGS, "AsyncEmbeddings", "create", async_wrapper("embeddings", s)),
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
