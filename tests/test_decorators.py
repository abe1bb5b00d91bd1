from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import agentlog
from agentlog._state import STATE
from tests.conftest import Recorded


def test_calls_straight_through_before_init() -> None:
    @agentlog.tool
    def add(a: int, b: int) -> int:
        return a + b

    # status() keeps the final counts of a pipeline an earlier test shut down: compare, not 0.
    before = agentlog.status().observed
    assert add(1, 2) == 3
    assert STATE.pipeline is None
    assert agentlog.status().observed == before


def test_bare_tool_records_input_output_and_duration(recorded: Recorded) -> None:
    @agentlog.tool
    def search_kb(query: str, limit: int = 3) -> list[str]:
        return [query] * limit

    assert search_kb("reset", limit=2) == ["reset", "reset"]
    (ev,) = recorded.events("tool_call")
    assert ev["name"] == "search_kb"
    assert ev["data"] == {"input": {"query": "reset", "limit": 2}, "output": ["reset", "reset"]}
    assert ev["status"] == "ok" and ev["partial"] is False
    assert ev["duration_ms"] >= 0 and ev["end_ts"] >= ev["ts"]


def test_called_form_with_name_and_capture_off(recorded: Recorded) -> None:
    @agentlog.tool(name="kb", capture=False)
    def search(query: str) -> str:
        return "secret answer"

    search("q")
    (ev,) = recorded.events("tool_call")
    assert ev["name"] == "kb" and ev["data"] == {}


def test_exception_is_recorded_and_reraised_unchanged(recorded: Recorded) -> None:
    class Boom(Exception):
        pass

    original = Boom("bad")

    @agentlog.tool
    def fail() -> None:
        raise original

    with pytest.raises(Boom) as info:
        fail()
    assert info.value is original
    (ev,) = recorded.events("tool_call")
    assert ev["status"] == "error"
    assert ev["error"]["type"] == "Boom" and ev["error"]["message"] == "bad"
    assert "raise original" in ev["error"]["stacktrace"]


def test_nesting_sets_parent_id(recorded: Recorded) -> None:
    @agentlog.tool
    def inner() -> int:
        return 1

    @agentlog.trace(type="step")
    def outer() -> int:
        return inner() + inner()

    outer()
    events = recorded.events()
    step = next(e for e in events if e["type"] == "step")
    tools = [e for e in events if e["type"] == "tool_call"]
    assert len(tools) == 2 and all(t["parent_id"] == step["id"] for t in tools)
    assert step["parent_id"] is None


async def test_async_function_and_parent_across_await(recorded: Recorded) -> None:
    @agentlog.tool
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    @agentlog.trace(type="plan")
    async def plan() -> list[int]:
        return list(await asyncio.gather(fetch(1), fetch(2)))

    assert await plan() == [2, 4]
    events = recorded.events()
    parent = next(e for e in events if e["type"] == "plan")
    assert sorted(e["data"]["output"] for e in events if e["type"] == "tool_call") == [2, 4]
    assert all(e["parent_id"] == parent["id"] for e in events if e["type"] == "tool_call")


def test_generator_exhausted_records_items(recorded: Recorded) -> None:
    @agentlog.tool
    def numbers(n: int) -> Any:
        yield from range(n)
        return "done"

    assert list(numbers(3)) == [0, 1, 2]
    (ev,) = recorded.events()
    assert ev["data"]["output"] == [0, 1, 2] and ev["data"]["return"] == "done"
    assert ev["partial"] is False


