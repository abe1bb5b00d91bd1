"""The wrappers around ``create`` of chat completions, responses and embeddings.

``agentlog.instrumentation`` decides whether a call is recorded and guards everything around it;
this module says what an OpenAI request and result mean.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agentlog.instrumentation import (
    ModelCall,
    Switch,
    async_model_wrapper,
    begin_model_call,
    given,
    sync_model_wrapper,
    warn_once,
    watch_stream,
)

from ._extract import (
    chat_response_data,
    embeddings_response_data,
    request_data,
    response_failure,
    responses_response_data,
)
from ._stream import StreamRecorder, detached_iterator

__all__ = ["async_wrapper", "sync_wrapper"]

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


class _Call(ModelCall):
    __slots__ = ("hide_usage",)

    def __init__(self, span: Any, kwargs: dict[str, Any], *, raw: bool = False) -> None:
        super().__init__(span, kwargs, raw=raw)
        self.hide_usage = False  # usage asked for on the caller's behalf: not theirs to see


def _begin(operation: str) -> Callable[[dict[str, Any]], _Call | None]:
    def begin(kwargs: dict[str, Any]) -> _Call | None:
        call = begin_model_call(_Call, _NAMES[operation], kwargs,
                          lambda: request_data(operation, kwargs), label="openai")  # fmt: skip
        if call is None or operation != "chat" or kwargs.get("stream") is not True:
            return call
        try:
            # A streamed chat reports usage only when asked: ask, and hide the answer.
            options = kwargs.get("stream_options")
            if options is None or not given(options):
                options = {}
            if isinstance(options, Mapping) and "include_usage" not in options:
                call.kwargs = {**kwargs, "stream_options": {**options, "include_usage": True}}
                call.hide_usage = True
        except Exception:
            warn_once("openai.begin", "agentlog: could not start recording an OpenAI call")
        return call

    return begin


def _end(operation: str) -> Callable[[_Call, Any, bool], None]:
    def end(call: _Call, parsed: Any, is_async: bool) -> None:
        try:
            from openai import AsyncStream, Stream  # imported already: the SDK is calling us

            if isinstance(parsed, (Stream, AsyncStream)):
                rec = StreamRecorder(call.span, operation, call.start_ns,
                                     hide_usage=call.hide_usage)  # fmt: skip
                watch_stream(parsed, rec, is_async=is_async, inner=detached_iterator(parsed))
                return
            failure = response_failure(parsed) if operation == "responses" else None
            call.span.end(data=_EXTRACT[operation](parsed), error=failure)
        except Exception:
            warn_once("openai.end", "agentlog: could not record an OpenAI response")
            call.span.end()

    return end


def sync_wrapper(operation: str, switch: Switch) -> Callable[..., Any]:
    return sync_model_wrapper(switch, _begin(operation), _end(operation), label="openai")


def async_wrapper(operation: str, switch: Switch) -> Callable[..., Any]:
    return async_model_wrapper(switch, _begin(operation), _end(operation), label="openai")
