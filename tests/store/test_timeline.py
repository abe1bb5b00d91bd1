from __future__ import annotations

import random

import pytest

from agentlog import InvalidInputError, NotFoundError
from agentlog.store._store import SqlStore

from .helpers import event, message, session


def test_add_event_accepts_any_type_and_requires_an_object(store: SqlStore) -> None:
    store.create_session(id="s1")
    ev = store.add_event("s1", type="compaction", name="c", data={"tokens_before": 9})
    assert (ev.type, ev.name, ev.data) == ("compaction", "c", {"tokens_before": 9})
    with pytest.raises(InvalidInputError, match="data"):
        store.add_event("s1", type="x", data=[1])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="type"):
        store.add_event("s1", type="")
    with pytest.raises(NotFoundError):
        store.add_event("nope", type="x")


def test_get_events_pages_filters_and_orders(store: SqlStore) -> None:
    recs = [event("s1", i, type="tool_call" if i % 3 == 0 else "step", name=f"n{i % 2}")
            for i in range(20)]  # fmt: skip
    store.ingest([session("s1"), *recs])
    assert len(store.get_events("s1").items) == 20  # default limit 50
    ids, cursor = [], None
    while True:
        page = store.get_events("s1", limit=3, cursor=cursor, time_desc=True)
        ids += [e.id for e in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert ids == [r["id"] for r in reversed(recs)]
    tools = store.get_events("s1", type="tool_call").items
    assert [e.id for e in tools] == [r["id"] for r in recs if r["type"] == "tool_call"]
    named = store.get_events("s1", type=["tool_call", "step"], name="n1").items
    assert [e.id for e in named] == [r["id"] for r in recs if r["name"] == "n1"]


def test_store_message_reads_the_role_from_the_blob(store: SqlStore) -> None:
    store.create_session(id="s1")
    m = store.store_message("s1", {"role": "assistant", "content": [{"type": "text"}]},
                            format="anthropic")  # fmt: skip
    assert (m.role, m.type, m.format) == ("assistant", "assistant", "anthropic")
    assert store.store_message("s1", "plain text", format="raw").role == "user"
    with pytest.raises(InvalidInputError, match="role"):
        store.store_message("s1", {"content": "x"})
    with pytest.raises(InvalidInputError, match="format"):
        store.store_message("s1", {"role": "user"}, format="xml")


def _timeline(
    store: SqlStore, seed: int, n_msgs: int, n_events: int
) -> tuple[list[str], list[str]]:
    rnd = random.Random(seed)
    times = sorted(rnd.uniform(0, 100) for _ in range(n_msgs + n_events))
    kinds = ["m"] * n_msgs + ["e"] * n_events
    rnd.shuffle(kinds)
    recs = [
        message("s1", t) if k == "m" else event("s1", t) for t, k in zip(times, kinds, strict=True)
    ]
    store.ingest([session("s1"), *recs])
    return ([r["id"] for r in recs if r["kind"] == "message"],
            [r["id"] for r in recs if r["kind"] == "event"])  # fmt: skip


@pytest.mark.parametrize("time_desc", [False, True])
@pytest.mark.parametrize(
    ("seed", "n_msgs", "n_events"), [(1, 17, 40), (2, 5, 0), (3, 1, 9), (4, 12, 3)]
)
def test_message_pages_tile_the_events(store: SqlStore, time_desc: bool, seed: int,
                                       n_msgs: int, n_events: int) -> None:  # fmt: skip
    msgs, events = _timeline(store, seed, n_msgs, n_events)
    got_m: list[str] = []
    got_e: list[str] = []
    cursor = None
    while True:
        page = store.get_messages("s1", limit=4, cursor=cursor, time_desc=time_desc,
                                  with_events=True)  # fmt: skip
        got_m += [m.id for m in page.items]
        got_e += [e.id for e in page.events]
        if page.items and page.has_more:  # events of a page end at its last message
            last = (page.items[-1].ts, page.items[-1].id)
            assert all(((e.ts, e.id) <= last) != time_desc for e in page.events)
        if not page.has_more:
            break
        cursor = page.next_cursor
    order = (lambda x: list(reversed(x))) if time_desc else list
    assert got_m == order(msgs)
    assert got_e == order(events)  # every event on exactly one page, in order


def test_without_messages_events_come_in_pages_of_max_events(store: SqlStore) -> None:
    _, events = _timeline(store, 5, 0, 7)
    first = store.get_messages("s1", with_events=True, max_events=5)
    assert first.items == [] and first.has_more and len(first.events) == 5
    rest = store.get_messages("s1", with_events=True, max_events=5, cursor=first.next_cursor)
    assert not rest.has_more
    assert [e.id for e in first.events + rest.events] == events


def test_messages_without_events_flag_have_no_events(store: SqlStore) -> None:
    _timeline(store, 6, 3, 3)
    page = store.get_messages("s1")
    assert len(page.items) == 3 and page.events == []