def test_generator_abandoned_is_partial_and_never_fails_detach(
    recorded: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    @agentlog.tool
    def numbers() -> Any:
        yield from range(100)

    gen = numbers()
    next(gen)
    del gen
    gc.collect()
    (ev,) = recorded.events()
    assert ev["partial"] is True and ev["data"]["output"] == [0]
    assert "Failed to detach" not in caplog.text


def test_generator_closed_and_interleaved_keep_context_clean(recorded: Recorded) -> None:
    @agentlog.tool
    def inner() -> int:
        return 1

    @agentlog.trace(type="stream")
    def stream(tag: str) -> Any:
        for _ in range(2):
            inner()
            yield tag

    a, b = stream("a"), stream("b")
    next(a)
    next(b)
    inner()  # recorded between the two open generators: no parent
    a.close()
    list(b)
    events = recorded.events()
    streams = {e["data"]["input"]["tag"]: e for e in events if e["type"] == "stream"}
    assert streams["a"]["partial"] is True and streams["b"]["partial"] is False
    tools = [e for e in events if e["type"] == "tool_call"]
    assert sum(1 for t in tools if t["parent_id"] is None) == 1
    assert sum(1 for t in tools if t["parent_id"] == streams["b"]["id"]) == 2


def test_generator_send_and_throw_are_forwarded(recorded: Recorded) -> None:
    @agentlog.trace
    def echo() -> Any:
        got = None
        while True:
            try:
                got = yield got
            except KeyError:
                got = "caught"

    gen = echo()
    next(gen)
    assert gen.send("x") == "x"
    assert gen.throw(KeyError("k")) == "caught"
    gen.close()
    (ev,) = recorded.events()
    assert ev["partial"] is True


def test_generator_error_is_recorded(recorded: Recorded) -> None:
    @agentlog.tool
    def broken() -> Any:
        yield 1
        raise RuntimeError("mid-stream")

    with pytest.raises(RuntimeError):
        list(broken())
    (ev,) = recorded.events()
    assert ev["status"] == "error" and ev["error"]["message"] == "mid-stream"


async def test_async_generator_complete_and_abandoned(recorded: Recorded) -> None:
    @agentlog.llm(model="m")
    async def tokens() -> Any:
        for t in ("Hel", "lo"):
            yield t

    assert [t async for t in tokens()] == ["Hel", "lo"]
    agen = tokens()
    await agen.__anext__()
    await agen.aclose()
    full, part = recorded.events("llm_call")
    assert full["data"]["response"] == "Hello" and full["partial"] is False
    assert part["partial"] is True


def test_methods_static_and_class_methods(recorded: Recorded) -> None:
    class Agent:
        factor = 10

        @agentlog.tool
        def method(self, x: int) -> int:
            return x * self.factor

        @agentlog.tool
        @staticmethod
        def static(x: int) -> int:
            return x + 1

        @agentlog.tool
        @classmethod
        def klass(cls, x: int) -> int:
            return x * cls.factor

    agent = Agent()
    assert (agent.method(2), Agent.static(2), Agent.klass(3)) == (20, 3, 30)
    inputs = [e["data"]["input"] for e in recorded.events()]
    assert inputs == [{"x": 2}, {"x": 2}, {"x": 3}]


def test_decision_records_choice_and_reasoning(recorded: Recorded) -> None:
    @agentlog.decision
    def route(ticket: str, options: list[str]) -> dict[str, Any]:
        return {"choice": "billing", "reasoning": "mentions invoice", "confidence": 0.7}

    route("invoice?", ["billing", "tech"])
    (ev,) = recorded.events("decision")
    assert ev["data"]["choice"] == "billing" and ev["data"]["options"] == ["billing", "tech"]
    assert ev["data"]["reasoning"] == "mentions invoice" and ev["data"]["confidence"] == 0.7


def test_llm_reads_messages_response_and_usage(recorded: Recorded) -> None:
    @agentlog.llm(model="gpt-4o", provider="openai")
    def chat(messages: list[dict[str, str]], temperature: float = 0.0) -> dict[str, Any]:
        return {"content": "hi", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}

    chat([{"role": "user", "content": "hello"}], temperature=0.5)
    (ev,) = recorded.events("llm_call")
    data = ev["data"]
    assert data["model"] == "gpt-4o" and data["provider"] == "openai"
    assert data["messages"] == [{"role": "user", "content": "hello"}]
    assert data["usage"] == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    assert data["params"] == {"temperature": 0.5}


def test_unserializable_result_never_breaks_the_call(recorded: Recorded) -> None:
    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    weird = Weird()

    @agentlog.tool
    def make() -> Weird:
        return weird

    assert make() is weird
    (ev,) = recorded.events()
    assert "Weird" in str(ev["data"]["output"])


async def test_async_generator_forwards_athrow_and_keeps_going(recorded: Recorded) -> None:
    @agentlog.trace
    async def echo() -> Any:
        got = None
        while True:
            try:
                got = yield got
            except KeyError:
                got = "caught"

    agen = echo()
    await agen.__anext__()
    assert await agen.asend("x") == "x"
    assert await agen.athrow(KeyError("k")) == "caught"
    assert await agen.athrow(KeyError("k")) == "caught"
    await agen.aclose()
    (ev,) = recorded.events()
    assert ev["partial"] is True and ev["status"] == "ok"


def test_generator_failing_while_closed_reraises_and_records(recorded: Recorded) -> None:
    @agentlog.tool
    def stubborn() -> Any:
        try:
            yield 1
        finally:
            raise RuntimeError("cleanup failed")

    gen = stubborn()
    next(gen)
    with pytest.raises(RuntimeError, match="cleanup failed"):
        gen.close()
    (ev,) = recorded.events()
    assert ev["status"] == "error" and ev["partial"] is True


def test_parameters_left_at_their_defaults_are_recorded(recorded: Recorded) -> None:
    @agentlog.decision
    def pick(weather: str, options: tuple[str, ...] = ("train", "plane")) -> str:
        return options[0] if weather == "rain" else options[1]

    @agentlog.tool
    def search(query: str, *, limit: int = 3, **extra: Any) -> int:
        return limit

    @agentlog.llm(model="m")
    def ask(prompt: str, temperature: float = 0.2) -> str:
        return "ok"

    @agentlog.trace
    async def step(x: int, y: int = 5) -> int:
        return x + y

    class Agent:
        @agentlog.tool
        def act(self, what: str = "wait") -> str:
            return what

    pick("rain")
    search("q", lang="en")
    ask("hi")
    asyncio.run(step(1))
    Agent().act()
    (dec,) = recorded.events("decision")
    assert dec["data"]["inputs"] == {"weather": "rain", "options": ["train", "plane"]}
    assert dec["data"]["options"] == ["train", "plane"]
    (tool, act) = recorded.events("tool_call")
    assert tool["data"]["input"] == {"query": "q", "limit": 3, "lang": "en"}
    assert act["data"]["input"] == {"what": "wait"}
    (llm,) = recorded.events("llm_call")
    assert llm["data"]["params"] == {"temperature": 0.2}
    (st,) = recorded.events("step")
    assert st["data"]["input"] == {"x": 1, "y": 5}


def test_a_calls_id_is_a_uuid7_of_the_millisecond_it_started_in(recorded: Recorded) -> None:
    import uuid
    from datetime import datetime, timedelta, timezone

    from agentlog._ids import parse_ts

    @agentlog.tool
    def echo(text: str) -> str:
        return text

    for _ in range(50):
        echo("x")
    events = recorded.events("tool_call")
    ids = [uuid.UUID(ev["id"]) for ev in events]
    assert all(i.version == 7 for i in ids) and len(set(ids)) == 50
    for ev, i in zip(events, ids, strict=True):
        since = parse_ts(ev["ts"]) - datetime(1970, 1, 1, tzinfo=timezone.utc)
        assert i.int >> 80 == since // timedelta(milliseconds=1)
    assert [ev["data"] for ev in events] == [{"input": {"text": "x"}, "output": "x"}] * 50
