from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

import agentlog
from agentlog import DiskEvent, Event, TextEvent
from tests.conftest import Recorded


def test_text_and_disk_events_are_recorded_with_their_data(recorded: Recorded) -> None:
    agentlog.add_event(TextEvent(text="User switched to dark mode"))
    agentlog.add_event(DiskEvent(disk_id="d1", path="/data/report.csv", note="Uploaded report"))
    agentlog.add_event(DiskEvent(disk_id="d2", path="/tmp/x"))
    text, disk, bare = recorded.events()
    assert (text["type"], text["data"]) == ("text", {"text": "User switched to dark mode"})
    assert disk["data"] == {"disk_id": "d1", "path": "/data/report.csv", "note": "Uploaded report"}
    assert bare["data"] == {"disk_id": "d2", "path": "/tmp/x"}
    assert text["end_ts"] is None and text["duration_ms"] is None


def test_custom_event_type(recorded: Recorded) -> None:
    agentlog.add_event(Event(type="compaction", data={"tokens_before": 180000}))
    (ev,) = recorded.events("compaction")
    assert ev["data"] == {"tokens_before": 180000}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: TextEvent(), "text"),
        (lambda: DiskEvent(path="/p"), "disk_id"),
        (lambda: DiskEvent(disk_id="d", path=3), "path"),
        (lambda: Event(type=""), "type"),
        (lambda: Event(type="x", data=[1, 2]), "data"),
    ],
)
def test_invalid_events_raise_a_clear_error_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        build()  # type: ignore[operator]


def test_add_event_with_something_else_records_nothing_and_does_not_raise(
    recorded: Recorded,
) -> None:
    agentlog.add_event({"type": "text"})  # type: ignore[arg-type]
    assert recorded.events() == []


def test_the_first_event_of_a_process_imports_nothing_heavy(tmp_path: Path) -> None:
    """The first TextEvent/DiskEvent/Event costs what later ones cost: no pydantic import."""
    code = (
        "import sys, time, agentlog\n"
        "from agentlog import DiskEvent, Event, TextEvent\n"
        f"agentlog.init(path={str(tmp_path / 'e.jsonl')!r})\n"
        "t = time.perf_counter()\n"
        "agentlog.add_event(TextEvent(text='hi'))\n"
        "agentlog.add_event(DiskEvent(disk_id='d', path='/p', note='n'))\n"
        "agentlog.add_event(Event(type='compaction', data={'k': 1}))\n"
        "first = time.perf_counter() - t\n"
        "print('pydantic' in sys.modules, round(first * 1000, 3))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    loaded, _ms = out.stdout.split()
    assert loaded == "False"


def test_events_compare_repr_and_dump_like_models() -> None:
    a = DiskEvent(disk_id="d1", path="/p")
    assert a == DiskEvent(disk_id="d1", path="/p") and a != DiskEvent(disk_id="d2", path="/p")
    assert repr(TextEvent(text="x")) == "TextEvent(type='text', text='x', name=None)"
    assert Event(type="x", data={"a": 1}).model_dump() == {
        "type": "x",
        "name": None,
        "data": {"a": 1},
    }
    with pytest.raises(pydantic.ValidationError, match="extra"):
        TextEvent(text="x", colour="red")
    with pytest.raises(pydantic.ValidationError, match="type"):
        TextEvent(text="x", type="disk")
