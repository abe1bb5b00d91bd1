"""``agentlog export``: JSONL that imports back with the same ids, and OTLP replay to a collector."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import agentlog
from agentlog import TextEvent
from agentlog.cli import main
from agentlog.client import Client, LocalTransport
from agentlog.collector import KeyRing, create_app
from agentlog.store import Store, open_store
from agentlog.testing import capture

from ._export_data import diff, read_all
from .collector.conftest import KEY_A, KEYS, PG_URL, require_postgres
from .collector.servers import ThreadServer


@agentlog.trace(type="step", name="plan")
def plan(user: str) -> None:
    agentlog.track_tool_call("search", input={"q": user}, output=["doc"])


def record(path: Path) -> list[str]:
    """Three sessions (alice, bob, alice) with events, nesting, messages and an error."""
    ids = []
    with capture() as cap:
        for user in ("alice", "bob", "alice"):
            with agentlog.session("support", user=user, configs={"team": user[0]},
                                  tags=["beta", user]) as s:  # fmt: skip
                agentlog.score("helpful", 4 if user == "bob" else True, comment="fine")
                agentlog.store_message({"role": "user", "content": f"hi from {user}"})
                plan(user)
                agentlog.track_llm_call(model="gpt-4o", response="ok",
                                        messages=[{"role": "user", "content": "hi"}],
                                        usage={"input_tokens": 3, "output_tokens": 1})  # fmt: skip
                agentlog.add_event(TextEvent(text=f"note {user}"))
                agentlog.track_error("something odd")
            ids.append(s.id)
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in cap.records))
    return ids


@pytest.fixture
def source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    ids = record(tmp_path / "recorded.jsonl")
    db = str(tmp_path / "source.db")
    assert main(["import", str(tmp_path / "recorded.jsonl"), "--db", db, "--quiet"]) == 0
    capsys.readouterr()
    return db, ids


def test_jsonl_export_imports_back_the_same(source: Any, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    db, ids = source
    out = tmp_path / "export.jsonl"
    assert main(["export", "--db", db, "--out", str(out), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "exported 3 sessions, 24 records, " in err and "records/s" in err  # progress
    assert f"exported 3 sessions, 24 records to {out}" in err
    first = out.read_bytes()
    assert main(["export", "--db", db, "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes() == first  # the same store, the same bytes
    copy = str(tmp_path / "copy.db")
    for _ in range(2):  # importing twice stores nothing twice
        assert main(["import", str(out), "--db", copy, "--quiet"]) == 0
    with Client(db=db) as a, Client(db=copy) as b:
        assert read_all(a) == read_all(b)
        assert len(read_all(b)) == 3
    lines = [orjson.loads(x) for x in first.splitlines()]
    assert [r["id"] for r in lines if r["kind"] == "session"] == ids  # oldest first


def test_filters_select_sessions(source: Any, capsys: pytest.CaptureFixture[str]) -> None:
    db, ids = source
    assert main(["export", "--db", db, "--user", "alice", "--quiet"]) == 0
    recs = [orjson.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {r["session_id"] if r["kind"] != "session" else r["id"] for r in recs} == {
        ids[0],
        ids[2],
    }
    assert main(["export", "--db", db, "--session", ids[1], "--config", "team=b", "--quiet"]) == 0
    recs = [orjson.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert recs[0] == {**recs[0], "kind": "session", "id": ids[1], "user": "bob"}
    assert main(["export", "--db", db, "--session", "nope", "--quiet"]) == 2
    assert "not found" in capsys.readouterr().err


def test_otlp_replay_into_a_collector(source: Any, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    db, _ = source
    store = open_store(tmp_path / "collector.db", processing=False)
    with ThreadServer(create_app(store, keys=KeyRing(env=KEYS))) as server:
        code = main(["export", "--db", db, "--format", "otlp", "--endpoint", server.url,
                     "--header", f"Authorization=Bearer {KEY_A}"])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        with Client(db=db) as local, Client(base_url=server.url, api_key=KEY_A) as remote:
            assert read_all(remote) == read_all(local), diff(read_all(remote), read_all(local))[:10]
            # and back out of the collector (the Client API path), record for record
            out = tmp_path / "from-collector.jsonl"
            assert main(["export", "--url", server.url, "--api-key", KEY_A, "--out", str(out),
                         "--quiet"]) == 0  # fmt: skip
            again = tmp_path / "again.db"
            assert main(["import", str(out), "--db", str(again), "--quiet"]) == 0
            with Client(db=str(again)) as back:
                assert read_all(back) == read_all(local)
    store.close()


def test_otlp_needs_an_endpoint_and_a_working_one(source: Any,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    db, _ = source
    assert main(["export", "--db", db, "--format", "otlp"]) == 2
    assert "--endpoint" in capsys.readouterr().err
    assert main(["export", "--db", db, "--format", "otlp", "--endpoint", "ftp://x"]) == 2
    assert main(["export", "--db", db, "--endpoint", "http://127.0.0.1:9"]) == 2


@pytest.fixture
def pg_store() -> Iterator[Store]:
    require_postgres()
    from agentlog.store.postgres import PostgresStore

    store = PostgresStore(PG_URL, schema=f"agentlog_export_{uuid.uuid4().hex[:10]}",
                          processing=False)  # fmt: skip
    yield store
    store.drop_schema()


def test_postgres_export_equals_sqlite_export(source: Any, pg_store: Store) -> None:
    from agentlog._export import SessionFilter, export_records

    db, _ = source
    with Client(db=db) as local:
        lines = [ln for _, chunk in export_records(local, SessionFilter()) for ln in chunk]
    result = pg_store.ingest([orjson.loads(x) for x in lines])
    assert not result.rejected
    pg = Client(transport=LocalTransport(pg_store))
    again = [ln for _, chunk in export_records(pg, SessionFilter()) for ln in chunk]
    assert [orjson.loads(x) for x in again] == [orjson.loads(x) for x in lines]
