from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import agentlog
from agentlog import Client, NotFoundError
from agentlog.client import LocalTransport
from agentlog.store import MessagesPage, Page, Session, open_store

PG_URL = os.environ.get("AGENTLOG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _record_a_run() -> str:
    agentlog.init()
    with agentlog.session("support", user="alice", configs={"agent": "bot1"}) as s:
        agentlog.track_tool_call("search_kb", input={"q": "reset"}, output=["kb1"])
        agentlog.store_message({"role": "user", "content": "I forgot my password"})
        agentlog.add_event(agentlog.Event(type="compaction", data={"tokens_before": 100}))
        agentlog.store_message({"role": "assistant", "content": "Here is a link"})
    assert agentlog.flush(5.0)
    return s.id


def test_local_client_reads_what_the_sdk_recorded() -> None:
    sid = _record_a_run()
    with Client() as client:
        page = client.sessions.list(filter_by_configs={"agent": "bot1"}, user="alice")
        assert isinstance(page, Page) and [s.id for s in page.items] == [sid]
        assert page.items[0].status == "success" and page.has_more is False
        events = client.sessions.get_events(sid, type="tool_call")
        assert events.items[0].data["input"] == {"q": "reset"}
        msgs = client.sessions.get_messages(sid, with_events=True)
        assert isinstance(msgs, MessagesPage) and [m.role for m in msgs.items] == [
            "user",
            "assistant",
        ]
        assert {e.type for e in msgs.events} == {"tool_call", "compaction"}
        stats = client.query.events_between_markers(marker_types=["compaction"], count_type="user")
        assert (stats.marker_count, stats.avg_per_marker) == (1, 1.0)


def _record_with_usage() -> str:
    agentlog.init(path="runs/events.jsonl")
    with agentlog.session("support", user="alice") as s:
        agentlog.store_message({"role": "user", "content": "reset my password"})
        agentlog.track_tool_call("search_kb", input={"q": "reset"}, output=["kb1"])
        agentlog.track_llm_call(model="m", usage={"prompt_tokens": 20, "completion_tokens": 4})
    assert agentlog.flush(5.0)
    return s.id


def test_local_client_shows_rollups_at_once() -> None:
    sid = _record_with_usage()
    with Client(jsonl="runs/events.jsonl") as client:
        listed = client.sessions.list().items[0].rollup
        r = client.sessions.get(sid).rollup
        status = client.sessions.messages_observing_status(sid)
    assert (r.turns, r.tokens_in, r.tokens_out, r.tool_calls, r.errors) == (1, 20, 4, 1, 0)
    assert listed == r and r.updated_at is not None
    assert (status.pending, status.observed) == (0, 1)


def test_local_client_rollups_follow_new_data() -> None:
    with Client(db="store.db") as client:
        s = client.sessions.create(user="u")
        client.sessions.store_message(s.id, {"role": "user", "content": "one"})
        assert client.sessions.list().items[0].rollup.turns == 1
        client.sessions.add_event(s.id, type="tool_call", name="t")
        client.sessions.store_message(s.id, {"role": "user", "content": "two"})
        assert (client.sessions.get(s.id).rollup.turns,
                client.sessions.get(s.id).rollup.tool_calls) == (2, 1)  # fmt: skip
        assert client.sessions.close(s.id).rollup.turns == 2


def test_local_client_picks_up_data_recorded_later() -> None:
    client = Client()
    assert client.sessions.list().items == []
    sid = _record_a_run()
    assert client.sessions.get(sid).user == "alice"
    client.close()


def test_client_manages_sessions_and_configs() -> None:
    with Client(db="store.db") as client:
        s = client.sessions.create(configs={"a": 1}, user="u")
        assert client.sessions.patch_configs(s.id, {"b": 2}) == {"a": 1, "b": 2}
        assert client.sessions.update_configs(s.id, {"c": 3}) == {"c": 3}
        assert client.sessions.get_configs(s.id).configs == {"c": 3}
        ev = client.sessions.add_event(s.id, type="note", data={"x": 1})
        client.sessions.store_message(s.id, {"role": "user", "content": "hi"})
        assert client.sessions.flush(s.id).observed == 1
        assert client.sessions.messages_observing_status(s.id).pending == 0
        assert client.query.event_context(ev.id).after[0].type == "user"
        assert sum(c.count for c in client.query.event_counts(bucket="day")) == 2
        assert len(client.query.iterate_events(session_id=s.id).events) == 2
        copy = client.sessions.copy(s.id)
        assert client.sessions.close(copy.id, status="error").status == "error"
        client.sessions.delete(s.id)
        with pytest.raises(NotFoundError):
            client.sessions.get(s.id)


class JsonTransport(LocalTransport):
    """Results as plain JSON data, the way an HTTP transport receives them."""

    def call(self, op: str, params: dict[str, Any]) -> Any:
        result = super().call(op, params)
        if isinstance(result, BaseModel):
            return result.model_dump(mode="json")
        if isinstance(result, list):
            return [r.model_dump(mode="json") for r in result]
        return result


def test_a_json_transport_gives_the_same_models() -> None:
    local = Client(db="a.db")
    remote = Client(transport=JsonTransport(open_store("a.db"), project="default"))
    s = local.sessions.create(user="u")
    local.sessions.add_event(s.id, type="x")
    assert remote.sessions.get(s.id) == local.sessions.get(s.id)
    assert isinstance(remote.sessions.get(s.id), Session)
    assert remote.sessions.get_messages(s.id, with_events=True) == local.sessions.get_messages(
        s.id, with_events=True
    )
    assert remote.query.event_counts(bucket="session") == local.query.event_counts(bucket="session")
    local.close()
    remote.close()


@pytest.fixture
def pg_client() -> Iterator[Client]:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    schema = f"agentlog_client_{uuid.uuid4().hex[:10]}"
    client = Client(db=PG_URL, schema=schema)
    yield client
    client.transport.store.drop_schema()  # type: ignore[attr-defined]


def test_client_over_postgres(pg_client: Client) -> None:
    s = pg_client.sessions.create(id="s1", configs={"env": {"name": "prod"}})
    pg_client.sessions.store_message(s.id, {"role": "user", "content": "hi"})
    got = pg_client.sessions.list(filter_by_configs={"env": {"name": "prod"}})
    assert [x.id for x in got.items] == ["s1"]
    assert pg_client.sessions.get_messages("s1").items[0].blob == {"role": "user", "content": "hi"}
