"""Streamed Anthropic calls: one ``llm_call`` written when the stream ends, however it ends.

Used for ``messages.create(stream=True)`` and underneath the ``messages.stream()`` helper (whose
``MessageStream`` reads the same raw ``Stream``). The caller keeps the SDK's own stream object;
its ``_iterator`` is replaced by a generator that watches each event on its way past. The end
is whichever comes first: the last event, an error, ``close()``, the object being collected
(``weakref.finalize``) or agentlog's shutdown (the span is registered while open).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._spans import Span
from agentlog._state import STATE

from ._extract import tool_call, usage_data

__all__ = ["StreamRecorder", "watch"]

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
                 "cache_creation_input_tokens")  # fmt: skip


class StreamRecorder:
    """Per-stream state. ``observe`` sees each event; ``finish`` ends the span exactly once."""

    def __init__(self, span: Span, start_ns: int) -> None:
        self.span = span
        self.start_ns = start_ns
        self.first_ns: int | None = None
        self.text: list[str] = []
        # content block index -> [id, name, argument pieces]
        self.calls: dict[int, list[Any]] = {}
        self.usage: dict[str, int] = {}
        self.data: dict[str, Any] = {}

    def observe(self, event: Any) -> None:
        try:
            self._observe(event)
        except Exception:
            warn_once("anthropic.stream", "agentlog: could not read a streamed Anthropic event")

    def _took_usage(self, usage: Any) -> None:
        for name in _USAGE_FIELDS:
            value = getattr(usage, name, None)
            if isinstance(value, int):
                self.usage[name] = value  # message_delta's counts are cumulative: latest wins

    def _observe(self, event: Any) -> None:
        kind = event.type
        if kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                self._first()
                self.text.append(delta.text)
            elif delta.type == "input_json_delta" and event.index in self.calls:
                self.calls[event.index][2].append(delta.partial_json)
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use":
                self._first()
                self.calls[event.index] = [block.id, block.name, []]
            elif block.type == "text" and block.text:
                self._first()
                self.text.append(block.text)
        elif kind == "message_start":
            self.data["response_id"] = event.message.id
            self.data["model"] = event.message.model
            self._took_usage(event.message.usage)
        elif kind == "message_delta":
            self.data["finish_reason"] = event.delta.stop_reason
            if event.usage is not None:
                self._took_usage(event.usage)

    def _first(self) -> None:
        if self.first_ns is None:
            self.first_ns = now_ns()

    def finish(self, *, error: BaseException | None = None, partial: bool = False) -> None:
        if self.span.ended:
            return
        try:
            data = dict(self.data)
            if self.usage:
                data["usage"] = usage_data(SimpleNamespace(**self.usage))
            if STATE.capture:
                data["response"] = "".join(self.text) if self.text else None
                data["tool_calls"] = [
                    tool_call(call_id, name, "".join(pieces))
                    for call_id, name, pieces in self.calls.values()
                ]
            if self.first_ns is not None:
                data["time_to_first_token_ms"] = (self.first_ns - self.start_ns) / 1e6
            self.span.end(error=error, partial=partial, data=data)
        except Exception:
            warn_once("anthropic.finish", "agentlog: could not record an Anthropic stream")
            self.span.end(error=error, partial=partial)

    def finish_collected(self) -> None:
        self.finish(partial=True)


def _sync(inner: Iterator[Any], rec: StreamRecorder) -> Iterator[Any]:
    done = False
    try:
        for event in inner:
            rec.observe(event)
            yield event
        done = True
    except Exception as exc:
        rec.finish(error=exc, partial=True)
        raise
    finally:
        # Also reached on GeneratorExit: close(), or collection after a ``break``.
        rec.finish(partial=not done)


async def _async(inner: AsyncIterator[Any], rec: StreamRecorder) -> AsyncIterator[Any]:
    done = False
    try:
        async for event in inner:
            rec.observe(event)
            yield event
        done = True
    except Exception as exc:
        rec.finish(error=exc, partial=True)
        raise
    finally:
        rec.finish(partial=not done)


def watch(stream: Any, rec: StreamRecorder, *, is_async: bool) -> None:
    """Route a ``Stream``/``AsyncStream`` through ``rec``, in place.

    The SDK makes its iterator on a copy of the stream (recent versions), so nothing the stream
    holds refers back to it: dropped after ``break``, it is freed and written at once. Older
    versions, and stream subclasses that keep state on the stream, are read as they are.
    """
    inner = stream._iterator
    ref = weakref.ref(stream)
    cls_close = type(stream).close
    if is_async:
        stream._iterator = _async(inner, rec)

        async def aclose() -> None:
            try:
                target = ref()
                if target is not None:
                    await cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = aclose
    else:
        stream._iterator = _sync(inner, rec)

        def close() -> None:
            try:
                target = ref()
                if target is not None:
                    cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = close
    weakref.finalize(stream, rec.finish_collected)
