"""Instrumentation suppression: set while the SDK's own code runs, so it never traces itself.

Its own module, beneath both the pipeline and the session context: the pipeline's worker sets
it, and the context layer (which knows about sessions) re-exports it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["is_suppressed", "suppress_instrumentation", "suppressed_var"]

suppressed_var: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "agentlog_suppressed", default=False
)


def is_suppressed() -> bool:
    return suppressed_var.get()


@contextmanager
def suppress_instrumentation() -> Iterator[None]:
    """Record nothing inside: exporters run under it so the SDK never traces itself."""
    token = suppressed_var.set(True)
    try:
        yield
    finally:
        suppressed_var.reset(token)
