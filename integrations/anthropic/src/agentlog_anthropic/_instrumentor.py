"""``AnthropicInstrumentor``: the entry point agentlog finds under ``agentlog.instrumentors``."""

from __future__ import annotations

from agentlog.instrumentation import PatchingInstrumentor, Switch, Target

from ._wrap import async_create, async_stream_helper, sync_create, sync_stream_helper

__all__ = ["AnthropicInstrumentor"]

_MESSAGES = "anthropic.resources.messages"


class AnthropicInstrumentor(PatchingInstrumentor):
    """Records Messages API calls (created or streamed, sync or async) as ``llm_call`` events."""

    module = "anthropic"

    def targets(self, switch: Switch) -> list[Target]:
        return [
            (_MESSAGES, "Messages", "create", sync_create(switch)),
            (_MESSAGES, "AsyncMessages", "create", async_create(switch)),
            (_MESSAGES, "Messages", "stream", sync_stream_helper(switch)),
            (_MESSAGES, "AsyncMessages", "stream", async_stream_helper(switch)),
        ]
