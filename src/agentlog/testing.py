"""Assert on what your agent recorded.

    from agentlog.testing import capture

    def test_agent_searches_first():
        with capture() as cap:
            run_agent("reset my password")
        (search,) = cap.tool_calls("search_kb")
        assert search.input == {"query": "reset my password"}
        cap.assert_no_errors()

Records come back as typed objects (``ToolCall.input``, ``LLMCall.usage``, ``event.name``)
that are also the record dicts. The ``assert_*`` helpers fail with the captured timeline in
the message, and with pytest the ``agentlog_capture`` fixture does the same for one test and
adds the timeline to the report of a test that fails. See docs/testing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

from ._captured import (
    CapturedEvent,
    CapturedMessage,
    CapturedScore,
    CapturedSession,
    LLMCall,
    SessionList,
    ToolCall,
    wrap,
)
from ._config import build_config
from ._pipeline import Pipeline
from ._state import STATE
from ._timeline import render_timeline
from .exporters.memory import MemoryExporter

__all__ = [
    "Capture",
    "CapturedEvent",
    "CapturedMessage",
    "CapturedScore",
    "CapturedSession",
    "LLMCall",
    "ToolCall",
    "agentlog_capture",
    "capture",
]

_E = TypeVar("_E", bound=CapturedEvent)
_ANY: Any = object()  # "not asked about", distinct from an expected None


class Capture:
    """The records produced inside a ``capture()`` block, in recording order."""

    def __init__(self, pipeline: Pipeline, exporter: MemoryExporter) -> None:
        self._pipeline = pipeline
        self._exporter = exporter

    @property
    def records(self) -> list[Any]:
        """Every record, each a typed object (and the record's dict)."""
        self._pipeline.flush(10.0)
        return [wrap(r) for r in self._exporter.records]

    def events(self, type: str | None = None, *, name: str | None = None) -> list[CapturedEvent]:
        """Events, optionally of one ``type`` and/or ``name``."""
        return [
            r for r in self.records
            if isinstance(r, CapturedEvent) and type in (None, r.type) and name in (None, r.name)
        ]  # fmt: skip

    def tool_calls(self, name: str | None = None) -> list[ToolCall]:
        """``tool_call`` events (of the tool ``name``), with ``.input`` and ``.output``."""
        return self._of(ToolCall, "tool_call", lambda e: name in (None, e.name))

    def llm_calls(self, *, model: str | None = None) -> list[LLMCall]:
        """``llm_call`` events (answered by, or asked of, ``model``)."""
        return self._of(LLMCall, "llm_call",
                        lambda e: model in (None, e.model, e.request_model))  # fmt: skip

    def _of(self, kind: type[_E], type: str, keep: Callable[[_E], bool]) -> list[_E]:
        return [e for e in self.events(type) if isinstance(e, kind) and keep(e)]

    @property
    def sessions(self) -> SessionList:
        """One object per session (start and end folded together), in start order."""
        merged: dict[str, CapturedSession] = {}
        for rec in self._exporter_records():
            if rec.get("kind") == "session":
                cur = merged.setdefault(rec["id"], CapturedSession())
                cur.update({k: v for k, v in rec.items() if v is not None or k not in cur})
        return SessionList(merged.values())

    def scores(self, name: str | None = None) -> list[CapturedScore]:
        """Scores given (named ``name``), in recording order."""
        return [r for r in self.records
                if isinstance(r, CapturedScore) and name in (None, r.name)]  # fmt: skip

    def messages(self, role: str | None = None) -> list[CapturedMessage]:
        return [r for r in self.records
                if isinstance(r, CapturedMessage) and role in (None, r.role)]  # fmt: skip

    def errors(self) -> list[CapturedEvent]:
        """Error events and failed spans, as the session rollups count errors."""
        return [e for e in self.events() if e.failed]

    def timeline(self) -> str:
        """Every captured session as the ``agentlog timeline`` command prints it."""
        records = self._exporter_records()
        items = [r for r in records if r.get("kind") in ("event", "message")]
        parts = [render_timeline(dict(s), [i for i in items if i.get("session_id") == s["id"]])
                 for s in self.sessions]  # fmt: skip
        known = {s["id"] for s in self.sessions}
        loose = [i for i in items if i.get("session_id") not in known]
        if loose:
            parts.append("outside any session:\n" + render_timeline(None, loose))
        return "\n\n".join(parts) or "(nothing was recorded)"

    # -- assertions that explain themselves ----------------------------------------------------
    def assert_tool_call(self, name: str, *, input: Any = _ANY, output: Any = _ANY) -> ToolCall:
        """The first call of tool ``name`` (with this input/output, when given); otherwise an
        ``AssertionError`` listing the calls that were made and the whole timeline."""
        calls = self.tool_calls()
        for call in calls:
            if call.name == name and input in (_ANY, call.input) and output in (_ANY, call.output):
                return call
        wanted = name + "".join(f" {k}={v!r}" for k, v in (("input", input), ("output", output))
                                if v is not _ANY)  # fmt: skip
        made = "\n".join(f"  {c.name} input={c.input!r} output={c.output!r}" for c in calls)
        self._fail(f"no tool call {wanted} was recorded; tool calls:\n{made or '  (none)'}")

    def assert_llm_call(self, *, model: str | None = None) -> LLMCall:
        """The first LLM call (of ``model``), else an ``AssertionError`` with the timeline."""
        calls = self.llm_calls(model=model)
        if not calls:
            models = sorted({str(c.model) for c in self.llm_calls()})
            self._fail(f"no LLM call{f' of model {model!r}' if model else ''} was recorded "
                       f"(models called: {', '.join(models) or 'none'})")  # fmt: skip
        return calls[0]

    def assert_event(self, type: str, *, name: str | None = None) -> CapturedEvent:
        """The first event of ``type`` (and ``name``), else an ``AssertionError``."""
        found = self.events(type, name=name)
        if not found:
            self._fail(f"no {type} event{f' named {name!r}' if name else ''} was recorded")
        return found[0]

    def assert_no_errors(self) -> None:
        """Fail, listing them and the timeline, when any error event or failed span was
        recorded."""
        errors = self.errors()
        if errors:
            lines = [f"  {e.type} {e.name or ''}: "
                     f"{(e.error or {}).get('type')}: {(e.error or {}).get('message')}"
                     for e in errors]  # fmt: skip
            self._fail(f"{len(errors)} error(s) recorded:\n" + "\n".join(lines))

    def _fail(self, message: str) -> NoReturn:
        raise AssertionError(f"{message}\n\ncaptured timeline:\n{self.timeline()}")

    def _exporter_records(self) -> list[dict[str, Any]]:
        self._pipeline.flush(10.0)
        return self._exporter.records

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
    _CAPTURE = pytest.StashKey[Capture]()

    @pytest.fixture
    def agentlog_capture(request: pytest.FixtureRequest) -> Iterator[Capture]:
        """A ``Capture`` of everything the test records; a failing test's report shows it."""
        with capture() as cap:
            request.node.stash[_CAPTURE] = cap
            yield cap

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report = outcome.get_result()
        cap = item.stash.get(_CAPTURE, None)
        if cap is not None and report.when == "call" and report.failed:
            report.sections.append(("agentlog: captured timeline", cap.timeline()))
