"""Assert on what your agent recorded.

    from agentlog.testing import capture

    def test_agent_searches_first():
        with capture() as cap:
            run_agent("reset my password")
        assert [e["name"] for e in cap.events("tool_call")] == ["search_kb", "send_email"]

With pytest, the ``agentlog_capture`` fixture does the same for one test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._config import build_config
from ._pipeline import Pipeline
from ._state import STATE
from .exporters.memory import MemoryExporter

__all__ = ["Capture", "agentlog_capture", "capture"]


class Capture:
    """The records produced inside a ``capture()`` block, decoded, in recording order."""

    def __init__(self, pipeline: Pipeline, exporter: MemoryExporter) -> None:
        self._pipeline = pipeline
        self._exporter = exporter

    @property
    def records(self) -> list[dict[str, Any]]:
        self._pipeline.flush(10.0)
        return self._exporter.records

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in self.records
            if r["kind"] == "event" and (type is None or r["type"] == type)
        ]  # fmt: skip

    def sessions(self) -> list[dict[str, Any]]:
        """One merged record per session (start and end folded together), in start order."""
        merged: dict[str, dict[str, Any]] = {}
        for rec in self.records:
            if rec["kind"] == "session":
                cur = merged.setdefault(rec["id"], {})
                cur.update({k: v for k, v in rec.items() if v is not None or k not in cur})
        return list(merged.values())

    def messages(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "message"]

    def clear(self) -> None:
        self._pipeline.flush(10.0)
        self._exporter.clear()


@contextmanager
def capture(*, redact: bool = True, capture_payloads: bool = True) -> Iterator[Capture]:
    """Record into memory for the duration of the block, whatever ``init()`` said before."""
    cfg = build_config({"exporter": "memory", "redact": redact, "capture": capture_payloads},
                       environ={})  # fmt: skip
    exporter = MemoryExporter()
    pipeline = Pipeline.from_config(exporter, cfg)
    saved = (STATE.pipeline, STATE.config, STATE.capture)
    STATE.pipeline, STATE.config, STATE.capture = pipeline, cfg, capture_payloads
    try:
        yield Capture(pipeline, exporter)
    finally:
        pipeline.flush(10.0)
        STATE.pipeline, STATE.config, STATE.capture = saved
        pipeline.shutdown(1.0)


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixture
    pass
else:

    @pytest.fixture
    def agentlog_capture() -> Iterator[Capture]:
        """A ``Capture`` of everything the test records."""
        with capture() as cap:
            yield cap
