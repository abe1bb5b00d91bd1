from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
import respx
import respx_httpx2  # noqa: F401  (registers respx's "httpx2" mocker)
from openai_fakes import BASE

import agentlog
from agentlog.testing import Capture, capture


@pytest.fixture(autouse=True)
def _uninitialized(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    yield
    agentlog.shutdown(timeout=5.0)


@pytest.fixture
def instrumented() -> Iterator[None]:
    assert agentlog.instrument("openai")
    yield
    agentlog.uninstrument("openai")


@pytest.fixture
def cap(instrumented: None) -> Iterator[Capture]:
    with capture() as c:
        yield c


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx2", base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client() -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", max_retries=0)


@pytest.fixture
def aclient() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
