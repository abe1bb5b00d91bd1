"""The wrappers around ``messages.create`` and ``messages.stream``.

``agentlog.instrumentation`` decides whether a call is recorded and guards everything around it;
this module says what an Anthropic request and result mean, and reaches the request that
``messages.stream()``'s manager sends when it is entered.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from agentlog.instrumentation import (
    ModelCall,
    Switch,
    async_model_wrapper,
    begin_model_call,
    send,
    send_async,
    sync_model_wrapper,
    warn_once,
    watch_stream,
)

from ._extract import message_data, request_data
from ._stream import StreamRecorder

__all__ = ["async_create", "async_stream_helper", "sync_create", "sync_stream_helper"]


def _begin(name: str, kwargs: dict[str, Any], *, stream: bool) -> ModelCall | None:
    return begin_model_call(ModelCall, name, kwargs, lambda: request_data(kwargs, stream=stream),
                      label="anthropic")  # fmt: skip


def _begin_create(kwargs: dict[str, Any]) -> ModelCall | None:
    return _begin("anthropic.messages.create", kwargs, stream=kwargs.get("stream") is True)


def _end(call: ModelCall, parsed: Any, is_async: bool) -> None:
    try:
        from anthropic import AsyncStream, Stream  # imported already: the SDK is calling us

        if isinstance(parsed, (Stream, AsyncStream)):
            watch_stream(parsed, StreamRecorder(call.span, call.start_ns), is_async=is_async)
            return
        call.span.end(data=message_data(parsed))
    except Exception:
        warn_once("anthropic.end", "agentlog: could not record an Anthropic response")
        call.span.end()


def sync_create(switch: Switch) -> Callable[..., Any]:
    return sync_model_wrapper(switch, _begin_create, _end, label="anthropic")


def async_create(switch: Switch) -> Callable[..., Any]:
    return async_model_wrapper(switch, _begin_create, _end, label="anthropic")


# ``messages.stream()`` returns a manager that sends the request when it is entered; the span
# starts then (not at ``stream()``), so a manager never entered records nothing.
_SYNC_REQUEST = "_MessageStreamManager__api_request"
_ASYNC_REQUEST = "_AsyncMessageStreamManager__api_request"


def _send(request: Callable[[], Any], kwargs: dict[str, Any]) -> Any:
    call = _begin("anthropic.messages.stream", kwargs, stream=True)
    if call is None:
        return request()
    raw_stream = send(call, lambda _: request())
    _end(call, raw_stream, False)
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
        raw_stream = await send_async(call, lambda _: self._request)
        _end(call, raw_stream, True)
        return raw_stream


def _stream_helper(
    switch: Switch, attr: str, replacement: Callable[[Any, dict[str, Any]], Any]
) -> Callable[..., Any]:
    """Wrap ``stream()`` so the manager it returns sends its request through ``replacement``."""

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        if switch.enabled:
            try:
                watched = replacement(getattr(manager, attr, None), kwargs)
                if watched is not None:
                    setattr(manager, attr, watched)
            except Exception:
                warn_once("anthropic.stream_helper", "agentlog: could not watch messages.stream()")
        return manager

    return wrapper


def _sync_request(request: Any, kwargs: dict[str, Any]) -> Any:
    return (lambda: _send(request, kwargs)) if callable(request) else None


def _async_request(request: Any, kwargs: dict[str, Any]) -> Any:
    return _Deferred(request, kwargs) if request is not None else None


def sync_stream_helper(switch: Switch) -> Callable[..., Any]:
    return _stream_helper(switch, _SYNC_REQUEST, _sync_request)


def async_stream_helper(switch: Switch) -> Callable[..., Any]:
    return _stream_helper(switch, _ASYNC_REQUEST, _async_request)
