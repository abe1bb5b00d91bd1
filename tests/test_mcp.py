"""``agentlog mcp`` driven by a real MCP client session over stdio, on data the SDK recorded."""

from __future__ import annotations

import json
import os
import random
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import agentlog

from .test_cli import collector  # noqa: F401  (the fixture: agentlog serve in a subprocess)

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

JSONL = "runs/events.jsonl"
TOOLS = {"list_sessions", "get_session", "get_timeline", "get_events", "get_messages",
         "event_context", "event_counts", "events_between_markers", "iterate_events",
         "cost", "compare_configs", "get_scores"}  # fmt: skip


INIT: dict[ClientSession, Any] = {}  # each session's initialize() result


def _field(obj: Any, snake: str, camel: str) -> Any:
    """mcp 2 spells result fields in snake_case, mcp 1 in camelCase."""
    return getattr(obj, snake) if hasattr(obj, snake) else getattr(obj, camel)


@asynccontextmanager
async def server(cwd: Path, *where: str) -> AsyncIterator[ClientSession]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    params = StdioServerParameters(command=sys.executable, env=env, cwd=str(cwd),
                                   args=["-m", "agentlog.cli", *(where or ("--jsonl", JSONL)),
                                         "mcp"])  # fmt: skip
    with open(cwd / "server.log", "w") as log:
        async with stdio_client(params, errlog=log) as (read, write):
            async with ClientSession(read, write) as session:
                INIT[session] = await session.initialize()
                yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    text = "".join(c.text for c in result.content if hasattr(c, "text"))
    if _field(result, "is_error", "isError"):
        raise LookupError(text)
    structured = _field(result, "structured_content", "structuredContent")
    data: dict[str, Any] = structured if structured is not None else json.loads(text)
    return data


def record_conversations(seed: int) -> list[str]:
    """Sessions of user turns, assistant replies, tool calls and compactions, recorded through
    the SDK; returns each session's script (u user, a assistant, t tool call, c compaction)."""

    @agentlog.tool
    def lookup(q: str) -> str:
        return q.upper()

    rng = random.Random(seed)
    agentlog.init(path=JSONL)
    scripts = []
    for n in range(8):
        script = "".join(rng.choice("uuuaatc") for _ in range(rng.randint(0, 30)))
        with agentlog.session(f"chat-{n}", user=f"user{n % 3}"):
            for step in script:
                if step == "u":
                    agentlog.store_message({"role": "user", "content": f"turn {n}"})
                elif step == "a":
                    agentlog.store_message({"role": "assistant", "content": "ok"})
                elif step == "t":
                    lookup("x")
                else:
                    agentlog.add_event(agentlog.Event(type="compaction",
                                                      data={"tokens_before": 1000}))  # fmt: skip
        scripts.append(script)
    assert agentlog.flush(10.0)
    agentlog.shutdown()
    return scripts


def brute_force_turns_per_compaction(scripts: list[str]) -> float:
    counts = []
    for script in scripts:
        turns = 0
        for step in script:
            if step == "c":
                counts.append(turns)
                turns = 0
            elif step == "u":
                turns += 1
    assert counts, "the generated data has no compaction"
    return sum(counts) / len(counts)


async def test_answers_user_turns_per_compaction_with_the_tools_alone(tmp_path: Path) -> None:
    expected = brute_force_turns_per_compaction(record_conversations(seed=7))
    async with server(tmp_path) as session:
        # The guide says which tool answers the question, and with which arguments.
        guide = (await session.read_resource("agentlog://guide")).contents[0]
        row = next(line for line in guide.text.splitlines()  # type: ignore[union-attr]
                   if "user turns per compaction" in line)  # fmt: skip
        found = re.search(r"`(\w+)\(marker_types=\[\"(\w+)\"\], count_type=\"(\w+)\"\)`", row)
        assert found is not None
        tool, marker, counted = found.groups()
        stats = await call(session, tool, marker_types=[marker], count_type=counted)
        assert stats["avg_per_marker"] == pytest.approx(expected)

        # The same answer from the raw items, walked page by page through iterate_events.
        counts: list[int] = []
        per_session: dict[str, int] = {}
        cursor = None
        while True:
            page = await call(session, "iterate_events", types=["user", "compaction"],
                              cursor=cursor, limit=7)  # fmt: skip
            for item in page["events"]:
                sid = item["session_id"]
                if item["type"] == "compaction":
                    counts.append(per_session.pop(sid, 0))
                else:
                    per_session[sid] = per_session.get(sid, 0) + 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sum(counts) / len(counts) == pytest.approx(expected)
        assert stats["marker_count"] == len(counts)


async def test_tools_are_listed_with_descriptions_and_the_guide(tmp_path: Path) -> None:
    record_conversations(seed=1)
    async with server(tmp_path) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description and len(tool.description) > 80
            schema = _field(tool, "input_schema", "inputSchema")
            assert schema["type"] == "object"
        marker_args = _field(tools["events_between_markers"], "input_schema", "inputSchema")
        assert {"marker_types", "count_type", "days"} <= set(marker_args["properties"])
        resources = (await session.list_resources()).resources
        assert [str(r.uri) for r in resources] == ["agentlog://guide"]
        text = (await session.read_resource("agentlog://guide")).contents[0].text  # type: ignore[union-attr]
        assert all(name in text for name in TOOLS - {"get_session"})


