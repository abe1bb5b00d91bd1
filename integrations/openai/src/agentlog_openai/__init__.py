"""agentlog integration for the OpenAI Python SDK.

    import agentlog
    agentlog.init(instrument=["openai"])

Every ``chat.completions.create``, ``responses.create`` and ``embeddings.create`` (sync, async,
streamed, ``with_raw_response``) is then one ``llm_call`` event on the current session.
"""

from __future__ import annotations

from ._instrumentor import OpenAIInstrumentor

__all__ = ["OpenAIInstrumentor"]
