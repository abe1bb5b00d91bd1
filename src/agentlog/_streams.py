"""Streamed model calls: one span ended when the stream ends, however it ends.

An integration subclasses ``StreamRecorder`` (what each item says, what the span gets) and calls
``watch`` on the SDK's stream object. The caller keeps that same object; only its ``_iterator``
is replaced by a generator that hands each item to the recorder on its way past, and its
``close`` by one that also ends the span. The span is ended by whichever comes first: the last
item (complete), an error (partial, with the error), ``close()`` or a ``break`` followed by the
stream being dropped (partial), the object being collected (``weakref.finalize``, partial) or
agentlog's shutdown (open spans are ended as partial then).

``watch`` fits stream classes shaped like the OpenAI and Anthropic SDKs' ``Stream`` and
``AsyncStream``: iteration goes through ``_iterator``, ``close()`` releases the response.
"""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._ids import now_ns
from ._llm_data import tool_call
from ._log import warn_once
from ._spans import Span
from ._state import STATE

__all__ = ["StreamRecorder", "ToolCallPieces", "watch"]


class ToolCallPieces:
    """One tool call assembled from streamed pieces of its arguments."""

    __slots__ = ("args", "id", "name")

    def __init__(self, call_id: str | None = None, name: str | None = None) -> None:
        self.id = call_id
        self.name = name
        self.args: list[str] = []


class StreamRecorder(ABC):
    """Per-stream state. ``observe`` sees each item; ``finish`` ends the span exactly once.

    Subclasses implement ``record`` (read one item into ``text``, ``calls``, ``data``, calling
    ``first_token`` when the model's output starts) and may override ``visible``, ``result``
    and ``failure``. Whatever they raise is logged once and costs only what it was reading.
    """

    label = "stream"  # prefix of the warn_once keys, e.g. "openai"
    provider = "model"  # how warnings name the SDK, e.g. "OpenAI"

    def __init__(self, span: Span, start_ns: int) -> None:
        self.span = span
        self.start_ns = start_ns
        self.first_ns: int | None = None
        self.text: list[str] = []
        self.calls: dict[Any, ToolCallPieces] = {}
        self.data: dict[str, Any] = {}

    # -- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def record(self, item: Any) -> None:
        """Take what ``item`` carries."""

    def visible(self, item: Any) -> bool:
        """False for an item the caller must not see (one asked for on the caller's behalf)."""
        return True

    def result(self) -> dict[str, Any]:
        """The span's data at the end: ``data`` plus, when capturing, the assembled output."""
        data = dict(self.data)
        if STATE.capture:
            data["response"] = "".join(self.text) if self.text else None
            data["tool_calls"] = [
                tool_call(c.id, c.name, "".join(c.args)) for c in self.calls.values()
            ]
        return data

    def failure(self) -> str | None:
        """Why a stream that ended without an exception still failed (the server said so)."""
        return None

    # -- driven by ``watch`` ------------------------------------------------------------------

    def first_token(self) -> None:
        if self.first_ns is None:
            self.first_ns = now_ns()

    def observe(self, item: Any) -> bool:
        """Record ``item``; False when the caller must not see it."""
        shown = True
        try:
            shown = self.visible(item)
        except Exception:
            warn_once(f"{self.label}.stream.hide",
                      f"agentlog: could not read a streamed {self.provider} item")  # fmt: skip
        try:
            self.record(item)
        except Exception:
            warn_once(f"{self.label}.stream.observe",
                      f"agentlog: could not read a streamed {self.provider} item")  # fmt: skip
        return shown

    def finish(self, *, error: BaseException | None = None, partial: bool = False) -> None:
        if self.span.ended:
            return
        try:
            data = self.result()
            failure = self.failure() if error is None else None
            if self.first_ns is not None:
                data["time_to_first_token_ms"] = (self.first_ns - self.start_ns) / 1e6
            self.span.end(error=error if failure is None else failure, partial=partial, data=data)
        except Exception:
            warn_once(f"{self.label}.stream.finish",
                      f"agentlog: could not record a streamed {self.provider} call")  # fmt: skip
            self.span.end(error=error, partial=partial)

    def finish_collected(self) -> None:
        self.finish(partial=True)


def _sync(inner: Iterator[Any], rec: StreamRecorder) -> Iterator[Any]:
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
        # Also reached on GeneratorExit: close(), or collection after a ``break``.
        rec.finish(partial=not done)


async def _async(inner: AsyncIterator[Any], rec: StreamRecorder) -> AsyncIterator[Any]:
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


def watch(stream: Any, rec: StreamRecorder, *, is_async: bool, inner: Any = None) -> None:
    """Route ``stream`` through ``rec``, in place: the caller keeps the same object.

    ``inner`` is the iterator to read (default: the stream's own ``_iterator``). Nothing set on
    the stream refers back to it (``close`` holds a weak reference), so a stream whose iterator
    does not refer to it either is freed, and its span ended, as soon as it is dropped.
    """
    source = stream._iterator if inner is None else inner
    ref = weakref.ref(stream)
    cls_close = type(stream).close
    if is_async:
        stream._iterator = _async(source, rec)

        async def aclose() -> None:
            try:
                target = ref()
                if target is not None:
                    await cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = aclose
    else:
        stream._iterator = _sync(source, rec)

        def close() -> None:
            try:
                target = ref()
                if target is not None:
                    cls_close(target)
            finally:
                rec.finish(partial=True)

        stream.close = close
    weakref.finalize(stream, rec.finish_collected)
