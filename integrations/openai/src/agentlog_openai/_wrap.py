"""The wrappers around ``create`` of chat completions, responses and embeddings.

A call is recorded only when agentlog is recording and no framework integration (LangChain)
is already recording it. Everything agentlog does around the call is guarded: a failure in
here is logged once and the call goes on as if uninstrumented. The SDK's own exceptions pass
through unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from agentlog._context import llm_recorded_by
from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._spans import Span, recording, start_span

from ._extract import (
    chat_response_data,
    embeddings_response_data,
    request_data,
    response_failure,
    responses_response_data,
)
from ._patch import Switch
from ._stream import StreamRecorder, watch_async_stream, watch_stream

__all__ = ["async_wrapper", "sync_wrapper"]

_RAW_HEADER = "X-Stainless-Raw-Response"
_EXTRACT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "chat": chat_response_data,
    "responses": responses_response_data,
    "embeddings": embeddings_response_data,
}
_NAMES = {
    "chat": "openai.chat.completions.create",
    "responses": "openai.responses.create",
    "embeddings": "openai.embeddings.create",
}


class _Call:
    __slots__ = ("hide_usage", "kwargs", "operation", "raw", "span", "start_ns")

    def __init__(self, operation: str, span: Span, kwargs: dict[str, Any]) -> None:
        self.operation = operation
        self.span = span
        self.kwargs = kwargs
        self.start_ns = now_ns()
        self.hide_usage = False
        self.raw = False


def _begin(operation: str, kwargs: dict[str, Any]) -> _Call | None:
    """Open the span and decide the arguments actually sent; None means: don't record."""
    if not recording() or llm_recorded_by() is not None:
        return None
    try:
        headers = kwargs.get("extra_headers")
        mode = headers.get(_RAW_HEADER) if isinstance(headers, Mapping) else None
        if mode == "stream":
            return None  # with_streaming_response: the body is the caller's to read, not ours
        span = start_span("llm_call", _NAMES[operation], request_data(operation, kwargs))
        if span is None:
            return None
        call = _Call(operation, span, kwargs)
        call.raw = mode is not None  # with_raw_response: "true" (legacy) or "raw"
        if operation == "chat" and kwargs.get("stream") is True:
            options = kwargs.get("stream_options")
            if options is None or type(options).__name__ in ("NotGiven", "Omit"):
                options = {}
            if isinstance(options, Mapping) and "include_usage" not in options:
                call.kwargs = {**kwargs, "stream_options": {**options, "include_usage": True}}
                call.hide_usage = True
        return call
    except Exception:
        warn_once("openai.begin", "agentlog: could not start recording an OpenAI call")
        return None


def _parse(call: _Call, result: Any) -> Any:
    """The SDK object behind a ``with_raw_response`` result (parse() caches it for the caller)."""
    return result.parse() if call.raw and hasattr(result, "parse") else result


async def _aparse(call: _Call, result: Any) -> Any:
    try:
        parsed = _parse(call, result)
        return await parsed if inspect.isawaitable(parsed) else parsed
    except Exception:
        warn_once("openai.parse", "agentlog: could not read a raw response")
        return None


def _end(call: _Call, parsed: Any, *, is_async: bool) -> None:
    try:
        from openai import AsyncStream, Stream  # imported already: the SDK is calling us

        if isinstance(parsed, (Stream, AsyncStream)):
            rec = StreamRecorder(call.span, call.operation, call.start_ns,
                                 hide_usage=call.hide_usage)  # fmt: skip
            (watch_async_stream if is_async else watch_stream)(parsed, rec)
            return
        failure = response_failure(parsed) if call.operation == "responses" else None
        call.span.end(data=_EXTRACT[call.operation](parsed), error=failure)
    except Exception:
        warn_once("openai.end", "agentlog: could not record an OpenAI response")
        call.span.end()


def sync_wrapper(operation: str, switch: Switch) -> Callable[..., Any]:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _begin(operation, kwargs) if switch.enabled else None
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **call.kwargs)
        except BaseException as exc:
            call.span.end(error=exc)
            raise
        try:
            parsed = _parse(call, result)
        except Exception:
            parsed = None
        _end(call, parsed, is_async=False)
        return result

    return wrapper


def async_wrapper(operation: str, switch: Switch) -> Callable[..., Any]:
    async def wrapper(
        wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(operation, kwargs) if switch.enabled else None
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **call.kwargs)
        except BaseException as exc:
            call.span.end(error=exc)
            raise
        _end(call, await _aparse(call, result), is_async=True)
        return result

    return wrapper
