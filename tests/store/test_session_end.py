"""Rollups are current the moment a session ends, without waiting for the idle TTL; payloads
read back with their keys in the order they were recorded, on both backends."""

from __future__ import annotations

from agentlog.store._store import SqlStore

from .helpers import event, message, session, ts


def _llm(sid: str, at: float) -> dict[str, object]:
    return event(sid, at, "llm_call", data={"usage": {"input_tokens": 10, "output_tokens": 3}})


def test_an_ingested_end_record_makes_the_rollup_current(store: SqlStore) -> None:
    assert store.ttl_seconds >= 60  # the TTL alone would leave the rollup stale for a minute
    store.ingest([session("s1"), message("s1", 1), _llm("s1", 2), event("s1", 3, "tool_call"),
                  event("s1", 4, "error")])  # fmt: skip
    assert store.get_session("s1").rollup.turns == 0  # running, idle TTL not reached
    store.ingest([{"kind": "session", "id": "s1", "status": "success", "ended_at": ts(5)}])
    r = store.get_session("s1").rollup
    assert (r.turns, r.tokens_in, r.tokens_out, r.tool_calls, r.errors) == (1, 10, 3, 1, 1)
    assert store.messages_observing_status("s1").pending == 0


def test_late_data_of_an_ended_session_is_rolled_up_at_once(store: SqlStore) -> None:
    store.ingest([session("s1"), {"kind": "session", "id": "s1", "status": "error",
                                  "ended_at": ts(5)}])  # fmt: skip
    store.ingest([_llm("s1", 4), message("s1", 3)])
    r = store.get_session("s1").rollup
    assert (r.turns, r.tokens_in) == (1, 10)


def test_close_session_makes_the_rollup_current(store: SqlStore) -> None:
    store.ingest([session("s1"), message("s1", 1), _llm("s1", 2)])
    closed = store.close_session("s1")
    assert (closed.rollup.turns, closed.rollup.tokens_in) == (1, 10)


def test_payload_keys_read_back_in_recorded_order(store: SqlStore) -> None:
    data = {"zeta": 1, "alpha": {"y": 2, "b": [3, {"q": 1, "c": 2}]}, "mid": None}
    blob = {"role": "user", "content": "hi", "annotations": {"z": 1, "a": 2}}
    configs = {"zz": 1, "aa": {"k2": 1, "k1": 2}}
    err = {"type": "ValueError", "message": "bad", "stacktrace": None}
    store.ingest([session("s1", configs=configs), event("s1", 1, data=data, status="error",
                  error=err), message("s1", 2, blob=blob)])  # fmt: skip
    ev = store.get_events("s1").items[0]
    assert list(ev.data) == list(data) and list(ev.data["alpha"]) == ["y", "b"]
    assert list(ev.data["alpha"]["b"][1]) == ["q", "c"]
    msg = store.get_messages("s1").items[0]
    assert list(msg.blob) == list(blob) and list(msg.blob["annotations"]) == ["z", "a"]
    got = store.get_session("s1").configs
    assert got is not None and list(got) == ["zz", "aa"] and list(got["aa"]) == ["k2", "k1"]
    assert store.patch_configs("s1", {"b": 1}) == {**configs, "b": 1}
    assert list(store.get_configs("s1") or {}) == ["zz", "aa", "b"]
    assert [s.id for s in store.list_sessions(filter_by_configs={"aa": {"k1": 2}}).items] == ["s1"]
