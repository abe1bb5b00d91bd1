"""Sessions whose fields JSON cannot carry, or that are huge: repaired and bounded, never lost."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson
import pytest

import agentlog
from agentlog._jsonl import read_jsonl
from agentlog._serialize import TRUNCATED_KEY


class Odd:
    def __repr__(self) -> str:
        return "<Odd>"


def _init(path: Path, **options: object) -> None:
    agentlog.init(exporter="file", path=str(path), **options)


def test_a_session_named_by_a_lone_surrogate_is_recorded_repaired(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    _init(path)
    name = os.fsdecode(b"report-\xff.csv")  # 'report-\udcff.csv': what a bad file name decodes to
    with (
        caplog.at_level(logging.WARNING, logger="agentlog"),
        agentlog.session(name, user=Odd(), configs={"file": name, "seen": {1, 2}, 3: Odd()}) as s,  # type: ignore[arg-type]
    ):
        s.set_summary(name)
        agentlog.track_tool_call("read", input=name)
    assert agentlog.flush(10)
    got = read_jsonl(path)
    sessions = [r for r in got.records if r["kind"] == "session"]
    assert len(sessions) == 2 and got.errors == []
    start, end = sessions
    assert start["name"] == end["name"] == "report-\ufffd.csv"
    assert start["user"] == "<Odd>"
    assert start["configs"] == {"file": "report-\ufffd.csv", "seen": [1, 2], "3": "<Odd>"}
    assert end["summary"] == "report-\ufffd.csv" and end["status"] == "success"
    st = agentlog.status()
    assert (st.observed, st.failed, st.dropped) == (3, 0, 0)
    assert "could not encode" not in caplog.text and "Traceback" not in caplog.text


def test_a_record_with_a_surrogate_that_reaches_the_worker_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _init(path)
    agentlog.close_session("s-1", status="error", summary="bad \udc80 byte")
    with agentlog.session("ok") as s:
        s.patch_configs({"path": "\udcff"})
        agentlog.store_message({"role": "user", "content": "\ud800"})
    assert agentlog.flush(10)
    recs = read_jsonl(path).records
    assert recs[0]["summary"] == "bad \ufffd byte"
    assert any(r.get("configs") == {"path": "\ufffd"} for r in recs)
    assert any(r["kind"] == "message" and r["blob"]["content"] == "\ufffd" for r in recs)
    assert agentlog.status().failed == 0


def test_session_fields_are_bounded_by_max_payload_bytes(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    limit = 4096
    _init(path, max_payload_bytes=limit)
    big = "x" * 3_000_000
    with agentlog.session("n" * 50_000, user="u" * 50_000, configs={"prompt": big, "k": 1}) as s:
        s.set_summary("s" * 50_000)
        agentlog.store_message({"role": "user", "content": big})
    assert agentlog.flush(10)
    recs = read_jsonl(path).records
    assert os.path.getsize(path) < 10 * limit * 3
    start, message, end = recs
    for rec in (start, end):
        for field in ("name", "user", "configs"):
            assert len(orjson.dumps(rec[field])) <= limit, field
        assert rec["name"].startswith("nnnn") and TRUNCATED_KEY in rec["name"]
        assert rec["configs"]["k"] == 1
        assert rec["configs"]["prompt"][TRUNCATED_KEY] is True
        assert rec["configs"]["prompt"]["original_bytes"] == len(big) + 2
    assert TRUNCATED_KEY in end["summary"] and len(orjson.dumps(end["summary"])) <= limit
    assert len(orjson.dumps(message["blob"])) <= limit and message["role"] == "user"
    assert agentlog.status().observed == 3


def test_a_failure_per_record_is_logged_once_without_a_traceback_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(record: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("callback bug")

    _init(tmp_path / "events.jsonl", redact_callback=broken)
    with caplog.at_level(logging.WARNING, logger="agentlog"):
        for i in range(200):
            agentlog.track_tool_call("t", input=i)
        assert agentlog.flush(10) is False  # withheld by a failure, not delivered
    assert agentlog.status().failed == 200
    assert caplog.text.count("redaction failed") == 1
    assert caplog.text.count("Traceback") <= 1
