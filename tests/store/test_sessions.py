from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agentlog import ConflictError, InvalidInputError, NotFoundError
from agentlog._ids import parse_ts
from agentlog.store._store import SqlStore

from .helpers import event, message, session, ts


def test_create_with_caller_id_is_idempotent(store: SqlStore) -> None:
    first = store.create_session(id="s1", name="a", configs={"x": 1})
    again = store.create_session(id="s1", name="other")
    assert again == first


def test_create_with_an_id_of_another_project_is_a_conflict(store: SqlStore) -> None:
    store.create_session(id="s1", project="a")
    with pytest.raises(ConflictError):
        store.create_session(id="s1", project="b")


def test_create_generates_an_id_and_starts_running(store: SqlStore) -> None:
    s = store.create_session(user="alice")
    assert s.status == "running" and s.user == "alice" and len(s.id) == 36


def test_get_missing_session_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_session("nope")


def _many(store: SqlStore, n: int) -> list[str]:
    ids = [f"s{i:03d}" for i in range(n)]
    store.ingest([session(sid, at=i, user="u" if i % 2 else "v", name=f"n{i % 3}",
                          status="running" if i % 4 else "success") for i, sid in enumerate(ids)])  # fmt: skip
    return ids


@pytest.mark.parametrize("time_desc", [True, False])
def test_list_pages_cover_everything_once_in_order(store: SqlStore, time_desc: bool) -> None:
    ids = _many(store, 23)
    seen, cursor = [], None
    while True:
        page = store.list_sessions(limit=5, cursor=cursor, time_desc=time_desc)
        seen += [s.id for s in page.items]
        if not page.has_more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert seen == (ids[::-1] if time_desc else ids)


def test_list_filters_by_user_status_and_name(store: SqlStore) -> None:
    _many(store, 12)
    got = store.list_sessions(user="u", status="running", name="n1", time_desc=False)
    assert [s.id for s in got.items] == ["s001", "s007"]


@pytest.mark.parametrize("limit", [0, 201, -1])
def test_list_limit_out_of_range_is_invalid(store: SqlStore, limit: int) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        store.list_sessions(limit=limit)


def test_a_damaged_cursor_is_invalid(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        store.list_sessions(cursor="garbage!")


def test_delete_removes_events_and_messages(store: SqlStore) -> None:
    store.ingest([session("s1"), event("s1", 1), message("s1", 2), session("s2"), event("s2", 1)])
    store.delete_session("s1")
    with pytest.raises(NotFoundError):
        store.get_session("s1")
    assert store.iterate_events().events[0].session_id == "s2"
    assert len(store.iterate_events().events) == 1
    with pytest.raises(NotFoundError):
        store.delete_session("s1")


def test_copy_has_new_ids_same_configs_and_same_relative_timing(store: SqlStore) -> None:
    parent = event("s1", 1, type="tool_call")
    child = event("s1", 1.5, parent_id=parent["id"])
    store.ingest([session("s1", configs={"a": [1]}, user="u"), parent, child, message("s1", 3)])
    copy = store.copy_session("s1")
    assert copy.id != "s1" and copy.configs == {"a": [1]} and copy.user == "u"
    orig = store.get_messages("s1", with_events=True)
    new = store.get_messages(copy.id, with_events=True)
    assert {e.id for e in new.events}.isdisjoint({e.id for e in orig.events})
    assert new.events[1].parent_id == new.events[0].id

    def offsets(start: str | None, times: list[str]) -> list[timedelta]:
        assert start is not None
        return [parse_ts(t) - parse_ts(start) for t in times]

    def times(page: object) -> list[str]:
        return [e.ts for e in page.events] + [m.ts for m in page.items]  # type: ignore[attr-defined]

    assert offsets(copy.started_at, times(new)) == offsets(ts(0), times(orig))
    assert [e.data for e in new.events] == [e.data for e in orig.events]


def test_close_sets_status_summary_and_end(store: SqlStore) -> None:
    store.create_session(id="s1")
    s = store.close_session("s1", status="cancelled", summary="user left")
    assert (s.status, s.summary) == ("cancelled", "user left") and s.ended_at is not None
    with pytest.raises(InvalidInputError, match="status"):
        store.close_session("s1", status="running")


def test_stale_running_sessions_time_out_at_their_last_activity(store: SqlStore) -> None:
    store.ingest([session("old"), event("old", 60), session("fresh", at=100_000),
                  session("done", status="success")])  # fmt: skip
    now = parse_ts(ts(60)) + timedelta(hours=24, seconds=1)
    assert store.close_stale_sessions(now=now) == ["old"]
    old = store.get_session("old")
    assert (old.status, old.ended_at) == ("timeout", ts(60))
    assert store.get_session("fresh").status == "running"
    assert store.get_session("done").status == "success"


def test_auto_close_after_is_configurable(make_store: object) -> None:
    store = make_store(auto_close_after=10.0)  # type: ignore[operator]
    store.ingest([session("s1")])
    assert store.close_stale_sessions(now=parse_ts(ts(5))) == []
    assert store.close_stale_sessions(now=datetime.fromtimestamp(parse_ts(ts(11)).timestamp(),
                                                                 tz=timezone.utc)) == ["s1"]  # fmt: skip
