"""Installing and removing integrations' wrappers on an SDK's classes.

Each wrapper is a ``wrapt.FunctionWrapper`` set on the class, so every instance (made before or
after ``instrument()``) goes through it. ``unwrap`` takes a wrapper off only when it is still the
outermost layer; when another library wrapped on top of it, that library's layer stays and ours
stays beneath it, switched off by the ``Switch`` its wrapper reads on every call.

``PatchingInstrumentor`` is the ``agentlog.instrumentors`` entry point shape built on this: an
integration names its SDK module and lists what to wrap.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import wrapt

__all__ = ["Patch", "PatchingInstrumentor", "Switch", "Target", "unwrap", "wrap"]

_MAX_CHAIN = 64  # how far down a chain of wrappers we look for our own layer

# (module, class qualname, method name, wrapt wrapper function)
Target = tuple[str, str, str, Callable[..., Any]]


class Switch:
    """The on/off flag every wrapper of one instrumentor reads before doing anything."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = False


class Patch:
    """One wrapper we set: where, and whether the class had its own entry before."""

    __slots__ = ("attr", "cls", "had_own", "wrapper")

    def __init__(self, cls: type, attr: str, wrapper: Any, had_own: bool) -> None:
        self.cls = cls
        self.attr = attr
        self.wrapper: Any = wrapper
        self.had_own = had_own

    def in_chain(self) -> bool:
        """True while our wrapper is the class's entry or anywhere beneath it."""
        obj: Any = self.cls.__dict__.get(self.attr)
        for _ in range(_MAX_CHAIN):
            if obj is None:
                return False
            if obj is self.wrapper:
                return True
            obj = getattr(obj, "__wrapped__", None)
        return False


def _resolve(module: str, qualname: str) -> type | None:
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None  # an SDK version without this class: nothing to wrap there
    return obj if isinstance(obj, type) else None


def wrap(patches: list[Patch], targets: list[Target]) -> None:
    """Wrap each ``(module, class, method, wrapper_fn)`` not already wrapped by us."""
    for module, qualname, attr, fn in targets:
        cls = _resolve(module, qualname)
        if cls is None or getattr(cls, attr, None) is None:
            continue
        if any(p.cls is cls and p.attr == attr and p.in_chain() for p in patches):
            continue
        had_own = attr in cls.__dict__
        # The class's own entry (maybe someone else's wrapper), not what getattr binds from it.
        original = cls.__dict__[attr] if had_own else getattr(cls, attr)
        wrapper = wrapt.FunctionWrapper(original, fn)
        patch = Patch(cls, attr, wrapper, had_own=had_own)
        setattr(cls, attr, wrapper)
        patches.append(patch)


def unwrap(patches: list[Patch]) -> bool:
    """Unwrap what is still ours on top; True when at least one layer came off."""
    removed = False
    for patch in list(patches):
        if patch.cls.__dict__.get(patch.attr) is patch.wrapper:
            if patch.had_own:
                setattr(patch.cls, patch.attr, getattr(patch.wrapper, "__wrapped__"))  # noqa: B009
            else:
                delattr(patch.cls, patch.attr)
            patches.remove(patch)
            removed = True
        elif not patch.in_chain():
            patches.remove(patch)  # someone replaced the attribute outright: ours is gone
    return removed


class PatchingInstrumentor(ABC):
    """An instrumentor that wraps methods of one SDK; subclasses set ``module`` and ``targets``.

    ``instrument()`` is idempotent and thread-safe; ``uninstrument()`` switches every wrapper
    off and takes off those still on top.
    """

    module: str = ""  # the SDK's top-level module: available() looks for it

    def __init__(self) -> None:
        self._switch = Switch()
        self._patches: list[Patch] = []
        self._lock = threading.Lock()

    @abstractmethod
    def targets(self, switch: Switch) -> list[Target]:
        """What to wrap, each wrapper reading ``switch``."""

    def available(self) -> bool:
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):  # a broken or stubbed-out install
            return False

    def instrument(self) -> bool:
        """Wrap the SDK (idempotent); True when the wrappers are active."""
        if not self.available():
            return False
        with self._lock:
            wrap(self._patches, self.targets(self._switch))
            self._switch.enabled = bool(self._patches)
            return self._switch.enabled

    def uninstrument(self) -> bool:
        """Take agentlog's wrappers off; a layer someone wrapped on top is left in place."""
        with self._lock:
            was_active = self._switch.enabled
            self._switch.enabled = False
            removed = unwrap(self._patches)
            return removed or was_active
