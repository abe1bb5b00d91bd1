"""Generator and async-generator spans: the event covers the generator's whole life.

The span is made current only while the generator's own code runs (set and reset inside each
step), never across a ``yield``: a generator abandoned, closed or collected half-way can never
leave a context token behind, and still writes its event, marked partial.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ._capture import DataFn
from ._context import span_var, suppressed_var
from ._log import warn_once
from ._spans import Span
from ._state import STATE

__all__ = [
    "MAX_ITEMS", "Outcome", "Plan", "reset_token", "stepwise_asyncgen", "stepwise_gen",
    "wrap_asyncgen", "wrap_gen",
]  # fmt: skip

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


class Outcome:
    """How a driven generator ended: ``finished`` (ran to its end or raised), its ``returned``
    value and its ``error``. A generator left unfinished was abandoned: partial."""

    __slots__ = ("error", "finished", "returned")

    def __init__(self) -> None:
        self.finished = False
        self.returned: Any = None
        self.error: BaseException | None = None


class Plan:
    """What a wrapper does around one generator's life: the context to enter around each step,
    what to do with each item, and what to do once it ended (however it ended)."""

    __slots__ = ("activate", "on_end", "on_item")

    def __init__(
        self,
        activate: Callable[[], AbstractContextManager[Any]],
        on_end: Callable[[Outcome], None],
        on_item: Callable[[Any], None] | None = None,
    ) -> None:
        self.activate = activate
        self.on_end = on_end
        self.on_item = on_item


Prepare = Callable[[tuple[Any, ...], dict[str, Any]], "Plan | None"]
_PASS_THROUGH = Plan(nullcontext, lambda out: None)


def _drive(gen: Generator[Any, Any, Any], plan: Plan, out: Outcome) -> Generator[Any, Any, Any]:
    """Run ``gen`` step by step inside ``plan.activate()``: the context is entered around each
    step and around closing, and left before every ``yield``, so nothing is held across it
    however the consumer ends the iteration. ``send``/``throw`` are forwarded; the generator's
    own exceptions pass through unchanged."""
    activate = plan.activate
    to_send: Any = None
    to_throw: BaseException | None = None
    try:
        while True:
            with activate():
                try:
                    if to_throw is not None:
                        thrown, to_throw = to_throw, None
                        item = gen.throw(thrown)
                    else:
                        item = gen.send(to_send)
                except StopIteration as stop:
                    out.finished, out.returned = True, stop.value
                    return stop.value
            if plan.on_item is not None:
                plan.on_item(item)
            try:
                to_send = yield item
            except GeneratorExit:
                raise
            except BaseException as exc:
                to_throw = exc
    except GeneratorExit:
        raise
    except BaseException as exc:
        out.finished, out.error = True, exc
        raise
    finally:
        try:
            if not out.finished:
                with activate():
                    try:
                        gen.close()
                    except BaseException as exc:  # the user's generator failed while closing
                        out.error = exc
                        raise
        finally:
            plan.on_end(out)


def stepwise_gen(fn: Callable[..., Any], prepare: Prepare) -> Callable[..., Any]:
    """Wrap a generator function so that ``prepare``'s plan runs around each call's life."""

    @functools.wraps(fn)
    def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
        plan = prepare(args, kwargs)
        if plan is None:
            return (yield from fn(*args, **kwargs))
        with plan.activate():
            gen = fn(*args, **kwargs)
        return (yield from _drive(gen, plan, Outcome()))

    return gen_wrapper


def stepwise_asyncgen(fn: Callable[..., Any], prepare: Prepare) -> Callable[..., Any]:
    """``stepwise_gen`` for async generator functions. An async generator cannot ``yield
    from``, so this one loop forwards ``asend``/``athrow``/``aclose`` itself."""

    @functools.wraps(fn)
    async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
        plan = prepare(args, kwargs) or _PASS_THROUGH
        activate, out = plan.activate, Outcome()
        with activate():
            agen = fn(*args, **kwargs)
        to_send: Any = None
        to_throw: BaseException | None = None
        try:
            while True:
                with activate():  # held across an await of this task, never across a yield
                    try:
                        if to_throw is not None:
                            thrown, to_throw = to_throw, None
                            item = await agen.athrow(thrown)
                        else:
                            item = await agen.asend(to_send)
                    except StopAsyncIteration:
                        out.finished = True
                        return
                if plan.on_item is not None:
                    plan.on_item(item)
                try:
                    to_send = yield item
                except GeneratorExit:
                    raise
                except BaseException as exc:
                    to_throw = exc
        except GeneratorExit:
            raise
        except BaseException as exc:
            out.finished, out.error = True, exc
            raise
        finally:
            try:
                if not out.finished:
                    with activate():
                        try:
                            await agen.aclose()
                        except BaseException as exc:
                            out.error = exc
                            raise
            finally:
                plan.on_end(out)

    return agen_wrapper


class _Collected:
    """The items a generator span keeps: the first ``MAX_ITEMS``, and how many there were."""

    __slots__ = ("count", "items")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.count += 1
        if len(self.items) < MAX_ITEMS:
            self.items.append(item)


def _span_plan(etype: str, label: str, capture: bool, make_data: DataFn, bind: Any) -> Prepare:
    def prepare(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan | None:
        if STATE.pipeline is None or suppressed_var.get():
            return None
        span = _open_span(etype, label, capture, bind, args, kwargs)
        if span is None:
            return None
        got = _Collected()

        def on_end(out: Outcome) -> None:
            _close_span(span, make_data, got.items, got.count, out.returned, out.error,
                        not out.finished, capture)  # fmt: skip

        return Plan(span.activate, on_end, got.add)

    return prepare


def wrap_gen(
    fn: Callable[..., Any], etype: str, label: str, capture: bool, make_data: DataFn, bind: Any
) -> Callable[..., Any]:
    return stepwise_gen(fn, _span_plan(etype, label, capture, make_data, bind))


def wrap_asyncgen(
    fn: Callable[..., Any], etype: str, label: str, capture: bool, make_data: DataFn, bind: Any
) -> Callable[..., Any]:
    return stepwise_asyncgen(fn, _span_plan(etype, label, capture, make_data, bind))
