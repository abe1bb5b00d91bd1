from __future__ import annotations

import os
from pathlib import Path

import orjson

from agentlog.store.sqlite import SqliteStore

from .helpers import event, session


def _append(path: Path, *recs: dict[str, object], tail: bytes = b"") -> None:
    with open(path, "ab") as f:
        for r in recs:
            f.write(orjson.dumps(r) + b"\n")
        f.write(tail)


def _store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "agentlog.db", processing=False)


def test_indexing_is_incremental_and_skips_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    store = _store(tmp_path)
    partial = orjson.dumps(event("s1", 3))
    _append(path, session("s1"), event("s1", 1), tail=partial[:20])
    first = store.index_jsonl(path)
    assert (first.records, first.accepted) == (2, 2)
    assert store.index_jsonl(path).records == 0  # nothing new
    _append(path, tail=partial[20:] + b"\n")
    _append(path, event("s1", 4))
    second = store.index_jsonl(path)
    assert second.records == 2
    assert len(store.get_events("s1").items) == 3
    store.close()


def test_rotation_is_picked_up_without_reading_twice(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    store = _store(tmp_path)
    _append(path, session("s1"), event("s1", 1))
    store.index_jsonl(path)
    _append(path, event("s1", 2))  # written before the rotation, not yet indexed
    os.rename(path, tmp_path / "events.000001.jsonl")
    _append(path, event("s1", 3))
    result = store.index_jsonl(path)
    assert (result.files, result.records) == (2, 2)
    assert len(store.get_events("s1").items) == 3
    store.close()


def test_a_new_file_reusing_an_inode_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    store = _store(tmp_path)
    _append(path, session("s1"), event("s1", 1), event("s1", 2))
    store.index_jsonl(path)
    with open(path, "wb") as f:  # same inode, other content, shorter
        f.write(orjson.dumps(session("s2")) + b"\n")
    assert store.index_jsonl(path).records == 1
    assert store.get_session("s2").id == "s2"
    store.close()


def test_bad_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    store = _store(tmp_path)
    _append(path, session("s1"), tail=b"{not json\n")
    bad = event("s1", 1)
    del bad["ts"]
    _append(path, bad, event("s1", 2))
    result = store.index_jsonl(path)
    assert result.accepted == 2 and len(result.bad_lines) == 1
    assert result.rejected[0].index == 1 and "ts" in result.rejected[0].reason
    store.close()
