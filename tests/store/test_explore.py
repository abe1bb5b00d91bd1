"""The UI's reads (store._explore) on both backends: filters, sorting, paging, sizes."""

from __future__ import annotations

import pytest

from agentlog._errors import InvalidInputError, NotFoundError
from agentlog.store._explore import explore_events, explore_session, explore_sessions
from agentlog.store._store import SqlStore

from .helpers import event, message, session, ts


def _seed(store: SqlStore) -> None:
    recs = [
        session("s1", at=0, name="Support - Password Reset", user="alice",
                configs={"agent": "bot1", "env": {"region": "eu"}}),
        session("s1", at=0, status="success", ended_at=ts(10)),
        session("s2", at=100, name="support 100%_done", user="bob", configs={"agent": "bot2"}),
        session("s2", at=100, status="error", ended_at=ts(400)),
        session("s3", at=200, name="Billing", user="alice", parent_session_id="s1"),
        event("s1", 1, "llm_call", name="answer"),
        event("s1", 2, "llm_call", name="answer"),
        event("s1", 3, "tool_call", name="search"),
        event("s2", 101, "error", name="boom", status="error"),
        event("s3", 201, "tool_call", name="search"),
        message("s1", 4),
    ]  # fmt: skip
    assert not store.ingest(recs).rejected


def _ids(page: object) -> list[str]:
    return [s.id for s in page.items]  # type: ignore[attr-defined]


def test_sessions_by_name_substring_any_case_with_wildcards_taken_literally(
    store: SqlStore,
) -> None:
    _seed(store)
    assert _ids(explore_sessions(store, name="SUPPORT")) == ["s2", "s1"]
    assert _ids(explore_sessions(store, name="100%_")) == ["s2"]
    assert _ids(explore_sessions(store, name="%")) == ["s2"]  # not "everything"
    assert _ids(explore_sessions(store, name="zzz")) == []


def test_sessions_by_user_configs_status_parent_and_time(store: SqlStore) -> None:
    _seed(store)
    assert _ids(explore_sessions(store, user="alice")) == ["s3", "s1"]
    assert _ids(explore_sessions(store, configs={"env": {"region": "eu"}})) == ["s1"]
    assert _ids(explore_sessions(store, user="alice", configs={"agent": "bot2"})) == []
    assert _ids(explore_sessions(store, status="error")) == ["s2"]
    assert _ids(explore_sessions(store, parent="s1")) == ["s3"]
    assert _ids(explore_sessions(store, since=ts(100), until=ts(200))) == ["s2"]
    with pytest.raises(InvalidInputError, match="since"):
        explore_sessions(store, since="yesterday")


def test_sessions_sorted_by_duration_and_paged(store: SqlStore) -> None:
    _seed(store)
    # s2 lasted 300 s, s1 10 s, s3 (running) until its last activity at 201 s: 1 s.
    first = explore_sessions(store, sort="duration", limit=2)
    assert _ids(first) == ["s2", "s1"] and first.has_more
    rest = explore_sessions(store, sort="duration", limit=2, cursor=first.next_cursor)
    assert _ids(rest) == ["s3"] and not rest.has_more
    assert [s.duration_ms for s in first.items] == [300_000.0, 10_000.0]
    assert _ids(explore_sessions(store, sort="duration", time_desc=False)) == ["s3", "s1", "s2"]
    with pytest.raises(InvalidInputError, match="cursor"):  # a start-sorted cursor
        explore_sessions(
            store, sort="duration", cursor=explore_sessions(store, limit=1).next_cursor
        )


def test_session_summary_counts_llm_calls_items_and_children(store: SqlStore) -> None:
    _seed(store)
    listed = {s.id: s for s in explore_sessions(store).items}
    assert listed["s1"].llm_calls == 2 and listed["s2"].llm_calls == 0
    one = explore_session(store, "s1")
    assert (one.items, one.children, one.llm_calls, one.name) == (
        4,
        1,
        2,
        "Support - Password Reset",
    )
    with pytest.raises(NotFoundError):
        explore_session(store, "s1", project="other")


def test_events_across_sessions_by_type_name_status_time_and_paged(store: SqlStore) -> None:
    _seed(store)
    assert [e.session_id for e in explore_events(store, type="tool_call").items] == ["s3", "s1"]
    assert [e.name for e in explore_events(store, status="error").items] == ["boom"]
    assert len(explore_events(store, type=["llm_call", "error"]).items) == 3
    assert len(explore_events(store, name="answer", since=ts(2)).items) == 1
    first = explore_events(store, limit=2)
    second = explore_events(store, limit=2, cursor=first.next_cursor)
    third = explore_events(store, limit=2, cursor=second.next_cursor)
    seen = _ids(first) + _ids(second) + _ids(third)
    assert len(seen) == len(set(seen)) == 5 and not third.has_more
    assert explore_events(store, project="other").items == []
