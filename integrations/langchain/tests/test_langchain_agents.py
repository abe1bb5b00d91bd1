"""Real LangChain agents (langchain's create_agent, langchain-classic's AgentExecutor) on a
fake chat model with a real tool: the agent as a span, its actions as decisions."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_fakes import ToolCallingFakeModel, get_weather, script

import agentlog
from agentlog.testing import Capture, capture

pytestmark = pytest.mark.usefixtures("instrumented")


def _under(events: dict[str, Any], event: dict[str, Any], ancestor: dict[str, Any]) -> bool:
    parent = event["parent_id"]
    while parent is not None and parent != ancestor["id"]:
        parent = events[parent]["parent_id"]
    return parent == ancestor["id"]


def _classic_executor() -> Any:
    from langchain_classic.agents import AgentExecutor, create_tool_calling_agent
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a weather bot."),
            ("human", "{input}"),
            ("placeholder", "{agent_scratchpad}"),
        ]
    )
    model = ToolCallingFakeModel(messages=iter(script()))
    agent = create_tool_calling_agent(model, [get_weather], prompt)
    return AgentExecutor(agent=agent, tools=[get_weather])


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_agent_executor_actions_are_decisions(cap: Capture, is_async: bool) -> None:
    executor = _classic_executor()
    with agentlog.session("classic") as sess:
        inputs = {"input": "Weather in Paris?"}
        result = await executor.ainvoke(inputs) if is_async else executor.invoke(inputs)
    assert result["output"] == "It is sunny in Paris."
    events = {e["id"]: e for e in cap.events()}
    (agent,) = cap.events("agent")
    assert agent["name"] == "AgentExecutor"
    (decision,) = cap.events("decision")
    assert decision["session_id"] == sess.id
    assert decision["parent_id"] == agent["id"]
    assert decision["data"]["choice"] == "get_weather"
    assert decision["data"]["input"] == {"city": "Paris"}
    (tool,) = cap.events("tool_call")
    assert tool["data"]["output"] == "Sunny in Paris, 21 C"
    assert _under(events, tool, agent)
    assert len(cap.events("llm_call")) == 2
    assert all(_under(events, e, agent) for e in cap.events("llm_call"))


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
async def test_create_agent_graph_is_one_tree_per_run(streaming: bool) -> None:
    from langchain.agents import create_agent

    agent = create_agent(ToolCallingFakeModel(messages=iter(script())), tools=[get_weather])
    inputs = {"messages": [HumanMessage("Weather in Paris?", id="q")]}
    with capture() as cap, agentlog.session("graph") as sess:
        if streaming:
            states = [s async for s in agent.astream(inputs, stream_mode="values")]
            final = states[-1]
        else:
            final = await agent.ainvoke(inputs)
    assert final["messages"][-1].content == "It is sunny in Paris."
    events = {e["id"]: e for e in cap.events()}
    assert {e["session_id"] for e in events.values()} == {sess.id}
    roots = [e for e in events.values() if e["parent_id"] is None]
    assert len(roots) == 1
    (llm_first, llm_second) = sorted(cap.events("llm_call"), key=lambda e: e["ts"])
    assert llm_first["data"]["tool_calls"][0]["name"] == "get_weather"
    assert llm_second["data"]["response"] == "It is sunny in Paris."
    (tool,) = cap.events("tool_call")
    assert tool["data"]["output"] == "Sunny in Paris, 21 C"
    assert all(_under(events, e, roots[0]) for e in [llm_first, llm_second, tool])


@agentlog.tool
def score(text: str) -> int:
    return len(text)


async def test_agentlog_code_inside_a_langgraph_node_nests_under_the_node() -> None:
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict):
        text: str
        score: int

    def grade(state: State) -> dict[str, int]:
        return {"score": score(state["text"])}

    graph = StateGraph(State)
    graph.add_node("grade", grade)
    graph.add_edge(START, "grade")
    graph.add_edge("grade", END)
    app = graph.compile()
    with capture() as cap, agentlog.session("graph"):
        assert app.invoke({"text": "hello", "score": 0})["score"] == 5
        assert (await app.ainvoke({"text": "hi", "score": 0}))["score"] == 2
    nodes = [e for e in cap.events("chain") if e["name"] == "grade"]
    helpers = cap.events("tool_call")
    assert len(nodes) == len(helpers) == 2
    assert {h["parent_id"] for h in helpers} == {n["id"] for n in nodes}
