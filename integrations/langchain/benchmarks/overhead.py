"""What agentlog adds to a LangChain call: a plain script that prints its figures.

    .venv/bin/python integrations/langchain/benchmarks/overhead.py

Three runs of the same work: LangChain alone; with the integration switched on but agentlog not
recording (no init, the cost every call pays); and recording into memory inside a session. The
work is a prompt | chat model chain and a two-turn tool-calling agent on langchain-core's fake
chat model, so the figures are LangChain's own overhead plus ours, with no network in them.
Reported per call: process CPU time (this process, its pipeline thread included: what the
host pays, least disturbed by other load on the machine) and wall time, each the best of the
rounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

import agentlog
from agentlog.testing import capture

ROUNDS = 7
CALLS = 300


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def chain_call() -> Callable[[], Any]:
    model = FakeMessagesListChatModel(responses=[AIMessage("hello there", id="m")])
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | model
    return lambda: chain.invoke({"q": "hi"})


def agent_call() -> Callable[[], Any]:
    call = {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}
    turns = [
        AIMessage("", id="a1", tool_calls=[call]),  # type: ignore[list-item]
        AIMessage("It is sunny in Oslo.", id="a2"),
    ]
    model = FakeMessagesListChatModel(responses=turns)

    def run(question: str) -> list[Any]:
        messages: list[Any] = [HumanMessage(question)]
        while True:
            reply = model.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                return messages
            for call in reply.tool_calls:
                result = get_weather.invoke(call)
                assert isinstance(result, ToolMessage)
                messages.append(result)

    agent = RunnableLambda(run, name="weather_agent")
    return lambda: agent.invoke("Weather in Oslo?")


def per_call_us(fn: Callable[[], Any]) -> tuple[float, float]:
    """(CPU, wall) microseconds per call, best round of each."""
    for _ in range(CALLS // 3):
        fn()
    cpu, wall = [], []
    for _ in range(ROUNDS):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(CALLS):
            fn()
        cpu.append((time.process_time() - cpu0) / CALLS * 1e6)
        wall.append((time.perf_counter() - wall0) / CALLS * 1e6)
    return min(cpu), min(wall)


def main() -> None:
    for label, make in (("prompt | chat model", chain_call), ("tool-loop agent", agent_call)):
        plain = per_call_us(make())
        agentlog.instrument("langchain")
        idle = per_call_us(make())
        with capture() as cap, agentlog.session("bench"):
            rec = per_call_us(make())
            recorded = len(cap.records)
        agentlog.uninstrument("langchain")
        print(f"{label}: per call, best of {ROUNDS} rounds of {CALLS} calls "
              f"({recorded} records while recording)")  # fmt: skip
        for name, (cpu, wall) in (("langchain alone", plain),
                                  ("instrumented, not recording", idle),
                                  ("recording", rec)):  # fmt: skip
            print(f"  {name:<28} cpu {cpu:7.1f} us (x{cpu / plain[0]:.2f})"
                  f"   wall {wall:7.1f} us (x{wall / plain[1]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
