"""Flush at the end of a ``multiprocessing`` child, which leaves through ``os._exit``.

A child started by ``fork`` or ``forkserver`` never runs ``atexit`` hooks: after its target
returns, ``multiprocessing`` runs its own finalizers (``multiprocessing.util.Finalize``) and
calls ``os._exit``. The SDK registers one such finalizer in every child, with no user code:

- through ``multiprocessing.util.register_after_fork``, whose callbacks run in each child while
  it starts (every start method), once the registry of finalizers has been reset;
- directly, when ``init()`` itself runs inside a child already started (a pool initializer).

``multiprocessing`` is never imported here: a process that never loaded it has no such child.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["watch_children"]

# Finalizers run highest priority first; this one runs after the child's other finalizers, so
# what they record is flushed too.
_EXIT_PRIORITY = -100


class _Token:
    """The object ``register_after_fork`` keeps a weak reference to: alive for good."""


_TOKEN = _Token()
_state: dict[str, Any] = {"watching": False, "finalizer_pid": 0, "at_exit": None}


def watch_children(at_exit: Callable[[], None]) -> None:
    """Run ``at_exit`` at the end of every multiprocessing child (and of this one, if it is one).

    Called by ``init()`` and, after ``os.fork()``, in the child (``multiprocessing`` may have
    been imported after ``init()``).
    """
    _state["at_exit"] = at_exit
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    if not _state["watching"]:
        _state["watching"] = True
        util.register_after_fork(_TOKEN, _child_started)
    process = sys.modules.get("multiprocessing.process")
    if process is not None and process.parent_process() is not None:
        _register(util)


def _child_started(_token: _Token) -> None:
    util = sys.modules.get("multiprocessing.util")
    if util is not None:
        _state["finalizer_pid"] = 0  # the registry of finalizers was just reset for this child
        _register(util)


def _register(util: Any) -> None:
    pid = os.getpid()
    if _state["finalizer_pid"] == pid:
        return
    _state["finalizer_pid"] = pid
    util.Finalize(None, _at_child_exit, exitpriority=_EXIT_PRIORITY)


def _at_child_exit() -> None:
    at_exit = _state["at_exit"]
    if at_exit is not None:
        at_exit()
