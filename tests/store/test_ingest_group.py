"""``ingest_group``: several batches in one transaction, each answered as if alone."""

from __future__ import annotations

from agentlog.store._store import SqlStore

from .helpers import event, message, session


def _total(store: SqlStore, project: str = "default") -> int:
    return sum(c.count for c in store.event_counts(days=3650, bucket="day", project=project))


def test_each_batch_gets_its_own_result_with_its_own_indices(store: SqlStore) -> None:
    store.ingest([session("theirs")], project="other")
    first = [session("s1"), event("s1", 1), message("s1", 2)]
    bad = event("s1", 3)
    del bad["ts"]
    second = [event("s1", 4), bad, event("theirs", 5), event("s1", 6)]
    one, two = store.ingest_group([(first, "default"), (second, "default")])
    assert one.accepted == [r["id"] for r in first] and one.rejected == []
    assert two.accepted == [second[0]["id"], second[3]["id"]]
    assert [(r.index, r.status) for r in two.rejected] == [(1, 422), (2, 409)]
    assert len(store.get_events("s1").items) == 3


def test_batches_of_several_projects_land_in_their_own(store: SqlStore) -> None:
    a = [session("shared"), event("shared", 1)]
    b = [event("mine", 2), event("shared", 3)]
    ra, rb = store.ingest_group([(a, "pa"), (b, "pb")])
    assert ra.rejected == [] and len(ra.accepted) == 2
    assert rb.accepted == [b[0]["id"]]
    assert [(r.index, r.status) for r in rb.rejected] == [(1, 409)]
    assert [e.id for e in store.get_events("shared", project="pa").items] == [a[1]["id"]]
    assert [e.id for e in store.get_events("mine", project="pb").items] == [b[0]["id"]]


def test_a_record_in_two_batches_is_stored_and_counted_once(store: SqlStore) -> None:
    ev = event("s1", 1)
    one, two = store.ingest_group([([session("s1"), ev], "default"), ([ev], "default")])
    assert ev["id"] in one.accepted and two.accepted == [ev["id"]]
    assert len(store.get_events("s1").items) == 1
    assert _total(store) == 1


def test_a_group_of_one_is_plain_ingest(store: SqlStore) -> None:
    recs = [session("s1"), event("s1", 1)]
    (result,) = store.ingest_group([(recs, "default")])
    assert result == store.ingest(recs)
