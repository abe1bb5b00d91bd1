"""Through the collector, a session's rollup is current as soon as its end record is stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import A, event, session


def test_rollup_is_current_in_the_answer_after_the_end_record(client: TestClient) -> None:
    records = [session("s1"), event("s1", "e1"), event("s1", "e2", type="llm_call",
               data={"usage": {"input_tokens": 7, "output_tokens": 2}}),
               session("s1", status="success", ended_at="2026-01-01T00:00:05.000000Z")]  # fmt: skip
    assert client.post("/v1/ingest", json={"records": records}, headers=A).status_code == 200
    rollup = client.get("/v1/sessions/s1", headers=A).json()["rollup"]
    assert (rollup["tool_calls"], rollup["tokens_in"], rollup["tokens_out"]) == (1, 7, 2)
