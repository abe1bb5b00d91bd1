from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from .conftest import A, event, session

GZ = {**A, "Content-Encoding": "gzip"}


def _post(client: TestClient, body: object, *, gz: bool = True) -> object:
    raw = orjson.dumps(body)
    return client.post("/v1/ingest", content=gzip.compress(raw) if gz else raw,
                       headers=GZ if gz else A)  # fmt: skip


def _events(client: TestClient, sid: str) -> list[str]:
    r = client.get(f"/v1/sessions/{sid}/events", headers=A, params={"limit": 200})
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


def test_a_gzipped_batch_is_stored_and_reported(client: TestClient) -> None:
    r = _post(client, {"records": [session("s1"), event("s1", "e1"), event("s1", "e2")]})
    assert r.status_code == 200  # type: ignore[attr-defined]
    assert r.json() == {"accepted": ["s1", "e1", "e2"], "rejected": []}  # type: ignore[attr-defined]
    assert _events(client, "s1") == ["e1", "e2"]


def test_a_plain_json_batch_is_accepted_too(client: TestClient) -> None:
    r = _post(client, {"records": [event("s1", "e1")]}, gz=False)
    assert r.json()["accepted"] == ["e1"]  # type: ignore[attr-defined]


def test_ingest_is_idempotent_by_record_id(client: TestClient) -> None:
    batch = {"records": [session("s1"), event("s1", "e1")]}
    _post(client, batch)
    r = _post(client, batch)
    assert r.status_code == 200  # type: ignore[attr-defined]
    assert _events(client, "s1") == ["e1"]


def test_a_mixed_batch_keeps_the_valid_records(client: TestClient) -> None:
    bad_type = event("s1", "e2", ts=12)
    unknown_field = event("s1", "e3", colour="blue")
    r = _post(client, {"records": [event("s1", "e1"), bad_type, unknown_field, "nope",
                                   event("s1", "e4")]})  # fmt: skip
    assert r.status_code == 200  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["accepted"] == ["e1", "e4"]
    rejected = {x["index"]: x for x in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3]
    assert rejected[1]["id"] == "e2" and "ts" in rejected[1]["reason"]
    assert "colour" in rejected[2]["reason"]
    assert rejected[3]["id"] is None and "JSON object" in rejected[3]["reason"]
    assert _events(client, "s1") == ["e1", "e4"]


def test_a_nul_character_rejects_only_its_record(client: TestClient) -> None:
    r = _post(client, {"records": [event("s1", "e1"), event("s1", "e2", data={"x": "a\x00b"}),
                                   event("s1", "e3")]})  # fmt: skip
    body = r.json()  # type: ignore[attr-defined]
    assert body["accepted"] == ["e1", "e3"]
    assert body["rejected"][0]["index"] == 1 and "data.x" in body["rejected"][0]["reason"]
    assert _events(client, "s1") == ["e1", "e3"]


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b'{"records": [', 400, "malformed JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 422, "must be a JSON object"),
        (b'{"records": {"a": 1}}', 422, "body.records: must be a list"),
        (b'{"records": "x"}', 422, "body.records: must be a list"),
        (b'{"recs": []}', 422, "unknown field(s) 'recs'"),
        (b'{"records": [], "extra": 1}', 422, "unknown field(s) 'extra'"),
        (b"{}", 422, "body.records: field required"),
    ],
)
def test_a_malformed_body_is_refused_naming_what_was_wrong(
    client: TestClient, raw: bytes, status: int, words: str
) -> None:
    r = client.post("/v1/ingest", content=raw, headers=A)
    assert r.status_code == status
    assert words in r.json()["error"]["message"]


def test_invalid_gzip_is_a_400(client: TestClient) -> None:
    r = client.post("/v1/ingest", content=b"\x1f\x8bnot gzip at all", headers=GZ)
    assert r.status_code == 400
    assert "invalid gzip" in r.json()["error"]["message"]


