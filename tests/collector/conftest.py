"""A collector app over a real store, driven in-process through Starlette's TestClient.

Two projects, ``a`` and ``b``, each with a key. ``backend`` runs a test on SQLite and on
PostgreSQL (a schema per test run; skipped when PostgreSQL is unreachable, failed under CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agentlog.collector import IngestLimits, KeyRing, create_app
from agentlog.store import Store, open_store

PG_URL = os.environ.get("AGENTLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
KEY_A = "key-a-0123456789"
KEY_B = "key-b-0123456789"
KEYS = f"{KEY_A}:a,{KEY_B}:b"
A = {"Authorization": f"Bearer {KEY_A}"}
B = {"Authorization": f"Bearer {KEY_B}"}


def require_postgres() -> None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} unreachable: {exc}")


@pytest.fixture(scope="session")
def pg_store() -> Iterator[Store]:
    require_postgres()
    from agentlog.store.postgres import PostgresStore

    store = PostgresStore(PG_URL, schema=f"agentlog_coll_{uuid.uuid4().hex[:10]}",
                          processing=False)  # fmt: skip
    yield store
    store.drop_schema()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(tmp_path / "collector.db", processing=False)
        yield s
        s.close()
        return
    s = request.getfixturevalue("pg_store")
    with s._tx(write=True) as conn:  # type: ignore[attr-defined]
        conn.run("TRUNCATE sessions, events, messages")
    yield s


def make_client(store: Store, **kw: Any) -> TestClient:
    kw.setdefault("keys", KeyRing(env=KEYS))
    return TestClient(create_app(store, **kw), raise_server_exceptions=False)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with make_client(store) as c:
        yield c


@pytest.fixture
def small_client(tmp_path: Path) -> Iterator[TestClient]:
    """SQLite only, with small ingest limits."""
    s = open_store(tmp_path / "small.db", processing=False)
    limits = IngestLimits(max_body_bytes=4096, max_decoded_bytes=16384, max_records=5)
    with make_client(s, limits=limits) as c:
        yield c
    s.close()


def event(sid: str, eid: str, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "kind": "event", "id": eid, "session_id": sid, "type": "tool_call",
            "name": "search", "ts": "2026-01-01T00:00:00.000000Z", "data": {"input": 1},
            **fields}  # fmt: skip


def session(sid: str, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "kind": "session", "id": sid, "name": "run", "status": "running",
            "started_at": "2026-01-01T00:00:00.000000Z", **fields}  # fmt: skip
