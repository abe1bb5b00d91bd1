"""What only the PostgreSQL backend does on its ingest path: its staging tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agentlog.store._store import SqlStore

from .conftest import PG_URL
from .helpers import event, message, session

pytestmark = pytest.mark.parametrize("backend", ["postgres"])


@pytest.fixture
def single(store: SqlStore, pg_schema: str) -> Iterator[SqlStore]:
    """A store of one connection (after ``store`` emptied the tables): what ``_tx`` sees
    is the connection ingest ran on, temporary tables and all."""
    from agentlog.store.postgres import PostgresStore

    one = PostgresStore(PG_URL, schema=pg_schema, min_size=1, max_size=1, processing=False)
    yield one
    one.close()


def _temporary_tables(store: SqlStore) -> list[str]:
    with store._tx() as conn:
        rows = conn.q("SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() "
                      "AND relkind = 'r' ORDER BY 1")  # fmt: skip
    return [name for (name,) in rows]


def _batch() -> list[dict[str, Any]]:
    usage = {"input_tokens": 100, "output_tokens": 10}
    return [session("p1"), event("p1", 1, "tool_call", name="search"),
            event("p1", 2, "llm_call", data={"model": "gpt-4o", "usage": usage}),
            message("p1", 3)]  # fmt: skip


SUMS = ["_new_counts", "_new_hours"]  # the staging tables every batch uses


def test_new_records_leave_only_the_sums_staging_tables(single: SqlStore) -> None:
    # A transaction that touches a temporary table empties every ON COMMIT DELETE ROWS one
    # at its commit (~0.2 ms each, while it holds the count rows other writers wait for).
    result = single.ingest(_batch())
    assert len(result.accepted) == 4
    assert _temporary_tables(single) == SUMS
    counted = single.event_counts(days=36500, bucket="session")
    assert sum(c.count for c in counted) == 3  # two events and a message, counted once


def test_a_resent_batch_is_counted_once_and_its_staging_tables_dropped(single: SqlStore) -> None:
    batch = _batch()
    single.ingest(batch)
    again = single.ingest([*batch, event("p1", 4, "step")])
    assert again.rejected == []
    assert _temporary_tables(single) == SUMS
    counted = single.event_counts(days=36500, bucket="session")
    assert sum(c.count for c in counted) == 4


def test_pipelined_statements_are_sent_without_waiting_for_their_answers(store: SqlStore) -> None:
    # What lets the writes from the sessions to the counts cost one round trip: a statement
    # inside returns before the server answered, and its error surfaces when the block ends.
    import psycopg

    went_on = False
    with pytest.raises(psycopg.errors.DivisionByZero), store._tx(write=True) as conn:
        with conn.pipelined():
            conn.many("SELECT 1 / ?", [(0,)])
            went_on = True
    assert went_on


def test_statements_sent_together_answer_each_in_order_in_one_transaction(store: SqlStore) -> None:
    # The session claim's inserts and locking reads go as one round trip (with the BEGIN):
    # each statement still sees what the one before it did.
    with store._tx(write=True) as conn:
        inserted, read = conn.q_each([
            ("INSERT INTO sessions (id, project, sort_us) VALUES (?, ?, ?) RETURNING id",
             ["qe1", "default", 1]),
            ("SELECT id, sort_us FROM sessions WHERE id = ? FOR UPDATE", ["qe1"]),
        ])  # fmt: skip
        in_tx = conn.q("SELECT now() = statement_timestamp()")[0][0]
    assert (inserted, read) == ([("qe1",)], [("qe1", 1)])
    assert in_tx is False  # the statements ran inside the transaction the BEGIN opened


def test_a_transaction_left_by_an_error_is_rolled_back_and_its_connection_reused(
    single: SqlStore,
) -> None:
    # Transactions begin with their first statement and end by an explicit commit or
    # rollback (no psycopg Transaction block): an error must still undo everything.
    with pytest.raises(RuntimeError), single._tx(write=True) as conn:
        conn.run("INSERT INTO sessions (id, project, sort_us) VALUES (?, ?, ?)", ("rb1", "p", 1))
        raise RuntimeError("the caller failed mid-transaction")
    with single._tx() as conn:
        assert conn.q("SELECT id FROM sessions WHERE id = ?", ("rb1",)) == []
    assert single.ingest([session("rb2")]).accepted == ["rb2"]


def test_a_measured_ingest_times_the_pipelined_writes_apart_from_the_commit(
    single: SqlStore,
) -> None:
    # benchmarks/store_bench.py --phases: the sessions' and counts' statements go as one
    # pipeline, so the server's time for them is only seen where its answers are awaited.
    single.phase_times = {}
    single.ingest(_batch())
    times = single.phase_times
    single.phase_times = None
    assert times["pipeline"] > 0
    assert times["commit"] > times["pipeline"]  # the commit's phase holds it
    assert sum(c.count for c in single.event_counts(days=36500, bucket="session")) == 3