async def test_sessions_timeline_and_context_through_mcp(tmp_path: Path) -> None:
    scripts = record_conversations(seed=3)
    async with server(tmp_path) as session:
        page = await call(session, "list_sessions", limit=200)
        assert len(page["items"]) == len(scripts) and page["has_more"] is False
        only = await call(session, "list_sessions", user="user1", limit=200)
        assert {s["user"] for s in only["items"]} == {"user1"}
        chat = next(s for s in page["items"] if s["name"] == "chat-0")
        assert (await call(session, "get_session", session_id=chat["id"]))["name"] == "chat-0"

        timeline = await call(session, "get_timeline", session_id=chat["id"])
        lines = timeline["timeline"].splitlines()
        assert lines[0].startswith(f"session {chat['id']} chat-0")
        ids = [m.group(1) for m in (re.search(r"\[([0-9a-f-]{36})\]$", x) for x in lines) if m]
        assert len(ids) == len(scripts[0]) >= 2 and timeline["next_cursor"] is None

        events = await call(session, "get_events", session_id=chat["id"], types=["tool_call"])
        assert len(events["items"]) == scripts[0].count("t")
        ctx = await call(session, "event_context", event_id=ids[1], before=1, after=1)
        assert ctx["target"]["id"] == ids[1] and [i["id"] for i in ctx["before"]] == ids[:1]

        convo = await call(session, "get_messages", session_id=chat["id"], with_events=True)
        assert [m["role"] for m in convo["items"]] == [
            {"u": "user", "a": "assistant"}[step] for step in scripts[0] if step in "ua"
        ]
        assert len(convo["events"]) == sum(step in "tc" for step in scripts[0])

        counts = await call(session, "event_counts", bucket="session", type="user")
        assert counts["total"] == sum(s.count("u") for s in scripts)

        with pytest.raises(LookupError, match="session 'nope' not found"):
            await call(session, "get_timeline", session_id="nope")
        with pytest.raises(LookupError, match="bucket"):
            await call(session, "event_counts", bucket="fortnight")


async def test_serves_a_collector_too(tmp_path: Path, collector: str) -> None:  # noqa: F811
    from agentlog.cli import main

    scripts = record_conversations(seed=11)
    assert main(["import", JSONL, "--url", collector, "--api-key", "cli-test-key-1"]) == 0
    remote = ("--url", collector, "--api-key", "cli-test-key-1")
    async with server(tmp_path, *remote) as session:
        stats = await call(session, "events_between_markers", marker_types=["compaction"])
        assert stats["avg_per_marker"] == pytest.approx(brute_force_turns_per_compaction(scripts))


async def test_serves_a_store_named_by_db(tmp_path: Path) -> None:
    from agentlog.cli import main

    scripts = record_conversations(seed=5)
    assert main(["import", JSONL, "--db", "copy.db", "--quiet"]) == 0
    async with server(tmp_path, "--db", "copy.db") as session:
        page = await call(session, "list_sessions", limit=200)
        assert sorted(s["name"] for s in page["items"]) == [f"chat-{n}" for n in range(8)]
        counts = await call(session, "event_counts", type="compaction", days=1)
        assert counts["total"] == sum(s.count("c") for s in scripts)


async def test_reports_its_version_and_reads_a_project_by_id_prefix(tmp_path: Path) -> None:
    from agentlog.cli import main

    record_conversations(seed=7)

    @agentlog.tool
    def fails() -> None:
        raise RuntimeError("down")

    agentlog.init(path=JSONL)  # record_conversations shut the SDK down
    with agentlog.session("failing"):
        try:
            fails()
        except RuntimeError:
            pass
    agentlog.shutdown()
    assert main(["import", JSONL, "--db", "team.db", "--project", "team", "--quiet"]) == 0
    async with server(tmp_path, "--db", "team.db", "--project", "team") as session:
        info = _field(INIT[session], "server_info", "serverInfo")
        assert (info.name, info.version) == ("agentlog", agentlog.__version__)
        page = await call(session, "list_sessions", limit=200)
        assert len(page["items"]) == 9 and set(page) == {"items", "next_cursor", "has_more"}
        failed = await call(session, "event_counts", status="error", bucket="session")
        (failing,) = [s["id"] for s in page["items"] if s["name"] == "failing"]
        assert failed["total"] == 1 and failed["counts"][0]["bucket"] == failing
        sid = page["items"][1]["id"]
        # the shortest prefix of at least 8 characters that no other session shares
        others = [s["id"] for s in page["items"] if s["id"] != sid]
        width = next(n for n in range(8, 37) if not any(o.startswith(sid[:n]) for o in others))
        timeline = await call(session, "get_timeline", session_id=sid[:width])
        assert timeline["session_id"] == sid and timeline["timeline"].startswith(f"session {sid}")
        got = await call(session, "get_session", session_id=sid[:width])
        assert got["id"] == sid
    async with server(tmp_path, "--db", "team.db") as session:  # the default project: empty
        assert (await call(session, "list_sessions"))["items"] == []
