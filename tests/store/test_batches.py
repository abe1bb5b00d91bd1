"""``Conn.batches``: a large result a few rows at a time, on both backends; on PostgreSQL both
the chunks read as they arrive (libpq >= 17) and the whole result fetched first."""

from __future__ import annotations

import pytest

from agentlog.store import postgres
from agentlog.store._store import SqlStore

# 1..n on both backends; n is the only parameter.
SERIES = ("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
          "SELECT n, 'r' || n FROM s")  # fmt: skip


@pytest.fixture(params=[True, False], ids=["chunked", "whole"])
def chunked(request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    if backend == "sqlite" and not request.param:
        pytest.skip("SQLite reads its rows one way")
    if backend == "postgres" and request.param and not postgres.CHUNKED:
        pytest.skip("libpq < 17 or psycopg < 3.2: no chunked rows")
    monkeypatch.setattr(postgres, "CHUNKED", request.param)
    return bool(request.param)


def test_batches_hold_every_row_in_order_size_at_a_time(store: SqlStore, chunked: bool) -> None:
    with store._tx() as conn:
        sizes, rows = [], []
        for batch in conn.batches(SERIES, [1234], 500):
            sizes.append(len(batch))
            rows += batch
    assert sizes == [500, 500, 234]
    assert rows == [(n, f"r{n}") for n in range(1, 1235)]


def test_an_empty_result_has_no_batches(store: SqlStore, chunked: bool) -> None:
    with store._tx() as conn:
        assert list(conn.batches(SERIES + " WHERE n > 5", [3], 500)) == []


def test_a_transaction_left_after_one_batch_can_run_its_next_statement(
    store: SqlStore, chunked: bool
) -> None:
    with store._tx() as conn:
        batches = conn.batches(SERIES, [20_000], 100)
        assert next(batches)[0] == (1, "r1")
        batches.close()  # the rest still on its way (PostgreSQL), read and dropped
        assert conn.one("SELECT 7") == (7,)


@pytest.mark.parametrize("backend", ["postgres"])
def test_an_error_after_some_batches_is_raised_and_the_store_goes_on(
    store: SqlStore, chunked: bool
) -> None:
    # Division by zero at row 3,000: after the first chunks have been handed out.
    failing = SERIES.replace("'r' || n", "1 / (n - 3000)")
    with pytest.raises(Exception, match="division by zero"), store._tx() as conn:
        for _ in conn.batches(failing, [5000], 500):
            pass
    with store._tx() as conn:
        assert conn.one("SELECT 7") == (7,)
