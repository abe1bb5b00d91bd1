"""``serve --retention`` and ``--read-db``: a real collector on uvicorn over real stores."""

from __future__ import annotations

from pathlib import Path

import httpx

from agentlog.collector import KeyRing, create_app
from agentlog.store import open_store

from .conftest import KEYS, A, event, session
from .servers import ThreadServer, wait_for

OLD = "2025-06-01T00:00:00.000000Z"  # long before the 30 days kept


def test_retention_prunes_ended_sessions_in_the_background(tmp_path: Path) -> None:
    store = open_store(tmp_path / "c.db", processing=False)
    old = [session("old", started_at=OLD), event("old", "e-old", ts=OLD),
           session("old", status="success", ended_at=OLD),
           session("alive", started_at=OLD), event("alive", "e-alive", ts=OLD)]  # fmt: skip
    store.ingest(old, project="a")
    app = create_app(store, keys=KeyRing(env=KEYS), retention=30 * 86400.0)
    with ThreadServer(app) as server, httpx.Client(base_url=server.url, trust_env=False) as http:
        wait_for(lambda: http.get("/v1/sessions/old", headers=A).status_code == 404,
                 what="the old session to be pruned")  # fmt: skip
        ids = [s["id"] for s in http.get("/v1/sessions", headers=A).json()["items"]]
        assert ids == ["alive"]  # still running: kept
    store.close()


def test_read_db_serves_reads_and_writes_go_to_db(tmp_path: Path) -> None:
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    with open_store(replica, processing=False) as r:
        r.ingest([session("only-in-replica")], project="a")
    app = create_app(str(primary), keys=KeyRing(env=KEYS), read_db=str(replica),
                     processing=False)  # fmt: skip
    with ThreadServer(app) as server, httpx.Client(base_url=server.url, trust_env=False) as http:
        body = {"records": [session("written")]}
        assert http.post("/v1/ingest", json=body, headers=A).json()["accepted"] == ["written"]
        ids = [s["id"] for s in http.get("/v1/sessions", headers=A).json()["items"]]
        assert ids == ["only-in-replica"]  # the read went to the replica
    with open_store(primary, processing=False) as p:
        assert [s.id for s in p.list_sessions(project="a").items] == ["written"]
