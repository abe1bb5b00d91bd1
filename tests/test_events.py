from __future__ import annotations

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
