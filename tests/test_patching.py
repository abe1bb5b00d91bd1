"""agentlog._patching: wrapping an SDK's methods, and taking only our own layer off again."""

from __future__ import annotations

import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wrapt

from agentlog._patching import Patch, PatchingInstrumentor, Switch, Target, unwrap, wrap

MODULE = "agentlog_test_fake_sdk"


class _Base:
    def inherited(self, x: int) -> int:
        return x + 100


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A fresh importable module with one resource class, as an SDK would have."""
    mod = types.ModuleType(MODULE)
    mod.__spec__ = importlib.machinery.ModuleSpec(MODULE, loader=None)  # find_spec needs one

    class Resource(_Base):
        def create(self, x: int) -> int:
            return x * 2

    mod.Resource = Resource  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, mod)
    return mod


def _counting(switch: Switch, seen: list[Any]) -> Callable[..., Any]:
    def wrapper(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if switch.enabled:
            seen.append(args)
        return wrapped(*args, **kwargs)

    return wrapper


class _Instrumentor(PatchingInstrumentor):
    module = MODULE

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def targets(self, switch: Switch) -> list[Target]:
        return [(MODULE, "Resource", "create", _counting(switch, self.seen))]


@pytest.fixture
def inst(sdk: types.ModuleType) -> Iterator[_Instrumentor]:
    i = _Instrumentor()
    yield i
    i.uninstrument()


def test_install_wraps_the_class_so_every_instance_goes_through(sdk: types.ModuleType) -> None:
    switch, seen, patches = Switch(), [], []  # type: ignore[var-annotated]
    before = sdk.Resource()
    wrap(patches, [(MODULE, "Resource", "create", _counting(switch, seen))])
    switch.enabled = True
    assert before.create(2) == 4 and sdk.Resource().create(3) == 6
    assert seen == [(2,), (3,)]
    assert isinstance(sdk.Resource.__dict__["create"], wrapt.FunctionWrapper)


def test_install_twice_adds_one_layer(sdk: types.ModuleType) -> None:
    original = sdk.Resource.__dict__["create"]
    patches: list[Patch] = []
    target: Target = (MODULE, "Resource", "create", _counting(Switch(), []))
    wrap(patches, [target])
    wrap(patches, [target])
    assert len(patches) == 1
    assert sdk.Resource.__dict__["create"].__wrapped__ is original


def test_remove_restores_the_class_own_method(sdk: types.ModuleType) -> None:
    original = sdk.Resource.__dict__["create"]
    patches: list[Patch] = []
    wrap(patches, [(MODULE, "Resource", "create", _counting(Switch(), []))])
    assert unwrap(patches)
    assert sdk.Resource.__dict__["create"] is original
    assert patches == []
    assert not unwrap(patches)


def test_remove_of_an_inherited_method_leaves_no_entry_behind(sdk: types.ModuleType) -> None:
    patches: list[Patch] = []
    wrap(patches, [(MODULE, "Resource", "inherited", _counting(Switch(), []))])
    assert "inherited" in sdk.Resource.__dict__
    assert unwrap(patches)
    assert "inherited" not in sdk.Resource.__dict__
    assert sdk.Resource().inherited(1) == 101


def test_missing_module_class_or_method_is_skipped(sdk: types.ModuleType) -> None:
    patches: list[Patch] = []
    fn = _counting(Switch(), [])
    wrap(
        patches,
        [
            ("agentlog_test_no_such_module", "Resource", "create", fn),
            (MODULE, "NoSuchClass", "create", fn),
            (MODULE, "Resource", "no_such_method", fn),
        ],
    )
    assert patches == []


def test_a_layer_on_top_of_ours_stays_and_ours_goes_inert(
    sdk: types.ModuleType, inst: _Instrumentor
) -> None:
    original = sdk.Resource.__dict__["create"]
    assert inst.instrument()
    theirs: list[Any] = []

    def their_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        theirs.append(args)
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(sdk.Resource, "create", their_wrapper)
    assert inst.uninstrument()  # was active: switched off, though its layer cannot come off
    assert sdk.Resource.__dict__["create"].__wrapped__.__wrapped__ is original
    assert sdk.Resource().create(1) == 2
    assert theirs == [(1,)] and inst.seen == []

    assert inst.instrument()  # switches the inert layer back on instead of adding one
    assert sdk.Resource.__dict__["create"].__wrapped__.__wrapped__ is original
    sdk.Resource().create(5)
    assert inst.seen == [(5,)]


def test_an_attribute_replaced_outright_forgets_our_patch(sdk: types.ModuleType) -> None:
    patches: list[Patch] = []
    wrap(patches, [(MODULE, "Resource", "create", _counting(Switch(), []))])
    sdk.Resource.create = lambda self, x: x  # someone else's plain replacement
    assert not unwrap(patches)
    assert patches == []
    assert sdk.Resource().create(4) == 4


def test_instrument_and_uninstrument_report_what_changed(inst: _Instrumentor) -> None:
    assert not inst.uninstrument()  # never instrumented: nothing to do
    assert inst.instrument() and inst.instrument()
    assert inst.uninstrument()
    assert not inst.uninstrument()


def test_unavailable_module_instruments_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, MODULE, None)  # how a blocked import looks
    inst = _Instrumentor()
    assert not inst.available()
    assert not inst.instrument()


def test_nothing_to_wrap_leaves_the_instrumentor_inactive(sdk: types.ModuleType) -> None:
    del sdk.Resource
    inst = _Instrumentor()
    assert inst.available()
    assert not inst.instrument()


def test_concurrent_instrument_calls_add_one_layer(
    sdk: types.ModuleType, inst: _Instrumentor
) -> None:
    original = sdk.Resource.__dict__["create"]
    start = threading.Barrier(8)

    def go() -> None:
        start.wait(timeout=10.0)
        inst.instrument()

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10.0)
    assert sdk.Resource.__dict__["create"].__wrapped__ is original
