from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentlog.collector import IngestLimits
from agentlog.store import Store, open_store

from .conftest import A, make_client


def test_an_unknown_route_is_a_json_404(client: TestClient) -> None:
    r = client.get("/v1/nothing-here", headers=A)
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_a_wrong_method_is_a_json_405(client: TestClient) -> None:
    r = client.put("/v1/ingest", headers=A)
    assert r.status_code == 405 and r.json()["error"]["status"] == 405


def test_a_bad_query_parameter_is_named(client: TestClient) -> None:
    r = client.get("/v1/sessions", headers=A, params={"limit": "many"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["loc"] == "query.limit"
    assert "query.limit" in r.json()["error"]["message"]


def test_an_unknown_body_field_is_named(client: TestClient) -> None:
    r = client.post("/v1/sessions", headers=A, json={"id": "s1", "colour": "red"})
    assert r.status_code == 422 and "body.colour" in r.json()["error"]["message"]


def test_a_body_of_the_wrong_type_is_a_422(client: TestClient) -> None:
    r = client.post("/v1/sessions", headers=A, json={"configs": [1, 2]})
    assert r.status_code == 422 and "body.configs" in r.json()["error"]["message"]


def test_malformed_json_in_a_body_is_a_422(client: TestClient) -> None:
    r = client.post("/v1/sessions", headers={**A, "Content-Type": "application/json"},
                    content=b"{oops")  # fmt: skip
    assert r.status_code == 422 and "JSON" in r.json()["error"]["message"]


def test_filter_by_configs_must_be_a_json_object(client: TestClient) -> None:
    r = client.get("/v1/sessions", headers=A, params={"filter_by_configs": "[1]"})
    assert r.status_code == 400 and "filter_by_configs" in r.json()["error"]["message"]
    r = client.get("/v1/sessions", headers=A, params={"filter_by_configs": "{"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]["message"]


def test_a_nul_character_anywhere_is_a_4xx(client: TestClient) -> None:
    assert client.get("/v1/sessions", headers=A, params={"user": "a\x00"}).status_code == 400
    assert client.get("/v1/sessions/a%00b", headers=A).status_code == 400
    r = client.post("/v1/sessions", headers=A, json={"configs": {"k": "v\x00"}})
    assert r.status_code == 422 and "configs.k" in r.json()["error"]["message"]


def test_a_lone_surrogate_is_a_400(client: TestClient) -> None:
    r = client.post("/v1/sessions", headers={**A, "Content-Type": "application/json"},
                    content=b'{"user": "\\ud800"}')  # fmt: skip
    assert r.status_code in (400, 422), r.text


def test_delete_answers_204_and_the_session_is_gone(client: TestClient) -> None:
    client.post("/v1/sessions", headers=A, json={"id": "s1"})
    assert client.delete("/v1/sessions/s1", headers=A).status_code == 204
    assert client.get("/v1/sessions/s1", headers=A).status_code == 404


def test_configs_put_and_patch(client: TestClient) -> None:
    client.post("/v1/sessions", headers=A, json={"id": "s1", "configs": {"a": 1, "b": 2}})
    r = client.patch("/v1/sessions/s1/configs", headers=A, json={"configs": {"a": None, "c": 3}})
    assert r.json() == {"configs": {"b": 2, "c": 3}}
    r = client.put("/v1/sessions/s1/configs", headers=A, json={"configs": None})
    assert r.json() == {"configs": None}


def test_close_without_a_body_means_success(client: TestClient) -> None:
    client.post("/v1/sessions", headers=A, json={"id": "s1"})
    assert client.post("/v1/sessions/s1/close", headers=A).json()["status"] == "success"


def test_a_bad_status_is_a_400_naming_it(client: TestClient) -> None:
    client.post("/v1/sessions", headers=A, json={"id": "s1"})
    r = client.post("/v1/sessions/s1/close", headers=A, json={"status": "sleeping"})
    assert r.status_code == 400 and "sleeping" in r.json()["error"]["message"]


def test_a_large_body_on_other_routes_is_a_413(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", processing=False)
    with make_client(store, limits=IngestLimits(max_body_bytes=1000)) as c:
        r = c.post("/v1/sessions", headers=A, json={"configs": {"x": "y" * 2000}})
        assert r.status_code == 413 and "1000 bytes" in r.json()["error"]["message"]
    store.close()


def test_readyz_is_503_when_the_store_does_not_answer(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db", processing=False)
    with make_client(store) as c:
        store.close()
        r = c.get("/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"


def test_the_app_opens_and_closes_a_store_it_is_given_by_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    with make_client(url, ttl_seconds=0.05) as c:  # type: ignore[arg-type]
        assert c.post("/v1/sessions", headers=A, json={"id": "s1"}).status_code == 200
        c.post("/v1/sessions/s1/messages", headers=A, json={"blob": {"role": "user"}})
        # The processing worker runs inside the collector: the idle TTL processes the message.
        from .servers import wait_for

        wait_for(lambda: c.get("/v1/sessions/s1/messages/status",
                               headers=A).json()["observed"] == 1, what="processing")  # fmt: skip
    assert (tmp_path / "own.db").exists()


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_api_is_documented(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_every_store_operation_has_a_route(client: TestClient, store: Store) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    from agentlog._http_transport import _ROUTES

    for op, (method, path, _) in _ROUTES.items():
        assert hasattr(store, op), op
        assert method.lower() in paths[path], (op, method, path)


def test_a_store_failure_is_a_503_and_the_next_request_recovers(pg_store: Store) -> None:
    import uuid

    import psycopg

    from agentlog.store.postgres import PostgresStore

    from .conftest import PG_URL

    app_name = f"agentlog_503_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in PG_URL else "?"
    store = PostgresStore(f"{PG_URL}{sep}application_name={app_name}",
                          schema=pg_store.schema, processing=False, min_size=1, max_size=1)  # type: ignore[attr-defined]  # fmt: skip
    try:
        with make_client(store) as c:
            assert c.get("/v1/sessions", headers=A).status_code == 200
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name = %s", (app_name,))  # fmt: skip
            r = c.get("/v1/sessions", headers=A)
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert "store is unavailable" in r.json()["error"]["message"]
            from .servers import wait_for

            wait_for(lambda: c.get("/v1/sessions", headers=A).status_code == 200,
                     what="the pool to reconnect")  # fmt: skip
    finally:
        store.close()
