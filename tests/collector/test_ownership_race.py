"""Two projects posting a session with the same new id to a real collector at the same moment:
one owns it, the other's records are rejected with status 409, and nothing leaks across."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from agentlog._ids import new_id_str
from agentlog.collector import KeyRing, create_app
from agentlog.store import Store

from .conftest import KEYS, A, B, event, session
from .servers import ThreadServer

ROUNDS = 30


def _post(http: httpx.Client, sid: str, project: str, headers: dict[str, str],
          gate: threading.Barrier, answers: dict[str, Any]) -> None:  # fmt: skip
    records = [session(sid, name=f"run-{project}", user=project, configs={"p": project}),
               event(sid, new_id_str())]  # fmt: skip
    gate.wait(timeout=10.0)
    answers[project] = http.post("/v1/ingest", json={"records": records}, headers=headers)


def test_racing_projects_get_one_owner_and_a_409_for_the_loser(store: Store) -> None:
    app = create_app(store, keys=KeyRing(env=KEYS))
    with ThreadServer(app) as server, httpx.Client(base_url=server.url, trust_env=False,
                                                    timeout=30.0) as http:  # fmt: skip
        for _ in range(ROUNDS):
            sid = new_id_str()
            answers: dict[str, Any] = {}
            gate = threading.Barrier(2)
            threads = [threading.Thread(target=_post, args=(http, sid, p, h, gate, answers))
                       for p, h in (("a", A), ("b", B))]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join(30.0)
            assert {r.status_code for r in answers.values()} == {200}
            seen = {p: http.get(f"/v1/sessions/{sid}", headers=h) for p, h in (("a", A), ("b", B))}
            owners = [p for p, r in seen.items() if r.status_code == 200]
            assert len(owners) == 1, {p: r.status_code for p, r in seen.items()}
            winner = owners[0]
            loser = "b" if winner == "a" else "a"
            got = seen[winner].json()
            assert (got["name"], got["user"], got["configs"]) == (f"run-{winner}", winner,
                                                                  {"p": winner})  # fmt: skip
            assert seen[loser].status_code == 404
            lost = answers[loser].json()
            assert lost["accepted"] == []
            assert [r["status"] for r in lost["rejected"]] == [409, 409]
            assert len(answers[winner].json()["accepted"]) == 2
