"""Integrations: found by entry point (group ``agentlog.instrumentors``), switched on by name.

Each integration package registers a class with ``available()``, ``instrument()`` and
``uninstrument()``; agentlog keeps one instance per name so ``instrument()`` is idempotent.
"""

from __future__ import annotations

import difflib
import threading
from typing import Any, Protocol, runtime_checkable

from ._hints import integration_hint
from ._log import warn_once

__all__ = ["Instrumentor", "available_integrations", "instrument", "instrument_all", "uninstrument"]

GROUP = "agentlog.instrumentors"
_instances: dict[str, Instrumentor] = {}
_lock = threading.RLock()


@runtime_checkable
class Instrumentor(Protocol):
    def available(self) -> bool:
        """Whether the library this integration wraps is importable."""
        ...

    def instrument(self) -> bool:
        """Install the wrappers (idempotent); True when they are active."""
        ...

    def uninstrument(self) -> bool:
        """Remove only agentlog's own wrappers; True when they were removed."""
        ...


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points  # costs ~40 ms: only when instrumenting

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available_integrations() -> list[str]:
    return sorted(_entry_points())


def _get(name: str) -> Instrumentor:
    with _lock:
        found = _instances.get(name)
        if found is not None:
            return found
        eps = _entry_points()
        if name not in eps:
            raise ValueError(_unknown(name, sorted(eps)))
        inst: Instrumentor = eps[name].load()()
        _instances[name] = inst
        return inst


def _unknown(name: str, installed: list[str]) -> str:
    """The error for a name no installed integration has: a near miss is a typo, else a
    package to install."""
    known = ", ".join(installed) or "none installed"
    close = difflib.get_close_matches(name.lower(), installed, n=1, cutoff=0.6)
    if close:
        return f"instrument: no integration named {name!r}; did you mean {close[0]!r}? (installed: {known})"
    return (
        f"instrument: no integration named {name!r} (installed: {known}); "
        f"install it with: {integration_hint(name)}"
    )


def instrument(name: str) -> bool:
    """Switch one integration on. Raises ``ValueError`` if it or its library is missing."""
    inst = _get(name)
    if not inst.available():
        raise ValueError(f"instrument: the library that {name!r} instruments is not installed")
    with _lock:
        return bool(inst.instrument())


def instrument_all() -> list[str]:
    """``instrument=True``: every installed integration whose library is present, quietly,
    ``threading`` included (work submitted to a plain ``ThreadPoolExecutor`` then records in
    the submitter's session)."""
    active = []
    for name in available_integrations():
        try:
            inst = _get(name)
            if inst.available() and inst.instrument():
                active.append(name)
        except Exception:
            warn_once(f"instrument:{name}", "agentlog: could not instrument %s", name)
    return active


def uninstrument(name: str) -> bool:
    with _lock:
        inst = _instances.get(name)
        if inst is None:
            return False
        return bool(inst.uninstrument())
