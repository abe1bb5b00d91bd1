"""Score records, tags, filtering and sorting by score, and compare, on both backends."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from agentlog._errors import InvalidInputError, NotFoundError
from agentlog.store._store import SqlStore

from .helpers import event, session, ts

_n = 0


def score(sid: str, name: str, value: Any, at: float = 10, **fields: Any) -> dict[str, Any]:
    global _n
    _n += 1
    return {"kind": "score", "id": f"sc{_n}", "session_id": sid, "ts": ts(at), "name": name,
            "value": value, **fields}  # fmt: skip


def ids(page: Any) -> list[str]:
    return [s.id for s in page.items]


def test_scores_are_stored_and_the_latest_is_the_sessions(store: SqlStore) -> None:
    store.ingest([session("a"), event("a", 1, "llm_call", id="ev1")])
    recs = [score("a", "helpful", 2, at=5), score("a", "helpful", 4, at=6, comment="better"),
            score("a", "resolved", True), score("a", "label", "billing"),
            score("a", "helpful", 1, at=7, event_id="ev1")]  # fmt: skip
    result = store.ingest(recs)
    assert not result.rejected
    store.ingest(recs)  # re-sent: nothing changes
    s = store.get_session("a")
    assert s.scores == {"helpful": 4, "label": "billing", "resolved": True}
    got = store.get_scores("a")
    assert [(x.name, x.value, x.event_id) for x in got[:3]] == [
        ("helpful", 2, None), ("helpful", 4, None), ("helpful", 1, "ev1")]  # fmt: skip
    assert {(x.name, x.value) for x in got[3:]} == {("resolved", True), ("label", "billing")}
    assert got[1].comment == "better"
    assert [x.value for x in store.get_scores("a", name="helpful")] == [2, 4, 1]
    # An older score arriving late does not replace the latest.
    store.ingest([score("a", "helpful", 5, at=1)])
    assert store.get_session("a").scores["helpful"] == 4


def test_bad_scores_are_rejected(store: SqlStore) -> None:
    store.ingest([session("b")])
    bad = [score("b", "x", [1]), score("b", "x", "y" * 201), score("b", "", 1),
           score("b", "x", float("nan")), score("b", "x", 10**400)]  # fmt: skip
    result = store.ingest(bad)
    assert [r.index for r in result.rejected] == [0, 1, 2, 3, 4]
    assert "value" in result.rejected[0].reason
    with pytest.raises(InvalidInputError):
        store.add_score("b", "x", {"a": 1})
    with pytest.raises(NotFoundError):
        store.add_score("nope", "x", 1)
    added = store.add_score("b", "x", 3.5, comment="ok")
    assert (added.source, store.get_session("b").scores) == ("client", {"x": 3.5})


def test_filter_and_sort_by_score(store: SqlStore) -> None:
    recs: list[dict[str, Any]] = []
    for i in range(6):
        recs.append(session(f"s{i}", at=i))
        if i != 5:
            recs.append(score(f"s{i}", "helpful", i))
        recs.append(score(f"s{i}", "label", "good" if i % 2 else "bad"))
    store.ingest(recs)
    assert ids(store.list_sessions(score={"helpful": (">=", 3)})) == ["s4", "s3"]
    assert ids(store.list_sessions(score="helpful<2", time_desc=False)) == ["s0", "s1"]
    assert ids(store.list_sessions(score={"label": "good", "helpful": ("!=", 1)})) == ["s3"]
    assert ids(store.list_sessions(score=["helpful>=1", "label=bad"])) == ["s4", "s2"]
    page = store.list_sessions(order_by_score="helpful", limit=2)
    assert ids(page) == ["s4", "s3"]
    rest = store.list_sessions(order_by_score="helpful", limit=2, cursor=page.next_cursor)
    assert ids(rest) == ["s2", "s1"]
    last = store.list_sessions(order_by_score="helpful", limit=2, cursor=rest.next_cursor)
    assert (ids(last), last.has_more) == (["s0"], False)  # s5 has no helpful score
    assert ids(store.list_sessions(order_by_score="helpful", time_desc=False, limit=3)) == [
        "s0", "s1", "s2"]  # fmt: skip
    with pytest.raises(InvalidInputError, match="operator"):
        store.list_sessions(score={"helpful": ("~", 1)})
    with pytest.raises(InvalidInputError):
        store.list_sessions(score={"label": (">", "a")})
    with pytest.raises(InvalidInputError, match="too large"):
        store.list_sessions(score="helpful>=" + "9" * 400)


def test_tags_accumulate_and_filter(store: SqlStore) -> None:
    store.ingest([session("t1", tags=["beta", "eu"]), session("t2", tags=["beta"]),
                  session("t3")])  # fmt: skip
    store.ingest([{"kind": "session", "id": "t2", "tags": ["vip"], "ended_at": ts(9),
                   "status": "success"}])  # fmt: skip
    assert store.get_session("t2").tags == ["beta", "vip"]
    assert set(ids(store.list_sessions(tags=["beta"]))) == {"t1", "t2"}
    assert ids(store.list_sessions(tags=["beta", "vip"])) == ["t2"]
    assert ids(store.list_sessions(tags=["nope"])) == []
    created = store.create_session(id="t4", tags=["x"])
    assert created.tags == ["x"]
    assert store.copy_session("t1").tags == ["beta", "eu"]


def test_deleting_a_session_deletes_its_scores(store: SqlStore) -> None:
    store.ingest([session("d1"), score("d1", "h", 1)])
    store.delete_session("d1")
    store.ingest([session("d1")])
    assert store.get_session("d1").scores == {}
    assert store.get_scores("d1") == []


def test_compare(store: SqlStore) -> None:
    recs: list[dict[str, Any]] = []
    # agent a: 3 sessions (one error), helpful 2, 4, 5, durations 1 s, 2 s, 3 s;
    # agent b: 1 session, helpful 5; one session without the key.
    plan = [("a", "success", 2, 1), ("a", "error", 4, 2), ("a", "success", 5, 3),
            ("b", "success", 5, 10), (None, "success", None, 1)]  # fmt: skip
    for i, (agent, status, helpful, secs) in enumerate(plan):
        sid = f"c{i}"
        recs.append(session(sid, at=0, configs={"agent": agent} if agent else {"other": 1}))
        recs.append({"kind": "session", "id": sid, "status": status, "ended_at": ts(secs)})
        recs.append(event(sid, 0.5, "llm_call", data={"cost_usd": "0.1"}))
        if helpful is not None:
            recs.append(score(sid, "helpful", helpful))
        recs.append(score(sid, "tone", "warm" if i % 2 else "cold"))
    store.ingest(recs)
    report = store.compare(config_key="agent", scores=["helpful", "tone"])
    groups = {g.value: g for g in report.groups}
    a = groups["a"]
    assert (a.sessions, a.errors, round(a.error_rate, 4)) == (3, 1, 0.3333)
    assert a.scores["helpful"].avg == pytest.approx(11 / 3)
    assert a.scores["helpful"].median == 4
    assert a.scores["tone"].values == {"cold": 2, "warm": 1}
    assert a.total_usd == Decimal("0.3") and a.cost_per_session == Decimal("0.1")
    assert (a.latency_p50_ms, a.latency_p90_ms, a.latency_p99_ms) == (2000.0, 3000.0, 3000.0)
    assert groups["b"].scores["helpful"].median == 5
    assert groups[None].sessions == 1 and groups[None].scores["helpful"].sessions == 0
    assert report.groups[0].value == "a"  # most sessions first
    only = store.compare(config_key="agent", filter_by_configs={"agent": "b"})
    assert [g.value for g in only.groups] == ["b"]
