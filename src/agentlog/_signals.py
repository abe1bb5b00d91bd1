"""Asynchronous signals (Ctrl-C, ``SIGTERM``...) kept off agentlog's own threads.

The kernel hands a signal sent to the process to any thread that does not block it. Python
runs its handlers in the main thread only; when another thread took the signal, a main thread
blocked in a wait (``Event.wait``, a lock, a join) is not woken by it: the handler runs once
the main thread runs Python code again, if it does. Each thread agentlog starts blocks these
signals first, so they always reach the host's main thread, whose waits they interrupt.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["keep_off", "quiet_thread"]

_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD",
          "SIGWINCH")  # fmt: skip
# Asynchronous ones only: a fault signal (SIGSEGV, SIGFPE...) blocked in the thread that
# causes it would kill the process without Python's fault handler.
_ASYNC = {getattr(signal, name) for name in _NAMES if hasattr(signal, name)}


def keep_off() -> None:
    """Block the asynchronous signals in the calling thread (not the main thread; a no-op where
    threads have no signal masks)."""
    if threading.current_thread() is threading.main_thread():
        return
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _ASYNC)
    except (AttributeError, OSError, ValueError):  # Windows has no pthread_sigmask
        pass


def quiet_thread(
    *, target: Callable[..., object], name: str | None = None, daemon: bool | None = None,
    args: tuple[Any, ...] = (),
) -> threading.Thread:  # fmt: skip
    """A ``threading.Thread`` (not started) that runs ``target`` with the signals blocked."""

    def run(*given: Any) -> None:
        keep_off()
        target(*given)

    return threading.Thread(target=run, name=name, daemon=daemon, args=args)
