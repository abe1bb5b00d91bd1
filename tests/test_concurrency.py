"""16 threads and 200 asyncio tasks recording into nested sessions at once."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Any

import agentlog
from tests.conftest import Recorded

TOOLS_PER_RUN = 25


@agentlog.tool
def sync_tool(owner: str, i: int) -> str:
    return owner


@agentlog.tool
async def async_tool(owner: str, i: int) -> str:
    await asyncio.sleep(0)
    return owner


def _thread_run(owner: str) -> None:
    with agentlog.session(owner, id=owner):
        with agentlog.session(f"{owner}/inner", id=f"{owner}/inner"):

            @agentlog.trace(type="step", name=owner)
            def step() -> None:
                for i in range(TOOLS_PER_RUN):
                    sync_tool(owner, i)

            step()


async def _task_run(owner: str) -> None:
    async with agentlog.session(owner, id=owner):
        async with agentlog.session(f"{owner}/inner", id=f"{owner}/inner"):

            @agentlog.trace(type="step", name=owner)
            async def step() -> None:
                for i in range(TOOLS_PER_RUN):
                    await async_tool(owner, i)

            await step()


def test_threads_and_tasks_do_not_cross_talk(recorded: Recorded) -> None:
    threads = [threading.Thread(target=_thread_run, args=(f"t{i}",)) for i in range(16)]

    async def all_tasks() -> None:
        await asyncio.gather(*(_task_run(f"a{i}") for i in range(200)))

    for t in threads:
        t.start()
    asyncio.run(all_tasks())
    for t in threads:
        t.join()

    events = recorded.events()
    owners = [f"t{i}" for i in range(16)] + [f"a{i}" for i in range(200)]
    steps = {e["name"]: e for e in events if e["type"] == "step"}
    tools: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["type"] == "tool_call":
            tools[e["data"]["output"]].append(e)
    assert sorted(steps) == sorted(owners)
    for owner in owners:
        mine = tools[owner]
        assert len(mine) == TOOLS_PER_RUN
        assert sorted(e["data"]["input"]["i"] for e in mine) == list(range(TOOLS_PER_RUN))
        assert {e["session_id"] for e in mine} == {f"{owner}/inner"}
        assert {e["parent_id"] for e in mine} == {steps[owner]["id"]}
        assert steps[owner]["session_id"] == f"{owner}/inner"
    ends = [s for s in recorded.sessions() if s["status"] == "success"]
    assert len(ends) == 2 * len(owners)
    inner = {s["id"]: s for s in ends if s["id"].endswith("/inner")}
    assert all(inner[f"{o}/inner"]["parent_session_id"] == o for o in owners)
    assert agentlog.status().dropped == 0
