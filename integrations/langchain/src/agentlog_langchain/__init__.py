"""agentlog for LangChain: every run traced through LangChain's own configure hook.

    import agentlog
    agentlog.init(instrument=["langchain"])

No callbacks to pass: chains, runnables and agents become spans, chat models and LLMs
``llm_call`` events, tools ``tool_call``, agent actions ``decision`` and retrievers
``retrieval`` spans, nested under the agentlog span or session active when the run starts.
"""

from __future__ import annotations

from ._instrumentor import LangChainInstrumentor

__version__ = "0.1.0"

__all__ = ["LangChainInstrumentor", "__version__"]
