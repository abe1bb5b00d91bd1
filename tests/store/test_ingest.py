from __future__ import annotations

import random

import pytest

from agentlog.store._store import SqlStore

from .helpers import event, message, session, ts


def test_valid_records_are_accepted_and_readable(store: SqlStore) -> None:
    recs = [session("s1", name="a"), event("s1", 1), message("s1", 2)]
    result = store.ingest(recs)
    assert result.accepted == [r["id"] for r in recs]
    assert result.rejected == []
    assert store.get_session("s1").name == "a"
    assert len(store.get_events("s1").items) == 1


def test_malformed_record_is_rejected_naming_the_field_and_the_rest_kept(store: SqlStore) -> None:
    bad = event("s1", 2)
    del bad["ts"]
    worse = event("s1", 3, data=[1, 2])
    result = store.ingest([session("s1"), bad, event("s1", 1), worse, "nope"])
    assert [r.index for r in result.rejected] == [1, 3, 4]
    assert result.rejected[0].id == bad["id"] and result.rejected[0].reason.startswith("ts:")
    assert result.rejected[1].reason.startswith("data:")
    assert "JSON object" in result.rejected[2].reason
    assert len(result.accepted) == 2
    assert len(store.get_events("s1").items) == 1


def test_sending_a_batch_twice_changes_nothing(store: SqlStore) -> None:
    recs = [session("s1", configs={"a": 1}), event("s1", 1), message("s1", 2),
            {"kind": "session", "id": "s1", "status": "success", "ended_at": ts(5)}]  # fmt: skip
    store.ingest(recs)
    before = (store.get_session("s1"), store.get_events("s1"), store.get_messages("s1"))
    again = store.ingest(recs)
    assert len(again.accepted) == 4
    assert (store.get_session("s1"), store.get_events("s1"), store.get_messages("s1")) == before


def test_a_batch_mixing_stored_and_new_records_stores_and_counts_only_the_new(
    store: SqlStore,
) -> None:
    old = [session("s1"), event("s1", 1), message("s1", 2)]
    store.ingest(old)
    new = [event("s1", 3), message("s1", 4)]
    result = store.ingest([*old, *new])
    assert len(result.accepted) == 5 and result.rejected == []
    assert len(store.get_events("s1").items) == 2 and len(store.get_messages("s1").items) == 2
    assert sum(c.count for c in store.event_counts(days=3650, bucket="day")) == 4


def test_session_records_merge_and_a_replayed_start_does_not_reopen(store: SqlStore) -> None:
    start = session("s1", name="run", user="u", configs={"a": 1})
    end = {"kind": "session", "id": "s1", "status": "error", "summary": "boom",
           "ended_at": ts(9), "started_at": ts(0)}  # fmt: skip
    store.ingest([start, end])
    store.ingest([start])
    s = store.get_session("s1")
    assert (s.name, s.user, s.configs, s.status, s.summary) == (
        "run",
        "u",
        {"a": 1},
        "error",
        "boom",
    )
    assert s.started_at == ts(0) and s.ended_at == ts(9)


def test_events_before_their_session_record_make_a_stub_then_merge(store: SqlStore) -> None:
    store.ingest([event("s1", 5)])
    assert store.get_session("s1").status == "running"
    store.ingest([session("s1", at=1, name="late")])
    s = store.get_session("s1")
    assert (s.name, s.started_at) == ("late", ts(1))


def test_records_for_another_projects_session_are_rejected(store: SqlStore) -> None:
    store.ingest([session("s1")], project="a")
    result = store.ingest([session("s1"), event("s1", 1), event(None, 2)], project="b")
    assert [r.index for r in result.rejected] == [0, 1]
    assert "another project" in result.rejected[0].reason
    assert len(result.accepted) == 1


def test_data_of_one_project_is_invisible_from_another(store: SqlStore) -> None:
    store.ingest([session("s1"), event("s1", 1), message("s1", 2)], project="a")
    assert store.list_sessions(project="b").items == []
    with pytest.raises(LookupError):
        store.get_session("s1", project="b")
    with pytest.raises(LookupError):
        store.get_events("s1", project="b")
    assert store.iterate_events(project="b").events == []


def test_a_stub_session_starts_at_its_earliest_item_across_batches(store: SqlStore) -> None:
    store.ingest([event("s1", 5)])
    store.ingest([event("s1", 2)])
    assert store.get_session("s1").started_at == ts(2)


def test_empty_batch_is_an_empty_result(store: SqlStore) -> None:
    result = store.ingest([])
    assert (result.accepted, result.rejected) == ([], [])
    assert store.list_sessions().items == []


def test_staging_tables_of_a_rolled_back_transaction_are_made_again(pg_schema: str) -> None:
    from agentlog.store.postgres import PostgresStore

    from .conftest import PG_URL

    # One connection, so the second transaction runs where the first one rolled back.
    store = PostgresStore(PG_URL, schema=pg_schema, processing=False, max_size=1)
    try:
        with pytest.raises(RuntimeError), store._tx(write=True) as conn:
            store._staging(conn)
            raise RuntimeError("the batch failed after the staging tables were made")
        result = store.ingest([session("staged"), event("staged", 1)])
        assert len(result.accepted) == 2 and result.rejected == []
    finally:
        store.close()


