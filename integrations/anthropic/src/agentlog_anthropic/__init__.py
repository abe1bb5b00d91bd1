"""agentlog integration for the Anthropic Python SDK.

    import agentlog
    agentlog.init(instrument=["anthropic"])

Every ``messages.create`` (sync, async, ``stream=True``, ``with_raw_response``) and every
``messages.stream()`` is then one ``llm_call`` event on the current session.
"""

from __future__ import annotations

from ._instrumentor import AnthropicInstrumentor

__all__ = ["AnthropicInstrumentor"]
