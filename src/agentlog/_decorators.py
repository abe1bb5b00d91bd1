"""``@tool``, ``@llm``, ``@decision`` and ``@trace``: one event span per call.

Before ``init()`` (or inside exporter code) a wrapped call costs one attribute read and one
contextvar read, then calls straight through. Recording work after the user's function returns
is guarded: a failure there is logged once and the user's result is returned untouched.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from time import time_ns
from typing import Any, TypeVar, overload

from orjson import dumps as orjson_dumps

from ._context import session_var, span_var, suppressed_var
from ._ids import new_id, now_ns
from ._log import warn_once
from ._serialize import JSON_OPTS, dumps, json_default
from ._spans import Span, error_info, otel_ids
from ._state import STATE

__all__ = ["decision", "llm", "tool", "trace"]

F = TypeVar("F", bound=Callable[..., Any])
DataFn = Callable[[dict[str, Any], Any], dict[str, Any]]

_MAX_ITEMS = 1000  # yielded items kept per generator span; the rest are counted, not stored


def _io_data(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
    return {"input": inputs, "output": output}


def _decision_data(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"inputs": inputs, "options": inputs.get("options"), "choice": output}
    if isinstance(output, dict) and "choice" in output:
        data.update(
            choice=output.get("choice"),
            reasoning=output.get("reasoning"),
            confidence=output.get("confidence"),
        )
    return data


def _usage(obj: Any) -> dict[str, Any] | None:
    usage = obj.get("usage") if isinstance(obj, dict) else getattr(obj, "usage", None)
    if usage is None:
        return None

    def get(key: str) -> Any:
        return usage.get(key) if isinstance(usage, dict) else getattr(usage, key, None)

    inp = get("input_tokens") or get("prompt_tokens")
    out = get("output_tokens") or get("completion_tokens")
    total = get("total_tokens") or ((inp or 0) + (out or 0) if inp or out else None)
    return {"input_tokens": inp, "output_tokens": out, "total_tokens": total}


def _llm_data(model: str | None, provider: str | None) -> DataFn:
    def make(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
        params = {k: v for k, v in inputs.items() if k not in ("messages", "prompt", "model")}
        response = output
        if isinstance(output, list) and output and all(isinstance(x, str) for x in output):
            response = "".join(output)  # a streamed text response, chunk by chunk
        return {
            "provider": provider,
            "model": model or inputs.get("model"),
            "messages": inputs.get("messages", inputs.get("prompt")),
            "response": response,
            "tool_calls": None,
            "usage": _usage(output),
            "params": params,
            "stream": isinstance(output, list),
        }

    return make


def _arg_binder(
    fn: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    """Map call arguments to parameter names, computed once per decorated function."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return lambda args, kwargs: {"args": list(args), **kwargs}
    params = list(sig.parameters.values())
    skip = 1 if params and params[0].name in ("self", "cls") else 0
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    names = positional[skip:]
    n = len(positional)

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        out = dict(zip(names, args[skip:n]))  # noqa: B905 - fewer args than names is normal
        if len(args) > n:
            out[varargs or "args"] = list(args[n:])
        if kwargs:
            out.update(kwargs)
        return out

    if skip == 0 and len(names) == 1:
        # One parameter, passed positionally: the most common tool shape gets its own path.
        only = names[0]

        def bind_one(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            if len(args) == 1 and not kwargs:
                return {only: args[0]}
            return bind(args, kwargs)

        return bind_one
    return bind


def _make(
    fn: Callable[..., Any], etype: str, name: str | None, capture: bool, make_data: DataFn
) -> Callable[..., Any]:
    if isinstance(fn, (staticmethod, classmethod)):
        return type(fn)(_make(fn.__func__, etype, name, capture, make_data))
    label = name or getattr(fn, "__name__", None) or "call"
    bind = _arg_binder(fn)
    state = STATE

    if inspect.isasyncgenfunction(fn):
        return _wrap_asyncgen(fn, etype, label, capture, make_data, bind)
    if inspect.isgeneratorfunction(fn):
        return _wrap_gen(fn, etype, label, capture, make_data, bind)
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            pipeline = state.pipeline
            if pipeline is None or suppressed_var.get():
                return await fn(*args, **kwargs)
            sess = session_var.get()
            parent = span_var.get()
            t0 = now_ns()
            eid = new_id(t0)
            token = span_var.set(eid)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                _reset(token)
                _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                        args, kwargs, None, exc)  # fmt: skip
                raise
            _reset(token)
            _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                    args, kwargs, result, None)  # fmt: skip
            return result

        return async_wrapper

    # The plain sync path is what the overhead benchmark measures: bound methods and module
    # functions are bound to locals once here, and the common tool/step payload is built inline.
    plain_io = make_data is _io_data
    suppressed_get, session_get, span_get = suppressed_var.get, session_var.get, span_var.get
    span_set, span_reset = span_var.set, span_var.reset
    modules = sys.modules

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        pipeline = state.pipeline
        if pipeline is None or suppressed_get():
            return fn(*args, **kwargs)
        sess = session_get()
        parent = span_get()
        t0 = time_ns()
        eid = new_id(t0)
        token = span_set(eid)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _reset(token)
            _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                    args, kwargs, None, exc)  # fmt: skip
            raise
        span_reset(token)
        try:
            end = time_ns()
            if capture and state.capture:
                payload = (
                    {"input": bind(args, kwargs), "output": result}
                    if plain_io
                    else make_data(bind(args, kwargs), result)
                )
                try:
                    # b"%s" % ...: a right-sized copy. orjson's result keeps a ~4 KB allocation
                    # alive, which a buffer of 100k pending records would multiply into 400 MB.
                    data = b"%s" % orjson_dumps(payload, default=json_default, option=JSON_OPTS)
                except Exception:
                    data = dumps(payload)
            else:
                data = b"{}"
            tid = spid = None
            if "opentelemetry.trace" in modules:
                tid, spid = otel_ids()
            pipeline.emit((eid, sess.id if sess is not None else None, parent, etype, label, t0,
                           end, "ok", False, data, None, tid, spid))  # fmt: skip
        except Exception:
            warn_once("decorator", "agentlog: could not record a call")
        return result

    return wrapper