# Random CJK characters: 15,000 bytes that no compression brings under the 2,704 bytes of
# PostgreSQL's largest index entry.
_LONG = "".join(map(chr, random.Random(5).choices(range(0x4E00, 0x9FFF), k=5000)))


@pytest.mark.parametrize(
    ("field", "record"),
    [
        ("session_id", event(_LONG, 3)),
        ("name", event("s1", 3, name=_LONG)),
        ("session_id", message(_LONG, 3)),
        ("role", message("s1", 3, role=_LONG)),
        ("user", session("s2", user=_LONG)),
        ("parent_session_id", session("s2", parent_session_id=_LONG)),
    ],
)
def test_an_overlong_value_that_indexes_hold_is_rejected_on_its_own(
    store: SqlStore, field: str, record: dict[str, object]
) -> None:
    # Values that go into an index are held to 200 characters, as ids are: longer ones used
    # to fail the whole batch on PostgreSQL ("index row size exceeds maximum").
    good = [session("s1"), event("s1", 1), message("s1", 2)]
    result = store.ingest([*good, record])
    assert [(r.index, r.id) for r in result.rejected] == [(3, record["id"])]
    assert result.rejected[0].reason.startswith(f"{field}: String should have at most 200")
    assert result.accepted == [r["id"] for r in good]
    assert len(store.get_events("s1").items) == 1 and len(store.get_messages("s1").items) == 1


@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("name", event("s1", 3, name="a\x00b")),
        ("type", event("s1", 3, type="a\x00b")),
        ("session_id", event("s\x003", 3)),
        ("user", session("s2", user="a\x00b")),
        ("configs.k", session("s2", configs={"k": "\x00"})),
    ],
)
def test_a_nul_character_is_refused_on_its_own_where_the_database_cannot_store_it(
    store: SqlStore, path: str, record: dict[str, object]
) -> None:
    # PostgreSQL keeps NUL in neither text nor JSONB: such a record used to fail its batch.
    good = [session("s1"), event("s1", 1), message("s1", 2)]
    result = store.ingest([*good, record])
    if store.dialect == "postgres":
        assert [(r.index, r.id) for r in result.rejected] == [(3, record["id"])]
        assert result.rejected[0].reason == (
            f"{path}: contains a NUL character (\\u0000), which cannot be stored"
        )
        assert result.accepted == [r["id"] for r in good]
    else:  # SQLite stores it
        assert result.rejected == [] and len(result.accepted) == 4
    assert len(store.get_messages("s1").items) == 1


@pytest.mark.parametrize(
    ("path", "record"),
    [("data.s", event("s1", 3, data={"s": "\ud800"})), ("name", event("s1", 3, name="\udfff"))],
)
def test_a_lone_surrogate_is_refused_on_its_own(
    store: SqlStore, path: str, record: dict[str, object]
) -> None:
    good = [session("s1"), event("s1", 1)]
    result = store.ingest([*good, record, event("s1", 4)])
    assert [(r.index, r.reason) for r in result.rejected] == [
        (2, f"{path}: contains a lone surrogate, which is not valid UTF-8 and cannot be stored")
    ]
    assert len(result.accepted) == 3 and len(store.get_events("s1").items) == 2


def test_a_refused_record_deep_in_a_long_batch_keeps_its_place(store: SqlStore) -> None:
    recs = [session("s1"), *(event("s1", i) for i in range(1, 700))]
    recs[600] = event("s1", 600, data={"s": "\ud800"})
    result = store.ingest(recs)
    assert [r.index for r in result.rejected] == [600]
    assert len(result.accepted) == 699


def test_a_record_nested_too_deep_to_store_is_refused_on_its_own(store: SqlStore) -> None:
    data: dict[str, object] = {}
    inner = data
    for _ in range(3000):  # checking and writing it used to fail the batch (RecursionError)
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    deep = event("s1", 2, data=data)
    result = store.ingest([session("s1"), event("s1", 1), deep, event("s1", 3)])
    assert [r.index for r in result.rejected] == [2]
    assert "nested more than 500 levels deep" in result.rejected[0].reason
    assert result.rejected[0].reason.startswith("data.a.a.")
    assert len(store.get_events("s1").items) == 2


def test_a_record_nested_deeper_than_stored_values_go_is_refused_when_parsed(
    store: SqlStore,
) -> None:
    # What the collector does (parse, then store): JSON from the wire nests up to 1,024 levels,
    # and writing ~1,000 of them raised RecursionError, failing the batch with a 500.
    data: dict[str, object] = {}
    inner = data
    for _ in range(1000):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    batch = store.parse_ingest([session("s1"), event("s1", 1), event("s1", 2, data=data)])
    [result] = store.ingest_parsed([batch])
    assert [r.index for r in result.rejected] == [2]
    assert result.rejected[0].reason.endswith("is nested more than 500 levels deep, which "
                                              "cannot be stored")  # fmt: skip
    assert len(store.get_events("s1").items) == 1
