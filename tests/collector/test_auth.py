from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from agentlog.collector import KeyRing, create_app, create_key
from agentlog.collector.auth import digest, parse_keys
from agentlog.store import Store

from .conftest import KEY_A, A, B, event, make_client, session


def test_parse_keys_maps_digests_to_projects() -> None:
    keys = parse_keys("secret-one:p1, secret-two:p2", source="env", sep=",")
    assert keys == {digest("secret-one"): "p1", digest("secret-two"): "p2"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("nocolon", "expected key:project"),
        ("short:p", "at least 8 characters"),
        ("long-enough-key:bad project", "project 'bad project'"),
        ("sha256:abc:p", "64 hex digits"),
    ],
)
def test_parse_keys_names_the_bad_entry(text: str, words: str) -> None:
    with pytest.raises(ValueError, match="entry 1") as info:
        parse_keys(text, source="keys.txt")
    assert words in str(info.value)


def test_created_key_is_stored_hashed_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    key = create_key("team-a", path=path)
    text = path.read_text()
    assert key not in text and text == f"sha256:{digest(key)}:team-a\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert KeyRing(path=path).project_for(key) == "team-a"


def test_a_keys_file_is_read_again_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agentlog.collector.auth as auth

    monkeypatch.setattr(auth, "_RECHECK", 0.0)
    path = tmp_path / "keys"
    first = create_key("p1", path=path)
    ring = KeyRing(path=path)
    second = create_key("p2", path=path)
    assert ring.project_for(second) == "p2" and ring.project_for(first) == "p1"


def test_without_keys_the_app_refuses_to_start(store: Store) -> None:
    with pytest.raises(ValueError, match="no API keys"):
        create_app(store, keys=KeyRing())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key-123"},
        {"Authorization": f"Basic {KEY_A}"},
        {"Authorization": "Bearer "},
    ],
    ids=["no-key", "wrong-key", "wrong-scheme", "empty"],
)
def test_requests_without_a_valid_key_are_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/v1/sessions"), ("POST", "/v1/ingest"),
                         ("GET", "/v1/query/event_counts"), ("GET", "/v1/sessions/x/events")]:  # fmt: skip
        r = client.request(method, path, headers=headers, content=b"{not json")
        assert r.status_code == 401, (method, path)
        assert r.headers["www-authenticate"] == "Bearer"
        assert "API key" in r.json()["error"]["message"]


def test_health_and_openapi_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert "/v1/ingest" in client.get("/openapi.json").json()["paths"]


def _b_session(client: TestClient) -> str:
    r = client.post("/v1/ingest", headers=B,
                    content=orjson.dumps({"records": [session("sb", user="bob"),
                                                      event("sb", "eb")]}))  # fmt: skip
    assert r.json()["accepted"] == ["sb", "eb"]
    return "sb"


def test_a_session_of_another_project_looks_nonexistent(client: TestClient) -> None:
    sid = _b_session(client)
    unknown = "no-such-session"
    for method, tail, body in [
        ("GET", "", None), ("DELETE", "", None), ("POST", "/copy", None),
        ("POST", "/close", {"status": "error"}), ("GET", "/configs", None),
        ("PUT", "/configs", {"configs": {"x": 1}}), ("PATCH", "/configs", {"configs": {"x": 1}}),
        ("GET", "/events", None), ("POST", "/events", {"type": "note"}),
        ("GET", "/messages", None), ("POST", "/messages", {"blob": {"role": "user"}}),
        ("GET", "/messages/status", None), ("POST", "/flush", None),
    ]:  # fmt: skip
        theirs = client.request(method, f"/v1/sessions/{sid}{tail}", headers=A, json=body)
        nothing = client.request(method, f"/v1/sessions/{unknown}{tail}", headers=A, json=body)
        assert theirs.status_code == nothing.status_code == 404, (method, tail)
        assert theirs.json()["error"]["message"] == nothing.json()["error"]["message"].replace(
            unknown, sid
        )
    assert client.get("/v1/events/eb/context", headers=A).status_code == 404
    # Still all there for its owner.
    assert client.get(f"/v1/sessions/{sid}/events", headers=B).json()["items"][0]["id"] == "eb"


def test_reads_across_the_project_see_only_its_own_data(client: TestClient) -> None:
    _b_session(client)
    assert client.get("/v1/sessions", headers=A).json()["items"] == []
    assert client.get("/v1/sessions", headers=B, params={"user": "bob"}).json()["items"]
    assert client.get("/v1/query/event_counts", headers=A,
                      params={"bucket": "session", "days": 36500}).json() == []  # fmt: skip
    assert client.get("/v1/query/iterate_events", headers=A).json()["events"] == []


def test_creating_another_projects_session_id_is_409(client: TestClient) -> None:
    sid = _b_session(client)
    r = client.post("/v1/sessions", headers=A, json={"id": sid})
    assert r.status_code == 409 and "another project" in r.json()["error"]["message"]


def test_ingest_into_another_projects_session_is_rejected_per_record(client: TestClient) -> None:
    sid = _b_session(client)
    raw = orjson.dumps({"records": [event(sid, "ea"), session("sa"), event("sa", "ea2")]})
    r = client.post("/v1/ingest", headers={**A, "Content-Encoding": "gzip"},
                    content=gzip.compress(raw))  # fmt: skip
    body = r.json()
    assert body["accepted"] == ["sa", "ea2"]
    assert body["rejected"][0]["index"] == 0 and "another project" in body["rejected"][0]["reason"]
    assert [
        e["id"] for e in client.get(f"/v1/sessions/{sid}/events", headers=B).json()["items"]
    ] == ["eb"]


def test_no_auth_puts_everything_in_the_default_project(store: Store) -> None:
    with make_client(store, keys=None, no_auth=True) as c:
        r = c.post("/v1/sessions", json={"id": "s1"})
        assert r.status_code == 200
    assert store.get_session("s1", project="default").id == "s1"
