"""``events_between_markers`` (store/_markers.py) against a plain reference: each session's
items sorted by (time, id) and walked, on both backends, ties at one microsecond included."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta
from typing import Any

import pytest

from agentlog._ids import parse_ts
from agentlog.store import _markers
from agentlog.store._store import SqlStore

from .helpers import event, message

NOW = parse_ts("2026-01-03T00:17:23.5Z")  # two days after the helpers' base time
SINCE = NOW - timedelta(days=2)


def _type(r: dict[str, Any]) -> str:
    return str(r["role"] if r["kind"] == "message" else r["type"])


def _reference(recs: list[dict[str, Any]], markers: list[str], count_type: str) -> dict[str, Any]:
    """The statistics by the definition: walk each session's items in (time, id) order."""
    found, trailing = [], 0
    for sid in sorted({r["session_id"] for r in recs if r["session_id"] is not None}):
        items = sorted((r for r in recs if r["session_id"] == sid
                        and SINCE <= parse_ts(r["ts"]) <= NOW),
                       key=lambda r: (parse_ts(r["ts"]), r["id"]))  # fmt: skip
        index = n = 0
        for r in items:
            if _type(r) in markers:
                found.append(((parse_ts(r["ts"]), r["id"]),
                              (index, sid, n, r["id"], _type(r))))  # fmt: skip
                index, n = index + 1, 0
            elif _type(r) == count_type:
                n += 1
        trailing += n
    dist = [seg for _, seg in sorted(found)]
    counts = [seg[2] for seg in dist]
    return {"dist": dist, "trailing": trailing,
            "median": float(statistics.median(counts)) if counts else None}  # fmt: skip


def _got(store: SqlStore, markers: list[str], count_type: str) -> dict[str, Any]:
    stats = store.events_between_markers(marker_types=markers, count_type=count_type, days=2,
                                         now=NOW)  # fmt: skip
    dist = [(d.marker_index, d.session_id, d.count, d.marker_id, d.marker_type)
            for d in stats.distribution]  # fmt: skip
    assert stats.marker_count == len(dist)
    assert stats.counted_events == sum(d[2] for d in dist)
    return {"dist": dist, "trailing": stats.trailing_events, "median": stats.median_per_marker}


def _coarse(seed: int) -> list[dict[str, Any]]:
    """Sessions whose items fall on few distinct microseconds (many ties), with random ids,
    markers among events and messages, sessionless events, and items outside the window."""
    rnd = random.Random(seed)
    recs: list[dict[str, Any]] = []
    for s in range(rnd.randint(1, 6)):
        sid = f"s{s}"
        base = rnd.choice([-86_400 * 2.5, 0.0, 86_400 * 1.5])  # some before the window
        for _ in range(rnd.randint(1, 40)):
            at = base + rnd.randrange(6)  # six possible seconds: ties everywhere
            item_id = f"{rnd.getrandbits(64):016x}"
            if rnd.random() < 0.4:
                recs.append(message(sid, at, role=rnd.choice(["user", "assistant", "system"]),
                                    id=item_id))  # fmt: skip
            else:
                recs.append(event(sid, at, type=rnd.choice(["tool_call", "compaction", "reset",
                                                            "step"]), id=item_id))  # fmt: skip
    recs += [event(None, 10.0, type="compaction"), event(None, 10.0, type="tool_call")]
    return recs


CASES = [(["compaction"], "user"), (["compaction", "reset"], "tool_call"),
         (["system"], "tool_call"), (["compaction", "user"], "user")]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_markers_match_the_reference_with_ties(store: SqlStore, seed: int) -> None:
    recs = _coarse(seed)
    store.ingest(recs)
    for markers, count_type in CASES:
        assert _got(store, markers, count_type) == _reference(recs, markers, count_type)


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_counted_items_read_in_small_batches_match_the_reference(
    store: SqlStore, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batch ends fall between items at one microsecond, and at markers' microseconds.
    monkeypatch.setattr(_markers, "BATCH", batch)
    recs = _coarse(7) + _coarse(8)
    store.ingest(recs)
    for markers, count_type in CASES:
        assert _got(store, markers, count_type) == _reference(recs, markers, count_type)


def test_items_at_a_markers_microsecond_are_placed_by_id(store: SqlStore) -> None:
    # One microsecond holds a counted item before the first marker (by id), one between the
    # two markers, and one after both; the item a microsecond earlier comes first.
    store.ingest([event("a", 86_404.0, type="tool_call", id="a0"),
                  event("a", 86_405.0, type="tool_call", id="a1"),
                  event("a", 86_405.0, type="compaction", id="a2"),
                  event("a", 86_405.0, type="tool_call", id="a3"),
                  event("a", 86_405.0, type="compaction", id="a4"),
                  event("a", 86_405.0, type="tool_call", id="a5")])  # fmt: skip
    stats = store.events_between_markers(count_type="tool_call", days=2, now=NOW)
    assert [(d.marker_id, d.count) for d in stats.distribution] == [("a2", 2), ("a4", 1)]
    assert stats.trailing_events == 1


def test_an_item_at_a_markers_microsecond_in_the_next_batch_is_placed_by_id(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Items in (time, session) order, one a batch: b's item at its marker's microsecond comes
    # in the batch after the one that ends at that microsecond (a's item).
    monkeypatch.setattr(_markers, "BATCH", 1)
    store.ingest([event("a", 86_405.0, type="tool_call", id="x1"),
                  event("b", 86_405.0, type="tool_call", id="y1"),
                  event("b", 86_405.0, type="compaction", id="y2")])  # fmt: skip
    stats = store.events_between_markers(count_type="tool_call", days=2, now=NOW)
    assert [(d.marker_id, d.count) for d in stats.distribution] == [("y2", 1)]
    assert stats.trailing_events == 1
