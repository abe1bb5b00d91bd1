"""Recording one model call made through a provider SDK's method, as an ``llm_call`` span.

An integration wraps the SDK's methods (``agentlog._patching``) with ``sync_wrapper`` /
``async_wrapper`` and supplies two functions: ``begin`` (usually through ``begin_call``) opens
the span and says which arguments are actually sent, ``end`` records the SDK's result (a stream
is handed to ``agentlog._streams``). A call is recorded only when agentlog is recording and no
framework integration (LangChain) is already recording it. Everything done around the call is
guarded: a failure in here is logged once and the call goes on as if uninstrumented; the SDK's
own exceptions pass through unchanged.

``with_raw_response`` and ``with_streaming_response`` are recognised by the header the
OpenAI and Anthropic SDKs (both Stainless-generated) add to the request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from ._context import llm_owner_var, llm_recorded_by
from ._ids import now_ns
from ._log import warn_once
from ._patching import Switch
from ._spans import Span, recording, start_span

__all__ = [
    "Call",
    "aparse_raw",
    "async_wrapper",
    "begin_call",
    "given",
    "params",
    "parse_raw",
    "recorded_by",
    "send",
    "send_async",
    "snapshot",
    "sync_wrapper",
]

_RAW_HEADER = "X-Stainless-Raw-Response"


class Call:
    """One call being recorded: its span, the arguments sent, whether the result is raw."""

    __slots__ = ("kwargs", "raw", "span", "start_ns")

    def __init__(self, span: Span, kwargs: dict[str, Any], *, raw: bool = False) -> None:
        self.span = span
        self.kwargs = kwargs  # what is sent: an integration may add to the caller's arguments
        self.raw = raw  # with_raw_response: the result wraps the SDK object (``parse()``)
        self.start_ns = now_ns()


C = TypeVar("C", bound=Call)


class recorded_by:
    """``with recorded_by("langchain"):`` marks the enclosed work as a model call that
    integration records itself, so provider wrappers underneath stay silent (one model call is
    one ``llm_call``). Never hold it across a ``yield``: set it around each step instead.

    ``active=False`` makes it a no-op (an integration switched off keeps its wrappers cheap).
    """

    __slots__ = ("_active", "_owner", "_token")

    def __init__(self, owner: str, *, active: bool = True) -> None:
        self._owner = owner
        self._active = active
        self._token: Any = None

    def __enter__(self) -> None:
        if self._active:
            self._token = llm_owner_var.set(self._owner)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            llm_owner_var.reset(self._token)
            self._token = None


def given(value: Any) -> bool:
    """False for the SDKs' "not given" sentinels (``NotGiven``, ``Omit``): falsy, and with no
    useful JSON form."""
    return type(value).__name__ not in ("NotGiven", "Omit")


def snapshot(value: Any) -> Any:
    """What a request argument holds now, cheaply: converted to JSON only when the event is
    written.

    Lists are copied (an agent loop appends to its ``messages`` right after the call); a
    one-shot iterable (a generator) is not read at all, as reading it would starve the SDK.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    if hasattr(value, "__next__"):
        return None
    return value


def params(kwargs: dict[str, Any], *, recorded_apart: frozenset[str]) -> dict[str, Any]:
    """The call's other arguments (temperature, tools, ...) for the event's ``params``.

    ``recorded_apart``: what the event keeps under its own key, or is transport plumbing.
    """
    return {k: snapshot(v) for k, v in kwargs.items() if k not in recorded_apart and given(v)}


