"""A session id belongs to exactly one project, under any interleaving of concurrent writers.

Two threads, each with its own connection, ingest records naming the same new session id for
two projects at the same moment, many rounds over. Without a claim that waits on the other
transaction, the second writer's upsert overwrote the first's row on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from agentlog._ids import new_id_str
from agentlog.store import IngestResult
from agentlog.store._store import SqlStore

from .helpers import event, message, session

ROUNDS = 40


def _race(store: SqlStore, batches: dict[str, list[dict[str, Any]]]) -> dict[str, IngestResult]:
    """Ingest each project's batch in its own thread, released together."""
    gate = threading.Barrier(len(batches))
    results: dict[str, IngestResult] = {}
    errors: list[BaseException] = []

    def run(project: str, records: list[dict[str, Any]]) -> None:
        try:
            gate.wait(timeout=10.0)
            results[project] = store.ingest(records, project=project)
        except BaseException as exc:  # surfaced below: a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=run, args=item) for item in batches.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30.0)
    assert not errors, errors
    return results


def _owner(store: SqlStore, sid: str) -> list[str]:
    owners = []
    for project in ("a", "b"):
        try:
            store.get_session(sid, project=project)
        except LookupError:
            continue
        owners.append(project)
    return owners


def _sessions(sid: str, p: str) -> list[dict[str, Any]]:
    return [session(sid, name=f"name-{p}", user=f"user-{p}", configs={"project": p})]


def _with_items(sid: str, p: str) -> list[dict[str, Any]]:
    return [session(sid, name=f"name-{p}"), event(sid, 1), message(sid, 2)]


def _items_only(sid: str, p: str) -> list[dict[str, Any]]:
    return [event(sid, 1, name=f"name-{p}"), message(sid, 2)]


Make = Callable[[str, str], list[dict[str, Any]]]
SHAPES: dict[str, Make] = {
    "session records": _sessions,
    "session and its events": _with_items,
    "events only": _items_only,
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_concurrent_projects_never_share_a_session_id(
    store: SqlStore, make_store: Callable[..., SqlStore], shape: str
) -> None:
    other = make_store() if store.dialect == "sqlite" else store  # SQLite: a second connection
    make = SHAPES[shape]
    for _ in range(ROUNDS):
        sid = new_id_str()
        batches = {"a": make(sid, "a"), "b": make(sid, "b")}
        results = _race(store if other is store else other, batches)
        owners = _owner(store, sid)
        assert len(owners) == 1, owners
        winner = owners[0]
        loser = "b" if winner == "a" else "a"
        assert len(results[winner].accepted) == len(batches[winner])
        assert results[loser].accepted == []
        lost = results[loser].rejected
        assert len(lost) == len(batches[loser])
        assert all(r.status == 409 and "another project" in r.reason for r in lost)
        s = store.get_session(sid, project=winner)
        if shape == "session records":
            assert (s.name, s.user, s.configs) == (f"name-{winner}", f"user-{winner}",
                                                   {"project": winner})  # fmt: skip
        items = store.iterate_events(session_id=sid, project=winner, limit=100).events
        assert {i.id for i in items} <= {r["id"] for r in batches[winner]}
        leaked = store.iterate_events(project=loser, limit=1000).events
        assert [i for i in leaked if i.session_id == sid] == []


def _create(store: SqlStore, sid: str, gate: threading.Barrier, outcome: list[object]) -> None:
    gate.wait(timeout=10.0)
    try:
        outcome.append(store.create_session(id=sid, name="created", project="a"))
    except Exception as exc:  # the conflict, asserted by the caller
        outcome.append(exc)


def test_create_session_racing_ingest_keeps_one_owner(store: SqlStore) -> None:
    for _ in range(ROUNDS):
        sid = new_id_str()
        gate = threading.Barrier(2)
        outcome: list[object] = []
        t = threading.Thread(target=_create, args=(store, sid, gate, outcome))
        t.start()
        gate.wait(timeout=10.0)
        result = store.ingest([session(sid, name="ingested")], project="b")
        t.join(30.0)
        owners = _owner(store, sid)
        assert len(owners) == 1
        if owners == ["a"]:
            assert result.rejected and result.rejected[0].status == 409
            assert store.get_session(sid, project="a").name == "created"
        else:
            assert isinstance(outcome[0], Exception) and "another project" in str(outcome[0])
            assert store.get_session(sid, project="b").name == "ingested"
