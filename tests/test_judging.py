"""Scores, tags, cost and compare from the SDK to the Client, in-process and over HTTP; and the
record stream as the source of truth: a deleted local index is rebuilt with the same answers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import agentlog
from agentlog import Client, InvalidInputError
from agentlog.client import LocalTransport
from agentlog.collector import KeyRing, create_app
from agentlog.store import Store, open_store
from agentlog.testing import capture

from .collector.conftest import KEY_A, KEYS
from .collector.servers import ThreadServer


def test_sdk_scores_and_tags_are_records() -> None:
    with capture() as cap:
        with agentlog.session("run", tags=["beta", "beta", 3]) as s:  # type: ignore[list-item]
            s.add_tags("eu", "beta")
            agentlog.score("helpful", 4, comment="solved it")
            agentlog.score("resolved", True)
        agentlog.score("tone", "warm", session_id=s.id, event_id="e1")
        agentlog.score("bad", [1])  # type: ignore[arg-type]
        agentlog.score("orphan", 1)  # no current session
        scores = cap.scores()
        merged = cap.sessions
    assert [(r["name"], r["value"], r["session_id"], r["event_id"], r["source"])
            for r in scores] == [("helpful", 4, s.id, None, "sdk"), ("resolved", True, s.id, None, "sdk"),
                                 ("tone", "warm", s.id, "e1", "sdk")]  # fmt: skip
    assert scores[0]["comment"] == "solved it"
    assert merged[0]["tags"] == ["beta", "eu"]
    assert [x.name for x in scores] == ["helpful", "resolved", "tone"]
    assert s.tags == ["beta", "eu"]


def _run_agent(path: Path) -> str:
    agentlog.init(path=str(path))
    try:
        with agentlog.session("support", user="alice", configs={"agent": "bot1"},
                              tags=["beta"]) as s:  # fmt: skip
            agentlog.track_llm_call(provider="openai", model="gpt-4o",
                                    usage={"input_tokens": 1000, "cached_tokens": 400,
                                           "output_tokens": 100})  # fmt: skip
            agentlog.track_llm_call(model="in-house", cost_usd="0.25")
            agentlog.score("helpful", 4)
        assert agentlog.flush(10)
    finally:
        agentlog.shutdown()
    return s.id


def _answers(c: Client, sid: str, other: str) -> dict[str, Any]:
    return {
        "sessions": [s.model_dump() for s in c.sessions.list(limit=50).items],
        "events": [e.model_dump() for e in c.sessions.get_events(other, limit=50).items],
        "messages": [m.model_dump() for m in c.sessions.get_messages(other).items],
        "scores": [x.model_dump() for x in c.sessions.get_scores(sid)],
        "other_scores": [x.model_dump() for x in c.sessions.get_scores(other)],
        "cost": c.query.cost(days=30, bucket="session").model_dump(),
        "by_score": [s.id for s in c.sessions.list(score={"helpful": (">=", 4)}).items],
        "tagged": [s.id for s in c.sessions.list(tags=["beta"]).items],
    }


def _strip_rollup_times(a: dict[str, Any]) -> dict[str, Any]:
    for s in a["sessions"]:
        s["rollup"].pop("updated_at")
    return a


def test_deleting_the_local_index_gives_the_same_answers(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    sid = _run_agent(tmp_path / ".agentlog" / "events.jsonl")
    with Client() as c:
        s = c.sessions.get(sid)
        assert s.tags == ["beta"] and s.scores == {"helpful": 4}
        assert s.rollup.cost_usd == Decimal("0.253")  # 0.003 priced + 0.25 given
        # Everything a reader writes goes to the record stream as well.
        other = c.sessions.create(id="o1", name="manual", configs={"a": 1, "b": 2}, tags=["t"]).id
        c.sessions.patch_configs(other, {"b": None, "c": 3})
        c.sessions.add_event(other, type="llm_call", data={"provider": "openai",
                             "model": "gpt-4o-mini", "usage": {"input_tokens": 100,
                             "output_tokens": 10}}, ts="2026-11-29T10:00:00Z")  # fmt: skip
        c.sessions.store_message(other, {"role": "user", "content": "hi"})
        c.sessions.score(other, "helpful", 5, comment="by a reviewer")
        c.sessions.score(sid, "helpful", 2)
        c.sessions.close(other, status="error", summary="gave up")
        c.sessions.update_configs(sid, None)
        c.sessions.copy(other)
        with pytest.raises(InvalidInputError):
            c.sessions.score(sid, "x", {"not": "a value"})  # type: ignore[arg-type]
        before = _strip_rollup_times(_answers(c, sid, other))
    assert before["by_score"] == ["o1"]
    # 0.253, and gpt-4o-mini: 100 x 0.15e-6 + 10 x 0.6e-6 = 0.000021, twice (o1 and its copy)
    assert before["cost"]["total_usd"] == Decimal("0.253042")
    assert len(before["sessions"]) == 3
    (tmp_path / ".agentlog" / "agentlog.db").unlink()
    for extra in ("agentlog.db-wal", "agentlog.db-shm"):
        (tmp_path / ".agentlog" / extra).unlink(missing_ok=True)
    with Client() as c:
        after = _strip_rollup_times(_answers(c, sid, other))
        assert c.sessions.get(sid).configs is None
        assert c.sessions.get(other).configs == {"a": 1, "c": 3}
    assert after == before


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = open_store(tmp_path / "c.db", processing=False)
    with ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as srv:
        yield store, srv.url
    store.close()


@pytest.mark.parametrize("how", ["local", "http"])
def test_scores_tags_cost_and_compare_over_both_transports(server: tuple[Store, str],
                                                            how: str) -> None:  # fmt: skip
    store, url = server
    c = (Client(transport=LocalTransport(store, project="a")) if how == "local"
         else Client(base_url=url, api_key=KEY_A))  # fmt: skip
    with c:
        for i, agent in enumerate(["x", "x", "y"]):
            s = c.sessions.create(id=f"{how}{i}", configs={"agent": agent}, tags=["t", agent])
            c.sessions.add_event(s.id, type="llm_call", data={"cost_usd": f"0.{i + 1}"})
            c.sessions.score(s.id, "helpful", i + 2)
            c.sessions.close(s.id, status="error" if i == 1 else "success")
        assert [x.value for x in c.sessions.get_scores(f"{how}0")] == [2]
        assert [s.id for s in c.sessions.list(tags=["t", "x"], time_desc=False).items] == [
            f"{how}0", f"{how}1"]  # fmt: skip
        assert [s.id for s in c.sessions.list(score={"helpful": (">", 2)}).items] == [
            f"{how}2", f"{how}1"]  # fmt: skip
        assert c.sessions.list(order_by_score="helpful").items[0].id == f"{how}2"
        report = c.query.cost(days=1, bucket="config:agent")
        assert {b.key: b.total_usd for b in report.buckets} == {"x": Decimal("0.3"),
                                                                "y": Decimal("0.3")}  # fmt: skip
        cmp = c.query.compare(config_key="agent", scores=["helpful"])
        x = next(g for g in cmp.groups if g.value == "x")
        assert (x.sessions, x.error_rate, x.scores["helpful"].avg) == (2, 0.5, 2.5)
        assert x.cost_per_session == Decimal("0.15")
        with pytest.raises(InvalidInputError):
            c.query.cost(bucket="fortnight")


def test_client_prices_override(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"house-model": {"input_mtok": 1, "output_mtok": 2}}')
    with Client(db=tmp_path / "p.db", prices=str(prices)) as c:
        s = c.sessions.create()
        e = c.sessions.add_event(s.id, type="llm_call", data={"model": "house-model",
                                 "usage": {"input_tokens": 1000, "output_tokens": 1000}})  # fmt: skip
        assert e.data["cost"] == {"input_usd": "0.001", "output_usd": "0.002",
                                  "total_usd": "0.003", "source": "override"}  # fmt: skip


def test_scores_and_tags_travel_through_the_http_exporter(server: tuple[Store, str]) -> None:
    _, url = server
    agentlog.init(exporter="http", endpoint=url, api_key=KEY_A)
    try:
        with agentlog.session("remote", tags=["beta"]) as s:
            agentlog.track_llm_call(provider="openai", model="gpt-4o",
                                    usage={"input_tokens": 1000, "output_tokens": 100})  # fmt: skip
            agentlog.score("helpful", 5, comment="from the SDK")
        assert agentlog.flush(20)
        assert agentlog.status().observed == 4 and agentlog.status().failed == 0
    finally:
        agentlog.shutdown()
    with Client(base_url=url, api_key=KEY_A) as c:
        got = c.sessions.get(s.id)
        assert (got.tags, got.scores) == (["beta"], {"helpful": 5})
        assert got.rollup.cost_usd == Decimal("0.0035")  # 1000 x 2.5e-6 + 100 x 10e-6
        assert c.sessions.get_scores(s.id)[0].comment == "from the SDK"