def begin_call(
    kind: type[C],
    name: str,
    kwargs: dict[str, Any],
    request_data: Callable[[], dict[str, Any]],
    *,
    label: str,
) -> C | None:
    """Open the ``llm_call`` span named ``name``; None means: don't record this call."""
    if not recording() or llm_recorded_by() is not None:
        return None
    try:
        headers = kwargs.get("extra_headers")
        mode = headers.get(_RAW_HEADER) if isinstance(headers, Mapping) else None
        if mode == "stream":
            return None  # with_streaming_response: the body is the caller's to read, not ours
        span = start_span("llm_call", name, request_data())
        if span is None:
            return None
        return kind(span, kwargs, raw=mode is not None)  # mode: "true" (legacy) or "raw"
    except Exception:
        warn_once(f"{label}.begin", f"agentlog: could not start recording a model call ({label})")
        return None


def parse_raw(call: Call, result: Any, *, label: str) -> Any:
    """The SDK object behind a ``with_raw_response`` result (``parse()`` caches it for the
    caller); None when it cannot be read."""
    try:
        return result.parse() if call.raw and hasattr(result, "parse") else result
    except Exception:
        warn_once(f"{label}.parse", "agentlog: could not read a raw response")
        return None


async def aparse_raw(call: Call, result: Any, *, label: str) -> Any:
    """``parse_raw`` for async clients, whose ``parse()`` is a coroutine."""
    try:
        parsed = result.parse() if call.raw and hasattr(result, "parse") else result
        return await parsed if inspect.isawaitable(parsed) else parsed
    except Exception:
        warn_once(f"{label}.parse", "agentlog: could not read a raw response")
        return None


def send(call: Call, request: Callable[[dict[str, Any]], Any]) -> Any:
    """Make the request with the call's arguments; an exception ends the span and goes on."""
    try:
        return request(call.kwargs)
    except BaseException as exc:
        call.span.end(error=exc)
        raise


async def send_async(call: Call, request: Callable[[dict[str, Any]], Awaitable[Any]]) -> Any:
    try:
        return await request(call.kwargs)
    except BaseException as exc:
        call.span.end(error=exc)
        raise


End = Callable[[C, Any, bool], None]  # (call, SDK object, is_async)


def _begin(
    begin: Callable[[dict[str, Any]], C | None], kwargs: dict[str, Any], label: str
) -> C | None:
    try:
        return begin(kwargs)
    except Exception:  # an integration's own hook failed: the call goes on unrecorded
        warn_once(f"{label}.begin", f"agentlog: could not start recording a model call ({label})")
        return None


def _end(end: End[C], call: C, parsed: Any, is_async: bool, label: str) -> None:
    try:
        end(call, parsed, is_async)
    except Exception:  # the span still ends, without what could not be read
        warn_once(f"{label}.end", f"agentlog: could not record a model response ({label})")
        call.span.end()


def sync_wrapper(
    switch: Switch, begin: Callable[[dict[str, Any]], C | None], end: End[C], *, label: str
) -> Callable[..., Any]:
    """A ``wrapt`` wrapper recording each call of a sync SDK method while ``switch`` is on.

    ``begin(kwargs)`` opens the call (usually through ``begin_call``) or returns None to leave
    it alone; ``end(call, result, is_async)`` ends ``call.span`` with what the result says (or
    hands a stream to ``agentlog._streams.watch``). Should either raise, that is logged once:
    the SDK call goes on, and its span ends without the data that could not be read.
    """

    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _begin(begin, kwargs, label) if switch.enabled else None
        if call is None:
            return wrapped(*args, **kwargs)
        result = send(call, lambda sent: wrapped(*args, **sent))
        _end(end, call, parse_raw(call, result, label=label), False, label)
        return result

    return wrapper


def async_wrapper(
    switch: Switch, begin: Callable[[dict[str, Any]], C | None], end: End[C], *, label: str
) -> Callable[..., Any]:
    """``sync_wrapper`` for a coroutine method."""

    async def wrapper(
        wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _begin(begin, kwargs, label) if switch.enabled else None
        if call is None:
            return await wrapped(*args, **kwargs)
        result = await send_async(call, lambda sent: wrapped(*args, **sent))
        _end(end, call, await aparse_raw(call, result, label=label), True, label)
        return result

    return wrapper
