from __future__ import annotations

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
    (session,) = cap.sessions()
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
