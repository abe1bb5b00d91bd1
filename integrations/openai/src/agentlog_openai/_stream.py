"""Streamed OpenAI calls: one ``llm_call`` written when the stream ends, however it ends.

The caller keeps the SDK's own ``Stream``/``AsyncStream`` object; only its ``_iterator`` is
replaced by a generator that watches each item on its way past. The stream is ended by
whichever comes first: the last item, an error, ``close()``, the object being collected
(``weakref.finalize``) or agentlog's shutdown (the span is registered while open).

For the SDK's own stream classes the generator reads from a *copy* of the stream, so nothing
the stream holds refers back to it: a stream dropped after ``break`` is freed (and its event
written) at once, not at the next cyclic garbage collection.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any

from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._spans import Span
from agentlog._state import STATE

from ._extract import response_failure, responses_response_data, usage_data

__all__ = ["StreamRecorder", "watch_async_stream", "watch_stream"]


class _Call:
    """One tool call assembled from streamed pieces."""

    __slots__ = ("args", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.args: list[str] = []


class StreamRecorder:
    """Per-stream state. ``observe`` sees each item; ``finish`` ends the span exactly once."""

    def __init__(self, span: Span, operation: str, start_ns: int, *, hide_usage: bool) -> None:
        self.span = span
        self.operation = operation
        self.start_ns = start_ns
        self.hide_usage = hide_usage
        self.first_ns: int | None = None
        self.text: list[str] = []
        self.calls: dict[Any, _Call] = {}
        self.data: dict[str, Any] = {}
        self.final: Any = None  # the Responses API's completed Response, when it arrives

    # -- per item -------------------------------------------------------------------------

    def observe(self, item: Any) -> bool:
        """Record what ``item`` carries; False when the caller must not see it."""
        visible = True
        if self.hide_usage:
            try:
                visible = self._visible(item)
            except Exception:
                warn_once("openai.stream.hide", "agentlog: could not read a streamed OpenAI chunk")
        try:
            if self.operation == "chat":
                self._chat(item)
            else:
                self._responses(item)
        except Exception:
            warn_once("openai.stream.observe", "agentlog: could not read a streamed OpenAI item")
        return visible

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

    def _first(self) -> None:
        if self.first_ns is None:
            self.first_ns = now_ns()

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
                    self._first()
                    self.text.append(piece)
                for part in delta.tool_calls or ():
                    self._first()
                    call = self.calls.setdefault(part.index, _Call())
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
            self._first()
            self.text.append(event.delta)
        elif kind == "response.output_item.added" and event.item.type == "function_call":
            self._first()
            call = self.calls.setdefault(event.item.id, _Call())
            call.id, call.name = event.item.call_id, event.item.name
        elif kind == "response.function_call_arguments.delta":
            self.calls.setdefault(event.item_id, _Call()).args.append(event.delta)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.final = event.response
        elif kind == "response.created":
            self.data["response_id"] = event.response.id
            self.data["model"] = event.response.model

    # -- the end ----------------------------------------------------------------------------

    def finish(self, *, error: BaseException | None = None, partial: bool = False) -> None:
        if self.span.ended:
            return
        try:
            data = dict(self.data)
            if self.final is not None:
                data.update(responses_response_data(self.final))
                failure = response_failure(self.final)
                if error is None and failure is not None:
                    self.span.end(error=failure, partial=partial, data=data)
                    return
            elif STATE.capture:
                data["response"] = "".join(self.text) if self.text else None
                data["tool_calls"] = [
                    {"id": c.id, "name": c.name, "arguments": "".join(c.args)}
                    for c in self.calls.values()
                ]
            if self.first_ns is not None:
                data["time_to_first_token_ms"] = (self.first_ns - self.start_ns) / 1e6
            self.span.end(error=error, partial=partial, data=data)
        except Exception:
            warn_once("openai.stream.finish", "agentlog: could not record an OpenAI stream")
            self.span.end(error=error, partial=partial)

    def finish_collected(self) -> None:
        self.finish(partial=True)


def _detached_iterator(stream: Any) -> Any:
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


def _watch_close(stream: Any, rec: StreamRecorder, *, is_async: bool) -> None:
    ref = weakref.ref(stream)
    cls_close = type(stream).close

    if is_async:

        async def aclose() -> None:
            try:
                target = ref()
                if target is not None:
                    await cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = aclose
    else:

        def close() -> None:
            try:
                target = ref()
                if target is not None:
                    cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = close
    weakref.finalize(stream, rec.finish_collected)


def watch_stream(stream: Any, rec: StreamRecorder) -> None:
    """Route a sync ``Stream`` through ``rec`` (in place: the caller keeps the same object)."""
    inner: Iterator[Any] = _detached_iterator(stream)

    def watched() -> Iterator[Any]:
        done = False
        try:
            for item in inner:
                if rec.observe(item):
                    yield item
            done = True
        except Exception as exc:
            rec.finish(error=exc, partial=True)
            raise
        finally:
            # Also reached on GeneratorExit (close() or collection after a ``break``).
            rec.finish(partial=not done)

    stream._iterator = watched()
    _watch_close(stream, rec, is_async=False)


def watch_async_stream(stream: Any, rec: StreamRecorder) -> None:
    """Route an ``AsyncStream`` through ``rec`` (in place)."""
    inner: AsyncIterator[Any] = _detached_iterator(stream)

    async def watched() -> AsyncIterator[Any]:
        done = False
        try:
            async for item in inner:
                if rec.observe(item):
                    yield item
            done = True
        except Exception as exc:
            rec.finish(error=exc, partial=True)
            raise
        finally:
            rec.finish(partial=not done)

    stream._iterator = watched()
    _watch_close(stream, rec, is_async=True)
