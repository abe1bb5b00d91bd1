"""Streamed OpenAI calls: what chat chunks and Responses API events say (``agentlog.instrumentation``
ends the span however the stream ends).

For the SDK's own stream classes the watched iterator reads from a *copy* of the stream, so
nothing the stream holds refers back to it: a stream dropped after ``break`` is freed (and its
event written) at once, not at the next cyclic garbage collection.
"""

from __future__ import annotations

import copy
from typing import Any

from agentlog.instrumentation import Span, ToolCallPieces
from agentlog.instrumentation import StreamRecorder as _Base

from ._extract import response_failure, responses_response_data, usage_data

__all__ = ["StreamRecorder", "detached_iterator"]


class StreamRecorder(_Base):
    """What streamed chat chunks and Responses API events say."""

    label = "openai"
    provider = "OpenAI"

    def __init__(self, span: Span, operation: str, start_ns: int, *, hide_usage: bool) -> None:
        super().__init__(span, start_ns)
        self.operation = operation
        self.hide_usage = hide_usage
        self.final: Any = None  # the Responses API's completed Response, when it arrives

    def record(self, item: Any) -> None:
        if self.operation == "chat":
            self._chat(item)
        else:
            self._responses(item)

    def visible(self, item: Any) -> bool:
        return self._visible(item) if self.hide_usage else True

    @staticmethod
    def _visible(chunk: Any) -> bool:
        # Kept apart from recording: even if reading a chunk fails, the caller must not see
        # the usage we asked for on their behalf.
        if chunk.usage is not None:
            return bool(chunk.choices)  # False for the usage-only chunk the caller never asked for
        # Asking for usage makes the server send ``"usage": null`` on every chunk: unset it again
        # so ``to_dict()``/``model_dump(exclude_unset=True)`` match what they would have been.
        fields_set = getattr(chunk, "__pydantic_fields_set__", None)
        if fields_set is not None:
            fields_set.discard("usage")
        return True

    def _chat(self, chunk: Any) -> None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.data["usage"] = usage_data(usage)
        if getattr(chunk, "model", None):
            self.data["model"] = chunk.model
        self.data["response_id"] = getattr(chunk, "id", None)
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                piece = delta.content if delta.content is not None else delta.refusal
                if piece:
                    self.first_token()
                    self.text.append(piece)
                for part in delta.tool_calls or ():
                    self.first_token()
                    call = self.calls.setdefault(part.index, ToolCallPieces())
                    call.id = part.id or call.id
                    fn = part.function
                    if fn is not None:
                        call.name = fn.name or call.name
                        if fn.arguments:
                            call.args.append(fn.arguments)
            if choice.finish_reason:
                self.data["finish_reason"] = choice.finish_reason

    def _responses(self, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "response.output_text.delta":
            self.first_token()
            self.text.append(event.delta)
        elif kind == "response.output_item.added" and event.item.type == "function_call":
            self.first_token()
            call = self.calls.setdefault(event.item.id, ToolCallPieces())
            call.id, call.name = event.item.call_id, event.item.name
        elif kind == "response.function_call_arguments.delta":
            self.calls.setdefault(event.item_id, ToolCallPieces()).args.append(event.delta)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = event.response
        elif kind == "response.created":
            self.data["response_id"] = event.response.id
            self.data["model"] = event.response.model

    def result(self) -> dict[str, Any]:
        if self.final is None:
            return super().result()
        return {**self.data, **responses_response_data(self.final)}

    def failure(self) -> str | None:
        return response_failure(self.final) if self.final is not None else None


def detached_iterator(stream: Any) -> Any:
    """The iterator to watch: for the SDK's own stream classes, one made on a copy.

    Their generator refers to the stream, a cycle only the garbage collector frees; one made on
    a copy does not, so a stream dropped after ``break`` is freed (and recorded) at once. A
    subclass may keep state on the stream itself, so its own iterator is used as it is.
    """
    from openai import AsyncStream, Stream

    if type(stream) not in (Stream, AsyncStream):
        return stream._iterator
    dup = copy.copy(stream)
    dup.__dict__.pop("_iterator", None)
    return dup.__stream__()
