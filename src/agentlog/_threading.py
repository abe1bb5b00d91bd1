"""The ``threading`` instrumentation (``instrument("threading")``, and part of
``instrument=True``): plain ``ThreadPoolExecutor`` work runs in the submitter's context, so the
session and span follow work into the pool.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["ThreadingInstrumentor"]

_MARK = "__agentlog_wrapper__"


class ThreadingInstrumentor:
    def __init__(self) -> None:
        self._original: Any = None

    def available(self) -> bool:
        return True

    def instrument(self) -> bool:
        current = ThreadPoolExecutor.submit
        if getattr(current, _MARK, False):
            return True
        original = current

        def submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            ctx = contextvars.copy_context()
            return original(self, ctx.run, fn, *args, **kwargs)

        setattr(submit, _MARK, True)
        submit.__wrapped__ = original  # type: ignore[attr-defined]
        self._original = original
        ThreadPoolExecutor.submit = submit  # type: ignore[method-assign,assignment]
        return True

    def uninstrument(self) -> bool:
        current = ThreadPoolExecutor.submit
        if not getattr(current, _MARK, False):
            return False  # someone else's wrapper is on top, or ours is gone: leave it alone
        ThreadPoolExecutor.submit = current.__wrapped__  # type: ignore[attr-defined,method-assign]
        self._original = None
        return True
