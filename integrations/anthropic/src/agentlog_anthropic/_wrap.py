"""The wrappers around ``messages.create`` and ``messages.stream``.

A call is recorded only when agentlog is recording and no framework integration (LangChain)
is already recording it. Everything agentlog does around the call is guarded: a failure in
here is logged once and the call goes on as if uninstrumented. The SDK's own exceptions pass
through unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping
from typing import Any

from agentlog._context import llm_recorded_by
from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._spans import Span, recording, start_span

from ._extract import message_data, request_data
from ._patch import Switch
from ._stream import StreamRecorder, watch

__all__ = ["async_create", "async_stream_helper", "sync_create", "sync_stream_helper"]

_RAW_HEADER = "X-Stainless-Raw-Response"


class _Call:
    __slots__ = ("raw", "span", "start_ns")

    def __init__(self, span: Span, raw: bool) -> None:
        self.span = span
        self.raw = raw
        self.start_ns = now_ns()


def _begin(name: str, kwargs: dict[str, Any], *, stream: bool) -> _Call | None:
    """Open the span, or None when this call is not ours to record."""
    if not recording() or llm_recorded_by() is not None:
        return None
    try:
        headers = kwargs.get("extra_headers")
        mode = headers.get(_RAW_HEADER) if isinstance(headers, Mapping) else None
        if mode == "stream":
            return None  # with_streaming_response: the body is the caller's to read, not ours
        span = start_span("llm_call", name, request_data(kwargs, stream=stream))
        return _Call(span, mode is not None) if span is not None else None
    except Exception:
        warn_once("anthropic.begin", "agentlog: could not start recording an Anthropic call")
        return None


def _parse(call: _Call, result: Any) -> Any:
    """The SDK object behind a ``with_raw_response`` result (parse() caches it for the caller)."""
    return result.parse() if call.raw and hasattr(result, "parse") else result


async def _aparse(call: _Call, result: Any) -> Any:
    try:
        parsed = _parse(call, result)
        return await parsed if inspect.isawaitable(parsed) else parsed
    except Exception:
        warn_once("anthropic.parse", "agentlog: could not read a raw response")
        return None


def _end(call: _Call, parsed: Any, *, is_async: bool) -> None:
    try:
        from anthropic import AsyncStream, Stream  # imported already: the SDK is calling us

        if isinstance(parsed, (Stream, AsyncStream)):
            watch(parsed, StreamRecorder(call.span, call.start_ns), is_async=is_async)
            return
        call.span.end(data=message_data(parsed))
    except Exception:
        warn_once("anthropic.end", "agentlog: could not record an Anthropic response")
        call.span.end()


def _is_stream(kwargs: dict[str, Any]) -> bool:
    return kwargs.get("stream") is True


def sync_create(switch: Switch) -> Callable[..., Any]:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not switch.enabled:
            return wrapped(*args, **kwargs)
        call = _begin("anthropic.messages.create", kwargs, stream=_is_stream(kwargs))
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
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


def async_create(switch: Switch) -> Callable[..., Any]:
    async def wrapper(
        wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not switch.enabled:
            return await wrapped(*args, **kwargs)
        call = _begin("anthropic.messages.create", kwargs, stream=_is_stream(kwargs))
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            call.span.end(error=exc)
            raise
        _end(call, await _aparse(call, result), is_async=True)
        return result

    return wrapper


# ``messages.stream()`` returns a manager that sends the request when it is entered; the span
# starts then (not at ``stream()``), so a manager never entered records nothing.
_SYNC_REQUEST = "_MessageStreamManager__api_request"
_ASYNC_REQUEST = "_AsyncMessageStreamManager__api_request"


def _send(request: Callable[[], Any], kwargs: dict[str, Any]) -> Any:
    call = _begin("anthropic.messages.stream", kwargs, stream=True)
    if call is None:
        return request()
    try:
        raw_stream = request()
    except BaseException as exc:
        call.span.end(error=exc)
        raise
    _end(call, raw_stream, is_async=False)
    return raw_stream


class _Deferred:
    """Awaits the SDK's request coroutine only when awaited itself: a manager that is never
    entered then leaves just the SDK's own un-awaited coroutine, as it would uninstrumented."""

    __slots__ = ("_kwargs", "_request")

    def __init__(self, request: Any, kwargs: dict[str, Any]) -> None:
        self._request = request
        self._kwargs = kwargs

    def __await__(self) -> Generator[Any, None, Any]:
        return self._run().__await__()

    async def _run(self) -> Any:
        call = _begin("anthropic.messages.stream", self._kwargs, stream=True)
        if call is None:
            return await self._request
        try:
            raw_stream = await self._request
        except BaseException as exc:
            call.span.end(error=exc)
            raise
        _end(call, raw_stream, is_async=True)
        return raw_stream


def sync_stream_helper(switch: Switch) -> Callable[..., Any]:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        if switch.enabled:
            try:
                request = getattr(manager, _SYNC_REQUEST, None)
                if callable(request):
                    setattr(manager, _SYNC_REQUEST, lambda: _send(request, kwargs))
            except Exception:
                warn_once("anthropic.stream_helper", "agentlog: could not watch messages.stream()")
        return manager

    return wrapper


def async_stream_helper(switch: Switch) -> Callable[..., Any]:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        if switch.enabled:
            try:
                request = getattr(manager, _ASYNC_REQUEST, None)
                if request is not None:
                    setattr(manager, _ASYNC_REQUEST, _Deferred(request, kwargs))
            except Exception:
                warn_once("anthropic.stream_helper", "agentlog: could not watch messages.stream()")
        return manager

    return wrapper
