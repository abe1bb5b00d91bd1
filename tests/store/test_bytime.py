"""A project's events in time order, read type by type (store._bytime), on both backends."""

from __future__ import annotations

import random
from typing import Any

from agentlog._ids import parse_ts
from agentlog.store._bytime import event_types
from agentlog.store._explore import explore_events
from agentlog.store._store import SqlStore

from .helpers import event, message

DAY = 86_400.0


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (parse_ts(r["ts"]), r["id"])


def _spread(seed: int, n: int = 120) -> list[dict[str, Any]]:
    """Events of many types over a year, some sessionless, a third sharing their time with
    another (so that the id decides), each with its own id."""
    rnd = random.Random(seed)
    recs: list[dict[str, Any]] = []
    for i in range(n):
        at = recs[-1]["_at"] if recs and rnd.random() < 0.3 else rnd.uniform(-365 * DAY, 0)
        rec = event(rnd.choice(["s1", "s2", None]), at, type=f"t{rnd.randrange(9)}",
                    name=rnd.choice(["a", "b", "rare"] if i % 17 == 0 else ["a", "b"]),
                    status="error" if i % 23 == 0 else "ok", id=f"e{rnd.randrange(10**9):09d}")  # fmt: skip
        rec["_at"] = at
        recs.append(rec)
    for rec in recs:
        del rec["_at"]
    return recs


def _walk(read: Any) -> list[str]:
    seen, cursor = [], None
    while True:
        page = read(cursor)
        items = getattr(page, "events", None) or page.items
        seen += [e.id for e in items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_event_types_are_the_project_s_own(store: SqlStore) -> None:
    store.ingest([event("s1", 1, type="b"), event("s1", 2, type="a"), event("s1", 3, type="b")])
    store.ingest([event("s9", 1, type="c")], project="other")
    with store._tx() as conn:
        assert event_types(conn, "default") == ["a", "b"]
        assert event_types(conn, "none") == []


def test_the_whole_project_walks_in_time_order_across_types(store: SqlStore) -> None:
    recs = _spread(1)
    assert not store.ingest([*recs, message("s1", -5 * DAY)]).rejected
    events = sorted(recs, key=_key)
    msg_first = [r["id"] for r in events]
    got = _walk(lambda c: store.iterate_events(cursor=c, limit=7))
    assert [i for i in got if i.startswith("e")] == msg_first
    assert len(got) == len(recs) + 1
    newest = _walk(lambda c: explore_events(store, cursor=c, limit=6))
    assert newest == msg_first[::-1]
    oldest = _walk(lambda c: explore_events(store, cursor=c, limit=5, time_desc=False))
    assert oldest == msg_first


def test_a_rare_name_or_outcome_is_found_however_far_apart(store: SqlStore) -> None:
    recs = _spread(2, n=300)
    assert not store.ingest(recs).rejected
    ordered = sorted(recs, key=_key)
    for kwargs, wanted in (({"name": "rare"}, lambda r: r["name"] == "rare"),
                           ({"status": "error"}, lambda r: r["status"] == "error"),
                           ({"status": "ok", "name": "a"},
                            lambda r: r["status"] == "ok" and r["name"] == "a")):  # fmt: skip
        expected = [r["id"] for r in ordered if wanted(r)]
        assert expected, kwargs
        desc = _walk(lambda c, kw=kwargs: explore_events(store, cursor=c, limit=4, **kw))
        assert desc == expected[::-1], kwargs
        asc = _walk(lambda c, kw=kwargs: explore_events(store, cursor=c, limit=3,
                                                        time_desc=False, **kw))  # fmt: skip
        assert asc == expected, kwargs


def test_a_filtered_read_keeps_to_its_time_range(store: SqlStore) -> None:
    recs = _spread(3, n=200)
    store.ingest(recs)
    since, until = recs[10]["ts"], recs[20]["ts"]
    lo, hi = sorted((parse_ts(since), parse_ts(until)))
    expected = [r["id"] for r in sorted(recs, key=_key)
                if lo <= parse_ts(r["ts"]) < hi and r["name"] == "a"]  # fmt: skip
    since, until = sorted((since, until), key=parse_ts)
    got = _walk(lambda c: explore_events(store, name="a", since=since, until=until, cursor=c,
                                         limit=4, time_desc=False))  # fmt: skip
    assert got == expected


def test_context_of_a_sessionless_event_keeps_to_the_sessionless(store: SqlStore) -> None:
    recs = _spread(4)
    store.ingest(recs)
    loose = [r["id"] for r in sorted(recs, key=_key) if r["session_id"] is None]
    pos = len(loose) // 2
    ctx = store.event_context(loose[pos], before=3, after=2)
    assert [i.id for i in ctx.before] == loose[pos - 3 : pos]
    assert [i.id for i in ctx.after] == loose[pos + 1 : pos + 3]


def test_items_at_one_microsecond_page_by_id_across_types(store: SqlStore) -> None:
    # Five events of five types at the very same time: pages of two cut between them, and
    # each page takes up after the cursor's id at that microsecond, both ways.
    same = [event("s1", 50, type=f"t{i}", name="rare", id=f"e{4 - i}") for i in range(5)]
    store.ingest([*same, event("s1", 10, type="t9", name="a"), event("s1", 90, name="a")])
    ids = sorted(r["id"] for r in same)
    newest = _walk(lambda c: explore_events(store, name="rare", cursor=c, limit=2))
    assert newest == ids[::-1]
    oldest = _walk(lambda c: explore_events(store, name="rare", cursor=c, limit=2,
                                            time_desc=False))  # fmt: skip
    assert oldest == ids
    walked = _walk(lambda c: store.iterate_events(cursor=c, limit=2))
    assert walked[1:6] == ids
    assert _walk(lambda c: explore_events(store, cursor=c, limit=2))[1:6] == ids[::-1]
