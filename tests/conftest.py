from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import agentlog
from agentlog.exporters import MemoryExporter


class Recorded:
    """The memory exporter behind a test's ``init()``, read after a flush."""

    def __init__(self, exporter: MemoryExporter) -> None:
        self.exporter = exporter

    @property
    def records(self) -> list[dict[str, Any]]:
        assert agentlog.flush(10.0)
        return self.exporter.records

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in self.records if r["kind"] == "event" and (type is None or r["type"] == type)
        ]

    def sessions(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "session"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts uninitialized, in its own directory, with no AGENTLOG_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("AGENTLOG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield
    agentlog.shutdown(timeout=5.0)


@pytest.fixture
def recorded() -> Recorded:
    exporter = MemoryExporter()
    agentlog.init(exporter=exporter)
    return Recorded(exporter)