def test_truncated_gzip_is_a_400(client: TestClient) -> None:
    whole = gzip.compress(orjson.dumps({"records": [event("s1", "e1")]}))
    r = client.post("/v1/ingest", content=whole[:-6], headers=GZ)
    assert r.status_code == 400
    assert "truncated gzip" in r.json()["error"]["message"]


def test_concatenated_gzip_members_are_read_whole(client: TestClient) -> None:
    raw = orjson.dumps({"records": [event("s1", "e1")]})
    parts = gzip.compress(raw[:10]) + gzip.compress(raw[10:])
    assert client.post("/v1/ingest", content=parts, headers=GZ).json()["accepted"] == ["e1"]


def test_an_unknown_content_encoding_is_a_415(client: TestClient) -> None:
    r = client.post("/v1/ingest", content=b"{}", headers={**A, "Content-Encoding": "br"})
    assert r.status_code == 415 and "br" in r.json()["error"]["message"]


def test_a_body_over_the_wire_limit_is_a_413(small_client: TestClient) -> None:
    big = {"records": [event("s1", "e1", data={"x": "y" * 5000})]}
    r = _post(small_client, big, gz=False)
    assert r.status_code == 413  # type: ignore[attr-defined]
    assert "4096 bytes" in r.json()["error"]["message"]  # type: ignore[attr-defined]


def test_a_chunked_body_over_the_limit_is_a_413(small_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"records": ['
        for _ in range(100):
            yield b" " * 100

    r = small_client.post("/v1/ingest", content=chunks(), headers=A)
    assert r.status_code == 413


def test_a_gzip_bomb_is_stopped_at_the_decoded_limit(small_client: TestClient) -> None:
    bomb = gzip.compress(b" " * 1_000_000)
    assert len(bomb) < 4096  # within the wire limit: only the decoded size can stop it
    r = small_client.post("/v1/ingest", content=bomb, headers=GZ)
    assert r.status_code == 413
    assert "decompresses to more than 16384 bytes" in r.json()["error"]["message"]


def test_too_many_records_is_a_413_naming_the_limit(small_client: TestClient) -> None:
    r = _post(small_client, {"records": [event("s1", f"e{i}") for i in range(6)]}, gz=True)
    assert r.status_code == 413  # type: ignore[attr-defined]
    assert "6 records is over the limit of 5" in r.json()["error"]["message"]  # type: ignore[attr-defined]


def test_a_large_valid_batch_is_accepted_whole(client: TestClient) -> None:
    records = [session("s1")] + [event("s1", f"e{i:05d}") for i in range(5000)]
    r = _post(client, {"records": records})
    assert len(r.json()["accepted"]) == 5001  # type: ignore[attr-defined]


def test_more_batches_in_progress_than_allowed_are_answered_429(tmp_path: Path) -> None:
    import threading

    import httpx

    from agentlog.collector import IngestLimits, KeyRing, create_app
    from agentlog.store import open_store

    from .conftest import KEYS
    from .servers import ThreadServer, wait_for

    store = open_store(tmp_path / "s.db", processing=False)
    app = create_app(store, keys=KeyRing(env=KEYS), limits=IngestLimits(max_inflight=1))
    release = threading.Event()
    started = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield b'{"records": ['
        started.set()
        release.wait(10.0)
        yield orjson.dumps(event("s1", "e1")) + b"]}"

    answers: list[httpx.Response] = []
    with ThreadServer(app) as server, httpx.Client(base_url=server.url, headers=A) as http:
        first = threading.Thread(target=lambda: answers.append(
            http.post("/v1/ingest", content=slow_body())))  # fmt: skip
        first.start()
        assert started.wait(10.0)
        wait_for(lambda: http.post("/v1/ingest", json={"records": []}).status_code == 429,
                 what="the second batch to be refused")  # fmt: skip
        r = http.post("/v1/ingest", json={"records": [event("s1", "e2")]})
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        release.set()
        first.join(10.0)
        assert answers[0].json()["accepted"] == ["e1"]
        assert http.post("/v1/ingest", json={"records": [event("s1", "e2")]}).status_code == 200
    store.close()
