from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# One respx "httpx2" mocker per process (respx keeps a registry of mocker names): it lives with
# the OpenAI integration's tests, and anthropic_fakes uses it too.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "openai" / "tests"))

import anthropic
import pytest
import respx
import respx_httpx2  # noqa: F401
from anthropic_fakes import BASE

import agentlog
from agentlog.testing import Capture, capture


@pytest.fixture(autouse=True)
def _uninitialized(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    yield
    agentlog.shutdown(timeout=5.0)


@pytest.fixture
def instrumented() -> Iterator[None]:
    assert agentlog.instrument("anthropic")
    yield
    agentlog.uninstrument("anthropic")


@pytest.fixture
def cap(instrumented: None) -> Iterator[Capture]:
    with capture() as c:
        yield c


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx2", base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)


@pytest.fixture
def aclient() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="sk-ant-test", max_retries=0)
