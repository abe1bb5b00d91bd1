from __future__ import annotations

import asyncio
from typing import Any

import pytest

import agentlog
from tests.conftest import Recorded


def _final(recorded: Recorded, sid: str) -> dict[str, object]:
    return [s for s in recorded.sessions() if s["id"] == sid][-1]


def test_with_block_writes_start_and_end(recorded: Recorded) -> None:
    with agentlog.session("Support", user="alice", configs={"agent": "bot1"}) as s:
        agentlog.track_tool_call("search_kb", input={"q": 1}, output=[1], duration_ms=12.5)
    start, end = recorded.sessions()
    assert start["id"] == end["id"] == s.id
    assert start["status"] == "running" and start["ended_at"] is None
    assert end["status"] == "success" and end["ended_at"] >= end["started_at"]
    assert end["user"] == "alice" and end["configs"] == {"agent": "bot1"}
    (ev,) = recorded.events()
    assert ev["session_id"] == s.id and ev["duration_ms"] == pytest.approx(12.5, abs=0.01)


def test_decorator_makes_one_session_per_call(recorded: Recorded) -> None:
    @agentlog.session(name="Support - Password Reset", user="bob")
    def handle(x: int) -> int:
        agentlog.track_error("minor")
        return x

    handle(1)
    handle(2)
    sids = {e["session_id"] for e in recorded.events("error")}
    assert len(sids) == 2


def test_exception_sets_error_records_error_event_and_reraises(recorded: Recorded) -> None:
    exc = ValueError("boom")
    with pytest.raises(ValueError) as info:
        with agentlog.session("s") as s:
            raise exc
    assert info.value is exc
    assert _final(recorded, s.id)["status"] == "error"
    (ev,) = recorded.events("error")
    assert ev["error"]["type"] == "ValueError" and ev["session_id"] == s.id


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, asyncio.CancelledError])
def test_interrupts_mark_cancelled(recorded: Recorded, exc_type: type[BaseException]) -> None:
    with pytest.raises(exc_type):
        with agentlog.session("s") as s:
            raise exc_type()
    assert _final(recorded, s.id)["status"] == "cancelled"


def test_set_status_wins(recorded: Recorded) -> None:
    with agentlog.session("s") as s:
        s.set_status("timeout")
    assert _final(recorded, s.id)["status"] == "timeout"


def test_patch_configs_merges_and_deletes(recorded: Recorded) -> None:
    with agentlog.session("s", configs={"a": 1, "b": 2}) as s:
        assert s.patch_configs({"b": None, "env": "prod"}) == {"a": 1, "env": "prod"}
    assert _final(recorded, s.id)["configs"] == {"a": 1, "env": "prod"}


def test_caller_chosen_id_and_nesting(recorded: Recorded) -> None:
    with agentlog.session("outer", id="run-42") as outer:
        with agentlog.session("inner") as inner:
            agentlog.track_error("x")
    assert outer.id == "run-42"
    assert _final(recorded, inner.id)["parent_session_id"] == "run-42"
    (ev,) = recorded.events()
    assert ev["session_id"] == inner.id


async def test_async_with_and_tasks_inherit_session(recorded: Recorded) -> None:
    async def work(i: int) -> None:
        await asyncio.sleep(0)
        agentlog.track_tool_call("t", input=i)

    async with agentlog.session("async") as s:
        await asyncio.gather(*(asyncio.create_task(work(i)) for i in range(5)))
    assert {e["session_id"] for e in recorded.events()} == {s.id}


def test_context_executor_carries_session(recorded: Recorded) -> None:
    with agentlog.session("pool") as s:
        with agentlog.ContextExecutor(max_workers=2) as pool:
            list(pool.map(lambda i: agentlog.track_tool_call("t", input=i), range(4)))
    assert [e["session_id"] for e in recorded.events()] == [s.id] * 4


def test_threading_instrumentation_for_plain_executor(recorded: Recorded) -> None:
    from concurrent.futures import ThreadPoolExecutor

    assert agentlog.instrument("threading") is True
    assert agentlog.instrument("threading") is True  # idempotent
    try:
        with agentlog.session("pool") as s:
            with ThreadPoolExecutor(max_workers=2) as pool:
                pool.submit(agentlog.track_tool_call, "t").result()
    finally:
        assert agentlog.uninstrument("threading") is True
    assert recorded.events()[0]["session_id"] == s.id


def test_close_session_by_id(recorded: Recorded) -> None:
    agentlog.close_session("elsewhere-1", status="success", summary="done remotely")
    (rec,) = recorded.sessions()
    assert rec["id"] == "elsewhere-1" and rec["summary"] == "done remotely"
    assert rec["status"] == "success" and rec["ended_at"] is not None


def test_shutdown_closes_open_sessions_as_cancelled(recorded: Recorded) -> None:
    exporter = recorded.exporter
    scope = agentlog.session("left open")
    s = scope.__enter__()
    agentlog.shutdown()
    final = [r for r in exporter.records if r["kind"] == "session" and r["id"] == s.id][-1]
    assert final["status"] == "cancelled"
    scope.__exit__(None, None, None)  # after shutdown: nothing more is recorded, nothing raises


def test_session_without_init_still_has_an_id() -> None:
    with agentlog.session("noop") as s:
        assert s.id


def test_session_on_a_generator_never_holds_its_context_across_yield(recorded: Recorded) -> None:
    @agentlog.session(name="gen-session")
    def steps() -> Any:
        agentlog.track_tool_call("inside-1")
        yield 1
        agentlog.track_tool_call("inside-2")
        yield 2

    it = steps()
    assert next(it) == 1
    assert agentlog.current_session() is None  # the consumer's context is its own
    agentlog.track_tool_call("outside")
    assert list(it) == [2]
    events = {e["name"]: e for e in recorded.events()}
    (session,) = [s for s in recorded.sessions() if s["status"] == "success"]
    assert events["inside-1"]["session_id"] == events["inside-2"]["session_id"] == session["id"]
    assert events["outside"]["session_id"] is None


def test_session_on_an_abandoned_generator_is_cancelled(recorded: Recorded) -> None:
    @agentlog.session(name="gen")
    def steps() -> Any:
        yield 1
        yield 2

    it = steps()
    next(it)
    it.close()
    assert recorded.sessions()[-1]["status"] == "cancelled"


async def test_session_on_an_async_generator_keeps_context_to_its_steps(recorded: Recorded) -> None:
    @agentlog.session(name="agen")
    async def steps() -> Any:
        agentlog.track_tool_call("inside")
        yield 1
        yield 2

    agen = steps()
    assert await agen.__anext__() == 1
    assert agentlog.current_session() is None
    assert [x async for x in agen] == [2]
    (inside,) = recorded.events()
    assert inside["session_id"] == recorded.sessions()[-1]["id"]
    assert recorded.sessions()[-1]["status"] == "success"


def test_patch_configs_with_a_non_dict_is_ignored_not_raised(recorded: Recorded) -> None:
    with agentlog.session("s", configs={"a": 1}) as s:
        assert s.patch_configs("notadict") == {"a": 1}  # type: ignore[arg-type]
    assert recorded.sessions()[-1]["configs"] == {"a": 1}


def test_a_non_string_session_id_is_kept_as_a_string(recorded: Recorded) -> None:
    with agentlog.session("s", id=123) as s:  # type: ignore[arg-type]
        pass
    assert s.id == "123"
    assert {r["id"] for r in recorded.sessions()} == {"123"}
