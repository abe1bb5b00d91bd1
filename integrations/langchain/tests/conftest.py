from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentlog
from agentlog.testing import Capture, capture


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test: its own directory, no AGENTLOG_* variables, and no LangChain hook left over."""
    for key in list(os.environ):
        if key.startswith(("AGENTLOG_", "LANGCHAIN_", "LANGSMITH_", "OPENAI_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield
    agentlog.uninstrument("langchain")
    agentlog.shutdown(timeout=5.0)
    from langchain_core.tracers.context import _configure_hooks

    leftover = [h for h in _configure_hooks if getattr(h[0], "name", "").startswith("agentlog")]
    assert not leftover, "a test left the agentlog LangChain hook installed"


@pytest.fixture
def instrumented() -> Iterator[None]:
    assert agentlog.instrument("langchain") is True
    yield
    agentlog.uninstrument("langchain")


@pytest.fixture
def cap() -> Iterator[Capture]:
    with capture() as c:
        yield c
