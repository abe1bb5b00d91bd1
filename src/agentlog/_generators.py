"""Generator and async-generator spans: the event covers the generator's whole life.

The span is made current only while the generator's own code runs (set and reset inside each
step), never across a ``yield``: a generator abandoned, closed or collected half-way can never
leave a context token behind, and still writes its event, marked partial.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._capture import DataFn
from ._context import span_var, suppressed_var
from ._log import warn_once
from ._spans import Span
from ._state import STATE

__all__ = ["MAX_ITEMS", "reset_token", "wrap_asyncgen", "wrap_gen"]

MAX_ITEMS = 1000  # yielded items kept per generator span; the rest are counted, not stored


def reset_token(token: Any) -> None:
    try:
        span_var.reset(token)
    except ValueError:  # a coroutine finished in another context than it started in
        pass


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


def wrap_gen(
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
                if len(items) < MAX_ITEMS:
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


def wrap_asyncgen(
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
                    reset_token(token)
                count += 1
                if len(items) < MAX_ITEMS:
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
