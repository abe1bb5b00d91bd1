"""instrument() / uninstrument() / available(), and the entry point agentlog finds."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from agentlog_langchain import LangChainInstrumentor
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tracers.context import _configure_hooks, register_configure_hook
from langchain_fakes import OWNER_SEEN, ToolCallingFakeModel

import agentlog
from agentlog.testing import Capture, capture


def _ours() -> list[Any]:
    return [
        h for h in _configure_hooks if getattr(h[0], "name", "") == "agentlog_langchain_handler"
    ]


def test_instrument_is_idempotent() -> None:
    assert agentlog.instrument("langchain") is True
    assert agentlog.instrument("langchain") is True
    assert len(_ours()) == 1


def test_init_finds_the_integration_by_entry_point(tmp_path: Any) -> None:
    from agentlog.exporters import MemoryExporter

    agentlog.init(exporter=MemoryExporter(), instrument=["langchain"])
    assert len(_ours()) == 1


class _Theirs(BaseCallbackHandler):
    pass


@pytest.fixture
def their_hook() -> Iterator[contextvars.ContextVar[Any]]:
    # A default handler reaches every context: the way a global hook is installed.
    var: contextvars.ContextVar[Any] = contextvars.ContextVar("someone_else", default=_Theirs())  # noqa: B039
    register_configure_hook(var, True)
    yield var
    _configure_hooks[:] = [h for h in _configure_hooks if h[0] is not var]


def test_uninstrument_removes_only_our_hook(their_hook: contextvars.ContextVar[Any]) -> None:
    assert agentlog.instrument("langchain")
    assert agentlog.uninstrument("langchain") is True
    assert _ours() == []
    assert [h for h in _configure_hooks if h[0] is their_hook]
    assert agentlog.uninstrument("langchain") is False


def test_nothing_is_recorded_or_marked_after_uninstrument(cap: Capture) -> None:
    assert agentlog.instrument("langchain")
    agentlog.uninstrument("langchain")
    OWNER_SEEN.clear()
    model = ToolCallingFakeModel(messages=iter([AIMessage("hi", id="m")]))
    with agentlog.session("off"):
        model.invoke("hello")
    assert cap.events() == []
    assert OWNER_SEEN == [None]


def test_uninstrument_leaves_a_wrapper_someone_put_over_ours() -> None:
    assert agentlog.instrument("langchain")
    ours = BaseChatModel.__dict__["_generate_with_cache"]

    def theirs(self: Any, *args: Any, **kwargs: Any) -> Any:
        return ours(self, *args, **kwargs)

    BaseChatModel._generate_with_cache = theirs  # type: ignore[method-assign]
    try:
        agentlog.uninstrument("langchain")
        assert BaseChatModel.__dict__["_generate_with_cache"] is theirs
        OWNER_SEEN.clear()
        ToolCallingFakeModel(messages=iter([AIMessage("hi", id="m")])).invoke("hello")
        assert OWNER_SEEN == [None]  # ours, still underneath, passes straight through
    finally:
        BaseChatModel._generate_with_cache = ours.__wrapped__  # type: ignore[method-assign]


def test_a_run_open_at_uninstrument_still_ends(cap: Capture) -> None:
    assert agentlog.instrument("langchain")
    model = GenericFakeChatModel(messages=iter([AIMessage("one two", id="m")]))
    with agentlog.session("straddle"):
        stream = model.stream("count")
        next(stream)
        agentlog.uninstrument("langchain")
        assert [c.content for c in stream] == [" ", "two"]
    (call,) = cap.events("llm_call")
    assert call["partial"] is False
    assert call["data"]["response"] == "one two"


def test_available_is_false_without_langchain_core(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LangChainInstrumentor().available() is True
    monkeypatch.setitem(sys.modules, "langchain_core", None)
    assert LangChainInstrumentor().available() is False


def test_before_init_langchain_runs_without_our_handler(instrumented: None) -> None:
    from langchain_core.callbacks import CallbackManager

    def ours(manager: Any) -> list[Any]:
        return [h for h in manager.handlers if type(h).__name__ == "AgentlogCallbackHandler"]

    assert ours(CallbackManager.configure()) == []  # nothing records: LangChain runs as without us
    with capture():
        assert len(ours(CallbackManager.configure())) == 1


def test_a_misspelt_name_suggests_langchain() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'langchain'\?"):
        agentlog.init(exporter="memory", instrument=["langchian"])
