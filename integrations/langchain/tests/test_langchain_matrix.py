"""sync/async x stream/no-stream x success/error over a tool-loop agent on fake chat models."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_fakes import (
    OWNER_SEEN,
    USAGE,
    ToolCallingFakeModel,
    collect,
    get_weather,
    make_agent,
)
from langchain_fakes import script as make_script

import agentlog
from agentlog.instrumentation import llm_recorded_by
from agentlog.testing import capture

CASES = [
    pytest.param(is_async, streaming, fail, id=f"{a}-{s}-{f}")
    for is_async, a in ((False, "sync"), (True, "async"))
    for streaming, s in ((False, "invoke"), (True, "stream"))
    for fail, f in ((False, "ok"), (True, "error"))
]


async def _run(*, is_async: bool, streaming: bool, error: BaseException | None) -> Any:
    model = ToolCallingFakeModel(messages=iter(make_script(fail=error)))
    agent = make_agent(model, [get_weather], streaming=streaming)
    inputs = {"question": "Weather in Paris?"}
    try:
        if is_async:
            return await (collect(agent.astream(inputs)) if streaming else agent.ainvoke(inputs))
        return list(agent.stream(inputs)) if streaming else agent.invoke(inputs)
    except BaseException as exc:
        return exc


@pytest.mark.parametrize(("is_async", "streaming", "fail"), CASES)
async def test_agent_matrix(is_async: bool, streaming: bool, fail: bool) -> None:
    plain_error = RuntimeError("model down") if fail else None
    plain = await _run(is_async=is_async, streaming=streaming, error=plain_error)

    error = RuntimeError("model down") if fail else None
    assert agentlog.instrument("langchain")
    OWNER_SEEN.clear()
    with capture() as cap:
        with agentlog.session("matrix") as sess:
            traced = await _run(is_async=is_async, streaming=streaming, error=error)
        records = cap.records
    agentlog.uninstrument("langchain")

    # The caller sees exactly what it saw without agentlog: same objects, same exception.
    if fail:
        assert traced is error
        assert isinstance(plain, RuntimeError)
    else:
        assert traced == plain
    # The model's own work ran marked as recorded by LangChain, in whatever thread it ran.
    assert OWNER_SEEN == ["langchain", "langchain"]
    assert llm_recorded_by() is None

    events = {r["id"]: r for r in records if r["kind"] == "event"}
    assert all(e["session_id"] == sess.id for e in events.values())
    (agent,) = [e for e in events.values() if e["type"] == "agent"]
    assert agent["name"] == "weather_agent"
    assert agent["parent_id"] is None
    assert agent["status"] == ("error" if fail else "ok")

    llm_calls = sorted((e for e in events.values() if e["type"] == "llm_call"),
                       key=lambda e: e["ts"])  # fmt: skip
    assert len(llm_calls) == 2
    first, second = llm_calls
    assert first["data"]["tool_calls"] == [
        {"id": "call-1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert first["data"]["messages"] == [{"role": "user", "content": "Weather in Paris?"}]
    assert first["data"]["usage"] == USAGE
    assert first["data"]["stream"] is streaming
    assert (first["data"]["time_to_first_token_ms"] is not None) is streaming
    assert [m["role"] for m in second["data"]["messages"]] == ["user", "assistant", "tool"]

    (tool,) = [e for e in events.values() if e["type"] == "tool_call"]
    assert tool["name"] == "get_weather"
    assert tool["data"]["input"] == {"city": "Paris"}
    assert tool["data"]["output"] == "Sunny in Paris, 21 C"
    assert tool["data"]["tool_call_id"] == "call-1"

    # Every model and tool span hangs (through the model's own chain runs) under the agent.
    for event in [*llm_calls, tool]:
        parent = event["parent_id"]
        while parent is not None and parent != agent["id"]:
            parent = events[parent]["parent_id"]
        assert parent == agent["id"]

    if fail:
        assert second["status"] == "error"
        assert second["error"]["type"] == "RuntimeError"
        assert second["error"]["message"] == "model down"
        if streaming:
            assert second["data"]["response"] == "partial "
    else:
        assert second["status"] == "ok"
        assert second["data"]["response"] == "It is sunny in Paris."


async def test_concurrent_agents_keep_their_own_sessions_and_trees() -> None:
    import asyncio

    assert agentlog.instrument("langchain")

    async def one(i: int) -> str:
        async with agentlog.session(f"run-{i}") as sess:
            await _run(is_async=True, streaming=i % 2 == 1, error=None)
            assert llm_recorded_by() is None
            return sess.id

    try:
        with capture() as cap:
            ids = await asyncio.gather(*(one(i) for i in range(12)))
            events = cap.events()
    finally:
        agentlog.uninstrument("langchain")
    by_id = {e["id"]: e for e in events}
    for sid in ids:
        mine = [e for e in events if e["session_id"] == sid]
        assert sorted(e["type"] for e in mine if e["type"] != "chain") == [
            "agent", "llm_call", "llm_call", "tool_call",
        ]  # fmt: skip
        (agent,) = [e for e in mine if e["type"] == "agent"]
        for event in mine:
            if event is agent:
                continue
            parent = by_id[event["parent_id"]]
            assert parent["session_id"] == sid
