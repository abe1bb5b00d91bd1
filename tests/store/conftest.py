"""One contract suite over both backends.

PostgreSQL runs against the server named by ``AGENTLOG_TEST_POSTGRES`` (default: the local test
database) in a schema made for this test run and dropped after it. When it is unreachable the
PostgreSQL tests are skipped, except under CI (the ``CI`` variable set), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlog.store._rollup import ROLLUPS
from agentlog.store._store import SqlStore
from agentlog.store.sqlite import SqliteStore

PG_URL = os.environ.get("AGENTLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]
MakeStore = Callable[..., SqlStore]


def _pg_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} unreachable: {exc}"


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    problem = _pg_reachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from agentlog.store.postgres import PostgresStore

    schema = f"agentlog_test_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(PG_URL, schema=schema, processing=False)
    yield schema
    store.drop_schema()


@pytest.fixture(scope="session")
def pg_shared(pg_schema: str) -> Iterator[SqlStore]:
    from agentlog.store.postgres import PostgresStore

    store = PostgresStore(PG_URL, schema=pg_schema, processing=False, max_size=12)
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """Open another store on this test's database (e.g. with other processing options)."""
    opened: list[SqlStore] = []

    def make(**options: Any) -> SqlStore:
        options.setdefault("processing", False)
        if backend == "sqlite":
            store: SqlStore = SqliteStore(tmp_path / "agentlog.db", **options)
        else:
            from agentlog.store.postgres import PostgresStore

            schema = request.getfixturevalue("pg_schema")
            store = PostgresStore(PG_URL, schema=schema, max_size=4, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(backend: str, make_store: MakeStore, request: pytest.FixtureRequest) -> SqlStore:
    """An empty store of the backend, without a processing worker."""
    if backend == "sqlite":
        return make_store()
    shared: SqlStore = request.getfixturevalue("pg_shared")
    with shared._tx(write=True) as conn:
        conn.run(
            f"TRUNCATE sessions, events, messages, scores, session_scores, llm_costs, "
            f"cost_hours, {', '.join(ROLLUPS)}"
        )
    return shared
