from __future__ import annotations

import pytest

import agentlog
from agentlog.testing import Capture, capture


@agentlog.tool
def search_kb(query: str) -> list[str]:
    return [query]


@agentlog.session(name="agent")
def agent() -> None:
    search_kb("a")
    agentlog.store_message({"role": "user", "content": "hi"})


def test_capture_collects_what_the_block_recorded() -> None:
    with capture() as cap:
        agent()
    assert [e["name"] for e in cap.events("tool_call")] == ["search_kb"]
    (session,) = cap.sessions
    assert session["status"] == "success" and session["name"] == "agent"
    assert cap.messages()[0]["role"] == "user"


def test_capture_restores_the_previous_configuration(recorded: object) -> None:
    with capture() as cap:
        search_kb("inside")
    search_kb("outside")
    assert [e["data"]["input"]["query"] for e in cap.events()] == ["inside"]
    assert [e["data"]["input"]["query"] for e in recorded.events()] == ["outside"]  # type: ignore[attr-defined]


def test_pytest_fixture(agentlog_capture: Capture) -> None:
    search_kb("fixture")
    assert agentlog_capture.events()[0]["data"]["output"] == ["fixture"]


def test_typed_views_of_what_was_captured() -> None:
    import json

    from agentlog.testing import CapturedSession, LLMCall, ToolCall

    @agentlog.tool
    def broken(x: int) -> int:
        raise ValueError("no")

    with capture() as cap:
        with agentlog.session("s", user="u"):
            search_kb("q")
            agentlog.track_llm_call(model="gpt-4o", stream=True, usage={"input_tokens": 1},
                                    tool_calls=[{"id": "1", "name": "f", "arguments": {}}])  # fmt: skip
            try:
                broken(1)
            except ValueError:
                pass
    (session,) = cap.sessions
    assert isinstance(session, CapturedSession) and (session.name, session.user) == ("s", "u")
    (call,) = cap.tool_calls("search_kb")
    assert isinstance(call, ToolCall) and (call.input, call.output) == ({"query": "q"}, ["q"])
    assert call["data"]["input"] == {"query": "q"} and json.loads(json.dumps(call)) == call
    (llm,) = cap.llm_calls(model="gpt-4o")
    assert isinstance(llm, LLMCall) and llm.stream and llm.tool_calls[0]["name"] == "f"
    assert cap.llm_calls(model="other") == [] and cap.events(name="broken")[0].failed
    assert [e.name for e in cap.errors()] == ["broken"]
    with pytest.raises(AssertionError, match=r"1 error\(s\) recorded:\n  tool_call broken: "
                                             r"ValueError: no\n\ncaptured timeline:\nsession "):  # fmt: skip
        cap.assert_no_errors()
    with pytest.raises(AssertionError, match="no tool call search_kb input='z'"):
        cap.assert_tool_call("search_kb", input="z")
    with pytest.raises(AssertionError, match=r"no LLM call of model 'x' .*models called: gpt-4o"):
        cap.assert_llm_call(model="x")
    with pytest.raises(AssertionError, match="no decision event named 'route'"):
        cap.assert_event("decision", name="route")
    assert cap.assert_event("tool_call", name="search_kb") == call


def test_scores_and_both_spellings_of_sessions() -> None:
    from agentlog.testing import CapturedScore

    with capture() as cap:
        with agentlog.session("scored"):
            agentlog.score("helpful", 4, comment="ok")
    (score,) = cap.scores("helpful")
    assert isinstance(score, CapturedScore) and (score.value, score.comment) == (4, "ok")
    assert cap.scores("other") == [] and cap.sessions() == cap.sessions
    assert score.session_id == cap.sessions[0].id
