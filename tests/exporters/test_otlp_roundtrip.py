"""One agent, two ways into our collector: ``otlp`` to /v1/traces and ``http`` to /v1/ingest.
Both must read back as the same timeline: sessions, events (ids, nesting, types, data, errors)
and messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agentlog
from agentlog import TextEvent
from agentlog.collector import KeyRing, create_app
from agentlog.exporters import RecordBatch
from agentlog.exporters.http import HttpExporter
from agentlog.exporters.otlp import OtlpExporter
from agentlog.store import Store, open_store
from agentlog.testing import capture

from ..collector.conftest import KEY_A, KEY_B, KEYS
from ..collector.servers import ThreadServer


@pytest.fixture
def collectors(tmp_path: Path) -> Iterator[list[tuple[str, Store]]]:
    """Two: session ids are unique across a store's projects."""
    stores = [open_store(tmp_path / f"{name}.db", processing=False) for name in ("http", "otlp")]
    with ThreadServer(create_app(stores[0], keys=KeyRing(env=KEYS))) as one, \
            ThreadServer(create_app(stores[1], keys=KeyRing(env=KEYS))) as two:  # fmt: skip
        yield [(one.url, stores[0]), (two.url, stores[1])]
    for store in stores:
        store.close()


def agent() -> list[dict[str, Any]]:
    @agentlog.tool
    def search(query: str) -> list[str]:
        return [f"doc about {query}"]

    @agentlog.trace(type="step")
    def plan(goal: str) -> str:
        search(goal)
        agentlog.track_llm_call(
            model="gpt-4o-2024-08-06", provider="openai", response="Reset it.",
            messages=[{"role": "system", "content": "Help."}, {"role": "user", "content": goal}],
            usage={"input_tokens": 12, "output_tokens": 3, "cache_read_tokens": 4},
            tool_calls=[{"id": "c1", "name": "search", "arguments": {"query": goal}}],
        )  # fmt: skip
        return "done"

    with capture() as cap:
        with agentlog.session("support", user="alice", configs={"agent": "bot1"}, tags=["beta"]):
            agentlog.score("helpful", 4, comment="solved it")
            agentlog.store_message({"role": "user", "content": "reset my password"})
            plan("password reset")
            agentlog.track_decision("route", choice="billing", options=["billing", "tech"],
                                    reasoning="mentions invoice", confidence=0.8)  # fmt: skip
            agentlog.add_event(TextEvent(text="switched to dark mode"))
            agentlog.store_message("plain text reply", format="raw")
        try:
            with agentlog.session("failing"):
                raise ValueError("boom")
        except ValueError:
            pass
        return cap.records


def _read(store: Store, project: str) -> list[Any]:
    out = []
    for sess in store.list_sessions(limit=50, project=project).items:
        s = sess.model_dump(exclude={"rollup", "last_activity_at"})
        events = [
            e.model_dump() for e in store.get_events(sess.id, limit=200, project=project).items
        ]
        msgs = store.get_messages(sess.id, limit=200, project=project)
        scores = [x.model_dump() for x in store.get_scores(sess.id, project=project)]
        out.append((s, events, [m.model_dump() for m in msgs.items], scores))
    return sorted(out, key=lambda x: str(x[0]["id"]))


def test_otlp_and_http_read_back_the_same_timeline(collectors: Any, tmp_path: Path) -> None:
    (http_url, http_store), (otlp_url, otlp_store) = collectors
    records = agent()
    http = HttpExporter(http_url, api_key=KEY_A, spool_dir=str(tmp_path / "spool"))
    otlp = OtlpExporter(otlp_url, headers={"authorization": f"Bearer {KEY_B}"})
    try:
        assert http.export(RecordBatch.from_records(records)).ok
        result = otlp.export(RecordBatch.from_records(records))
        assert result.ok and not result.rejected, result
    finally:
        http.shutdown()
        otlp.shutdown()
    via_http, via_otlp = _read(http_store, "a"), _read(otlp_store, "b")
    assert len(via_http) == 2 and sum(len(t[1]) for t in via_http) >= 5
    assert via_otlp == via_http


def test_cut_data_reads_back_from_the_conventions_with_its_own_ids(collectors: Any) -> None:
    (_, _), (otlp_url, otlp_store) = collectors
    records = agent()
    otlp = OtlpExporter(otlp_url, headers={"authorization": f"Bearer {KEY_B}"}, payload_limit=40)
    try:
        assert otlp.export(RecordBatch.from_records(records)).ok
    finally:
        otlp.shutdown()
    sent = {r["id"]: r for r in records if r["kind"] == "event"}
    llm = next(r for r in sent.values() if r["type"] == "llm_call")
    got = {e.id: e for s in otlp_store.list_sessions(project="b").items
           for e in otlp_store.get_events(s.id, limit=200, project="b").items}  # fmt: skip
    assert set(got) == set(sent)
    for rid, rec in sent.items():
        assert (got[rid].type, got[rid].name, got[rid].parent_id) == (
            rec["type"], rec["name"], rec["parent_id"])  # fmt: skip
    back = got[llm["id"]].data
    assert back["model"] == "gpt-4o-2024-08-06" and back["usage"]["cache_read_tokens"] == 4
    assert back["messages"][1] == {"role": "user", "content": "password reset"}
