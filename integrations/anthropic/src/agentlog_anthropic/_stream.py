"""Streamed Anthropic calls: what the Messages API's events say (``agentlog.instrumentation`` ends the
span however the stream ends).

Used for ``messages.create(stream=True)`` and underneath the ``messages.stream()`` helper (whose
``MessageStream`` reads the same raw ``Stream``). The SDK makes its iterator on a copy of the
stream (recent versions), so nothing the stream holds refers back to it: dropped after
``break``, it is freed and written at once. Older versions, and stream subclasses that keep
state on the stream, are read as they are.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from agentlog.instrumentation import Span, ToolCallPieces
from agentlog.instrumentation import StreamRecorder as _Base

from ._extract import usage_data

__all__ = ["StreamRecorder"]

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
                 "cache_creation_input_tokens")  # fmt: skip


class StreamRecorder(_Base):
    """Text and tool-use blocks, usage and stop reason from the stream's events."""

    label = "anthropic"
    provider = "Anthropic"

    def __init__(self, span: Span, start_ns: int) -> None:
        super().__init__(span, start_ns)
        self.usage: dict[str, int] = {}

    def _took_usage(self, usage: Any) -> None:
        for name in _USAGE_FIELDS:
            value = getattr(usage, name, None)
            if isinstance(value, int):
                self.usage[name] = value  # message_delta's counts are cumulative: latest wins

    def record(self, item: Any) -> None:
        kind = item.type
        if kind == "content_block_delta":
            delta = item.delta
            if delta.type == "text_delta":
                self.first_token()
                self.text.append(delta.text)
            elif delta.type == "input_json_delta" and item.index in self.calls:
                self.calls[item.index].args.append(delta.partial_json)
        elif kind == "content_block_start":
            block = item.content_block
            if block.type == "tool_use":
                self.first_token()
                self.calls[item.index] = ToolCallPieces(block.id, block.name)
            elif block.type == "text" and block.text:
                self.first_token()
                self.text.append(block.text)
        elif kind == "message_start":
            self.data["response_id"] = item.message.id
            self.data["model"] = item.message.model
            self._took_usage(item.message.usage)
        elif kind == "message_delta":
            self.data["finish_reason"] = item.delta.stop_reason
            if item.usage is not None:
                self._took_usage(item.usage)

    def result(self) -> dict[str, Any]:
        data = super().result()
        if self.usage:
            data["usage"] = usage_data(SimpleNamespace(**self.usage))
        return data
