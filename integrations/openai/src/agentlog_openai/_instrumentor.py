"""``OpenAIInstrumentor``: the entry point agentlog finds under ``agentlog.instrumentors``."""

from __future__ import annotations

from agentlog.instrumentation import PatchingInstrumentor, Switch, Target

from ._wrap import async_wrapper, sync_wrapper

__all__ = ["OpenAIInstrumentor"]

_CHAT = "openai.resources.chat.completions"
_RESPONSES = "openai.resources.responses"
_EMBEDDINGS = "openai.resources.embeddings"


class OpenAIInstrumentor(PatchingInstrumentor):
    """Records chat completions, Responses API calls and embeddings as ``llm_call`` events."""

    module = "openai"

    def targets(self, switch: Switch) -> list[Target]:
        return [
            (_CHAT, "Completions", "create", sync_wrapper("chat", switch)),
            (_CHAT, "AsyncCompletions", "create", async_wrapper("chat", switch)),
            (_RESPONSES, "Responses", "create", sync_wrapper("responses", switch)),
            (_RESPONSES, "AsyncResponses", "create", async_wrapper("responses", switch)),
            (_EMBEDDINGS, "Embeddings", "create", sync_wrapper("embeddings", switch)),
            (_EMBEDDINGS, "AsyncEmbeddings", "create", async_wrapper("embeddings", switch)),
        ]
