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

from . import _ids
from ._capture import DataFn, arg_binder, decision_data, io_data, llm_data, sole_parameter
from ._context import session_var, span_var, suppressed_var
from ._encode import widen
from ._generators import reset_token, wrap_asyncgen, wrap_gen
from ._ids import new_id, now_ns
from ._log import warn_once
from ._serialize import STR_KEY_OPTS, dumps, dumps_any, json_default
from ._spans import error_info, otel_ids
from ._state import STATE

__all__ = ["decision", "llm", "tool", "trace"]

F = TypeVar("F", bound=Callable[..., Any])


def _make(
    fn: Callable[..., Any], etype: str, name: str | None, capture: bool, make_data: DataFn
) -> Callable[..., Any]:
    if isinstance(fn, (staticmethod, classmethod)):
        return type(fn)(_make(fn.__func__, etype, name, capture, make_data))
    label = name or getattr(fn, "__name__", None) or "call"
    bind = arg_binder(fn)
    state = STATE

    if inspect.isasyncgenfunction(fn):
        return wrap_asyncgen(fn, etype, label, capture, make_data, bind)
    if inspect.isgeneratorfunction(fn):
        return wrap_gen(fn, etype, label, capture, make_data, bind)
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
                reset_token(token)
                _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                        args, kwargs, None, exc)  # fmt: skip
                raise
            reset_token(token)
            _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                    args, kwargs, result, None)  # fmt: skip
            return result

        return async_wrapper

    # The plain sync path is what the overhead benchmark measures: bound methods and module
    # functions are bound to locals once here, the common tool/step payload is built inline (and
    # its arguments too, for the common one-parameter function), and the record goes straight
    # into the pipeline's buffer (what ``Pipeline.emit`` does, without a call's frame).
    plain_io = make_data is io_data
    one = sole_parameter(fn)
    suppressed_get, session_get, span_get = suppressed_var.get, session_var.get, span_var.get
    span_set, span_reset = span_var.set, span_var.reset
    modules = sys.modules
    ids = _ids

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        pipeline = state.pipeline
        if pipeline is None or suppressed_get():
            return fn(*args, **kwargs)
        sess = session_get()
        if sess is not None and sess.skip:  # sampled out: nothing to build, only to count
            pipeline.sampler.count_out(sess.id)
            return fn(*args, **kwargs)
        parent = span_get()
        t0 = time_ns()
        if t0 >= ids.edge:  # new_id(t0), without the call: once a millisecond, a new epoch
            ids.new_epoch(t0)
        eid = next(ids.low)
        token = span_set(eid)
        try:
            # Without keywords, fn(*args) skips unpacking an empty dict (~20 ns).
            result = fn(*args, **kwargs) if kwargs else fn(*args)
        except BaseException as exc:
            reset_token(token)
            _finish(pipeline, eid, sess, parent, etype, label, t0, capture, make_data, bind,
                    args, kwargs, None, exc)  # fmt: skip
            raise
        span_reset(token)
        try:
            end = time_ns()
            if capture and state.capture:
                if one is not None and not kwargs and len(args) == 1:
                    inputs = {one: args[0]}
                else:
                    inputs = bind(args, kwargs)
                payload = (
                    {"input": inputs, "output": result} if plain_io else make_data(inputs, result)
                )
                try:
                    # b"%s" % ...: a right-sized copy. orjson's result keeps a ~4 KB allocation
                    # alive, which a buffer of 100k pending records would multiply into 400 MB.
                    data = b"%s" % orjson_dumps(payload, json_default, STR_KEY_OPTS)
                except Exception:
                    data = dumps_any(payload)
            else:
                data = b"{}"
            sid = sess.id if sess is not None else None
            rec: tuple[Any, ...] = (eid, sid, parent, etype, label, t0, end, data)  # compact
            if "opentelemetry.trace" in modules:
                tid, spid = otel_ids()
                if tid is not None or spid is not None:
                    rec = (eid, sid, parent, etype, label, t0, end, "ok", False, data, None, tid,
                           spid)  # fmt: skip
            buf = pipeline._buf
            n = len(buf)
            if n < pipeline._room:
                buf.append(rec)
                if n == 0 or n == pipeline._wake_at:
                    pipeline._wake.set()
            else:  # through emit, in the full shape a sampler in front of it reads
                pipeline.emit(widen(rec))
        except Exception:
            warn_once("decorator", "agentlog: could not record a call")
        return result

    return wrapper


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
    return _decorator(fn, "tool_call", name, capture, io_data)


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
    return _decorator(fn, "llm_call", name, capture, llm_data(model, provider))


@overload
def decision(fn: F, /) -> F: ...
@overload
def decision(*, name: str | None = None, capture: bool = True) -> Callable[[F], F]: ...
def decision(fn: Any = None, /, *, name: str | None = None, capture: bool = True) -> Any:
    """Record each call as a ``decision``: inputs, options and the choice returned."""
    return _decorator(fn, "decision", name, capture, decision_data)


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
    return _decorator(fn, type, name, capture, io_data)
