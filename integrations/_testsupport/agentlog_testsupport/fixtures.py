"""Fixtures every provider integration's tests use; its conftest imports them by name and
defines ``provider`` (an ``agentlog_testsupport.Provider``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx

import agentlog
from agentlog.testing import Capture, capture

from . import (
    Provider,
    respx_httpx2,  # noqa: F401  (registers respx's "httpx2" mocker)
)

__all__ = ["_uninitialized", "aclient", "api", "cap", "client", "instrumented"]


@pytest.fixture(autouse=True)
def _uninitialized(
    provider: Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(provider.env_key, raising=False)
    yield
    agentlog.shutdown(timeout=5.0)


@pytest.fixture
def instrumented(provider: Provider) -> Iterator[None]:
    assert agentlog.instrument(provider.name)
    yield
    agentlog.uninstrument(provider.name)


@pytest.fixture
def cap(instrumented: None) -> Iterator[Capture]:
    with capture() as c:
        yield c


@pytest.fixture
def api(provider: Provider) -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx2", base_url=provider.base_url, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(provider: Provider) -> Any:
    return provider.client()


@pytest.fixture
def aclient(provider: Provider) -> Any:
    return provider.aclient()