def _reset(token: Any) -> None:
    try:
        span_var.reset(token)
    except ValueError:  # a coroutine finished in another context than it started in
        pass


def _finish(
    pipeline: Any, eid: int, sess: Any, parent: int | None, etype: str, label: str, t0: int,
    capture: bool, make_data: DataFn, bind: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
    result: Any, exc: BaseException | None,
) -> None:  # fmt: skip
    try:
        end = now_ns()
        if capture and STATE.capture:
            data = dumps(make_data(bind(args, kwargs), result if exc is None else None))
        else:
            data = b"{}"
        err = error_info(exc) if exc is not None else None
        tid, spid = otel_ids()
        pipeline.emit((eid, sess.id if sess is not None else None, parent, etype, label, t0, end,
                       "ok" if exc is None else "error", False, data, err, tid, spid))  # fmt: skip
    except Exception:
        warn_once("decorator", "agentlog: could not record a call")


def _open_span(
    etype: str, label: str, capture: bool, bind: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Span | None:
    try:
        span = Span(etype, label, None)
        span.data["__inputs__"] = bind(args, kwargs) if capture and STATE.capture else {}
        return span
    except Exception:
        warn_once("span_open", "agentlog: could not start a span")
        return None


def _close_span(
    span: Span, make_data: DataFn, items: list[Any], count: int, returned: Any,
    exc: BaseException | None, partial: bool, capture: bool,
) -> None:  # fmt: skip
    try:
        inputs = span.data.pop("__inputs__", {})
        data = make_data(inputs, items) if capture and STATE.capture else {}
        if count > len(items):
            data["items_total"] = count
        if returned is not None:
            data["return"] = returned
        span.data = data
        span.end(error=exc, partial=partial)
    except Exception:
        warn_once("span_close", "agentlog: could not end a span")


def _wrap_gen(
    fn: Callable[..., Any], etype: str, label: str, capture: bool, make_data: DataFn, bind: Any
) -> Callable[..., Any]:
    @functools.wraps(fn)
    def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
        if STATE.pipeline is None or suppressed_var.get():
            return (yield from fn(*args, **kwargs))
        span = _open_span(etype, label, capture, bind, args, kwargs)
        if span is None:
            return (yield from fn(*args, **kwargs))
        items: list[Any] = []
        count = 0
        returned = None
        exc: BaseException | None = None
        finished = False
        gen = None
        try:
            # The span is the current parent only while the generator's own code runs: the
            # token is set and reset inside each step, never held across the yield.
            token = span_var.set(span.id)
            try:
                gen = fn(*args, **kwargs)
            finally:
                span_var.reset(token)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                token = span_var.set(span.id)
                try:
                    if to_throw is not None:
                        thrown, to_throw = to_throw, None
                        item = gen.throw(thrown)
                    else:
                        item = gen.send(to_send)
                except StopIteration as stop:
                    finished = True
                    returned = stop.value
                    return stop.value
                finally:
                    span_var.reset(token)
                count += 1
                if len(items) < _MAX_ITEMS:
                    items.append(item)
                try:
                    to_send = yield item
                except GeneratorExit:
                    raise
                except BaseException as thrown_exc:
                    to_throw = thrown_exc
        except GeneratorExit:
            raise
        except BaseException as e:
            exc = e
            finished = True
            raise
        finally:
            if gen is not None and not finished:
                token = span_var.set(span.id)
                try:
                    gen.close()
                except BaseException as e:  # the user's generator failed while closing
                    exc = e
                finally:
                    span_var.reset(token)
            _close_span(span, make_data, items, count, returned, exc, not finished, capture)

    return gen_wrapper


def _wrap_asyncgen(
    fn: Callable[..., Any], etype: str, label: str, capture: bool, make_data: DataFn, bind: Any
) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
        if STATE.pipeline is None or suppressed_var.get():
            async for item in fn(*args, **kwargs):
                yield item
            return
        span = _open_span(etype, label, capture, bind, args, kwargs)
        if span is None:
            async for item in fn(*args, **kwargs):
                yield item
            return
        items: list[Any] = []
        count = 0
        exc: BaseException | None = None
        finished = False
        agen = None
        try:
            token = span_var.set(span.id)
            try:
                agen = fn(*args, **kwargs)
            finally:
                span_var.reset(token)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                token = span_var.set(span.id)
                try:
                    if to_throw is not None:
                        thrown, to_throw = to_throw, None
                        item = await agen.athrow(thrown)
                    else:
                        item = await agen.asend(to_send)
                except StopAsyncIteration:
                    finished = True
                    return
                finally:
                    _reset(token)
                count += 1
                if len(items) < _MAX_ITEMS:
                    items.append(item)
                try:
                    to_send = yield item
                except GeneratorExit:
                    raise
                except BaseException as thrown_exc:
                    to_throw = thrown_exc
        except GeneratorExit:
            raise
        except BaseException as e:
            exc = e
            finished = True
            raise
        finally:
            if agen is not None and not finished:
                try:
                    await agen.aclose()
                except BaseException as e:
                    exc = e
            _close_span(span, make_data, items, count, None, exc, not finished, capture)

    return agen_wrapper


def _decorator(fn: Any, etype: str, name: str | None, capture: bool, make_data: DataFn) -> Any:
    if fn is not None:
        return _make(fn, etype, name, capture, make_data)
    return lambda f: _make(f, etype, name, capture, make_data)


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(*, name: str | None = None, capture: bool = True) -> Callable[[F], F]: ...
def tool(fn: Any = None, /, *, name: str | None = None, capture: bool = True) -> Any:
    """Record each call as a ``tool_call`` event with its input and output."""
    return _decorator(fn, "tool_call", name, capture, _io_data)


@overload
def llm(fn: F, /) -> F: ...
@overload
def llm(
    *, model: str | None = None, provider: str | None = None, name: str | None = None,
    capture: bool = True,
) -> Callable[[F], F]: ...  # fmt: skip
def llm(
    fn: Any = None, /, *, model: str | None = None, provider: str | None = None,
    name: str | None = None, capture: bool = True,
) -> Any:  # fmt: skip
    """Record each call as an ``llm_call``: messages, response and usage where they can be read."""
    return _decorator(fn, "llm_call", name, capture, _llm_data(model, provider))


@overload
def decision(fn: F, /) -> F: ...
@overload
def decision(*, name: str | None = None, capture: bool = True) -> Callable[[F], F]: ...
def decision(fn: Any = None, /, *, name: str | None = None, capture: bool = True) -> Any:
    """Record each call as a ``decision``: inputs, options and the choice returned."""
    return _decorator(fn, "decision", name, capture, _decision_data)


@overload
def trace(fn: F, /) -> F: ...
@overload
def trace(
    *, type: str = "step", name: str | None = None, capture: bool = True
) -> Callable[[F], F]: ...
def trace(
    fn: Any = None, /, *, type: str = "step", name: str | None = None, capture: bool = True
) -> Any:
    """Record each call as a span of any ``type`` (default ``step``)."""
    if not isinstance(type, str) or not type:
        warn_once("trace_type", "agentlog: trace(type=%r) is not a type name; using 'step'",
                  type, exc_info=False)  # fmt: skip
        type = "step"
    return _decorator(fn, type, name, capture, _io_data)
