"""What the handler records for chains, models, tools and retrievers, and where it nests them."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

import agentlog
from agentlog.instrumentation import current_span_id, to_jsonable
from agentlog.testing import Capture, capture

pytestmark = pytest.mark.usefixtures("instrumented")


class KeywordRetriever(BaseRetriever):
    docs: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [d for d in self.docs if query.lower() in d.page_content.lower()]


def _chat(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(
        messages=iter([AIMessage(content=r, id=f"m{i}") for i, r in enumerate(replies)])
    )


def test_chain_nests_under_the_active_agentlog_span(cap: Capture) -> None:
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | _chat("hello there")

    @agentlog.trace(type="step")
    def handle() -> Any:
        return chain.invoke({"q": "hi"})

    with agentlog.session("nesting") as sess:
        handle()
    events = {e["id"]: e for e in cap.events()}
    (step,) = cap.events("step")
    (seq,) = [e for e in events.values() if e["name"] == "RunnableSequence"]
    (llm,) = cap.events("llm_call")
    assert seq["parent_id"] == step["id"]
    assert llm["parent_id"] == seq["id"]
    assert {e["session_id"] for e in events.values()} == {sess.id}
    assert llm["data"]["provider"] == "genericfakechatmodel"
    assert llm["data"]["response"] == "hello there"
    assert seq["data"] == {
        "input": {"q": "hi"},
        "output": {**_dump(AIMessage("hello there", id="m0"))},
    }


def _dump(message: AIMessage) -> dict[str, Any]:
    return to_jsonable(message)  # type: ignore[no-any-return]


def test_retriever_is_a_retrieval_span(cap: Capture) -> None:
    retriever = KeywordRetriever(
        docs=[
            Document("Reset your password in Settings", id="d1", metadata={"src": "kb"}),
            Document("Refund policy", id="d2"),
        ]
    )
    with agentlog.session("rag"):
        found = retriever.invoke("password")
    assert [d.id for d in found] == ["d1"]
    (span,) = cap.events("retrieval")
    assert span["name"] == "KeywordRetriever"
    assert span["data"] == {
        "query": "password",
        "documents": [{"page_content": "Reset your password in Settings",
                       "metadata": {"src": "kb"}, "id": "d1"}],
    }  # fmt: skip


def test_tool_error_is_recorded_and_raised_unchanged(cap: Capture) -> None:
    boom = ValueError("no such city")

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        raise boom

    with agentlog.session("tools"), pytest.raises(ValueError) as info:
        lookup.invoke({"city": "Atlantis"})
    assert info.value is boom
    (span,) = cap.events("tool_call")
    assert span["status"] == "error"
    assert span["error"]["type"] == "ValueError"
    assert span["data"]["input"] == {"city": "Atlantis"}


def test_batch_records_one_llm_call_per_input(cap: Capture) -> None:
    model = FakeListLLM(responses=["a", "b", "c"])
    with agentlog.session("batch") as sess:
        out = model.batch(["one", "two", "three"], config={"max_concurrency": 1})
    assert out == ["a", "b", "c"]
    calls = cap.events("llm_call")
    assert sorted(c["data"]["messages"] for c in calls) == ["one", "three", "two"]
    assert sorted(c["data"]["response"] for c in calls) == ["a", "b", "c"]
    assert {c["session_id"] for c in calls} == {sess.id}


def test_abandoned_stream_is_partial_not_error(cap: Capture) -> None:
    model = _chat("one two three four")
    with agentlog.session("stream"):
        stream = model.stream("count")
        assert next(stream).content == "one"
        stream.close()
    (call,) = cap.events("llm_call")
    assert call["partial"] is True
    assert call["status"] == "ok"
    assert call["data"]["stream"] is True
    assert call["data"]["time_to_first_token_ms"] >= 0


def test_runs_langchain_hides_are_not_recorded(cap: Capture) -> None:
    plumbing = RunnableLambda(lambda x: x, name="plumbing").with_config(tags=["langsmith:hidden"])
    step = RunnableLambda(lambda x: x + 1, name="step")
    outer = RunnableLambda(lambda x: step.invoke(plumbing.invoke(x)), name="outer")
    with agentlog.session("hidden"):
        assert outer.invoke(1) == 2
    names = {e["name"]: e for e in cap.events("chain")}
    assert set(names) == {"outer", "step"}
    assert names["step"]["parent_id"] == names["outer"]["id"]
    assert names["outer"]["data"]["output"] == 2  # its own end, not the hidden run's


def test_payloads_are_left_out_when_capture_is_off() -> None:
    with capture(capture_payloads=False) as cap, agentlog.session("private"):
        _chat("secret answer").invoke("secret question")
    (call,) = cap.events("llm_call")
    assert call["data"]["messages"] is None
    assert "response" not in call["data"] or call["data"]["response"] is None
    assert "secret" not in str(cap.records)


def test_recording_failure_never_reaches_the_caller(
    cap: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agentlog_langchain._runs as runs

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("recorder broke")

    monkeypatch.setattr(runs, "start_span", broken)
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | _chat("still fine")
    with agentlog.session("broken"):
        assert chain.invoke({"q": "hi"}).content == "still fine"
    assert cap.events() == []


def test_text_llm_prompt_and_response(cap: Capture) -> None:
    with agentlog.session("llm"):
        assert FakeListLLM(responses=["pong"]).invoke("ping") == "pong"
    (call,) = cap.events("llm_call")
    assert call["data"]["messages"] == "ping"
    assert call["data"]["response"] == "pong"
    assert call["data"]["provider"] == "fakelist"


@agentlog.tool
def lookup_forecast(city: str) -> str:
    return f"{city}: sunny"


@tool
def forecast(city: str) -> str:
    """Forecast for a city, through the team's own agentlog-traced helper."""
    return lookup_forecast(city)


@tool
async def aforecast(city: str) -> str:
    """Async forecast for a city."""
    return lookup_forecast(city)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_agentlog_code_inside_a_langchain_tool_nests_under_it(
    cap: Capture, is_async: bool
) -> None:
    wrapper = RunnableLambda(
        lambda city: forecast.invoke({"city": city}),
        afunc=lambda city: aforecast.ainvoke({"city": city}),
        name="outer",
    )
    with agentlog.session("inner") as sess:
        out = await wrapper.ainvoke("Oslo") if is_async else wrapper.invoke("Oslo")
        assert current_span_id() is None  # nothing leaked into the caller
    assert out == "Oslo: sunny"
    spans = cap.events("tool_call")
    (inner,) = [s for s in spans if s["name"] == "lookup_forecast"]
    (outer_tool,) = [s for s in spans if s["name"] != "lookup_forecast"]
    assert inner["parent_id"] == outer_tool["id"]
    assert inner["session_id"] == sess.id


def test_copied_callback_lists_keep_the_one_handler(cap: Capture) -> None:
    import copy

    from langchain_core.callbacks import CallbackManager

    manager = CallbackManager.configure()
    (handler,) = [h for h in manager.handlers if type(h).__name__ == "AgentlogCallbackHandler"]
    assert copy.deepcopy(manager.handlers)[manager.handlers.index(handler)] is handler
    assert copy.copy(handler) is handler


def test_open_runs_are_bounded_and_drops_counted(
    cap: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agentlog_langchain._runs as runs
    from langchain_core.callbacks import CallbackManager

    monkeypatch.setattr(runs, "MAX_OPEN_RUNS", 1)
    (handler,) = [h for h in CallbackManager.configure().handlers
                  if type(h).__name__ == "AgentlogCallbackHandler"]  # fmt: skip
    before = handler.runs.dropped
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | _chat("bounded")
    with agentlog.session("bounded"):
        assert chain.invoke({"q": "hi"}).content == "bounded"
    assert [e["name"] for e in cap.events()] == ["RunnableSequence"]
    assert handler.runs.dropped == before + 2


def test_tool_span_ends_with_capture_off() -> None:
    with capture(capture_payloads=False) as cap, agentlog.session("private"):
        assert forecast.invoke({"city": "Oslo"}) == "Oslo: sunny"
        assert FakeListLLM(responses=["pong"]).invoke("ping") == "pong"
    spans = {e["name"]: e for e in cap.events()}
    assert spans["forecast"]["data"] == {"input": None, "output": None}
    assert spans["forecast"]["end_ts"] is not None
    assert "pong" not in str(cap.records) and "Oslo" not in str(cap.records)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_records_even_if_the_lock_was_held(cap: Capture) -> None:
    import os
    import warnings

    from langchain_core.callbacks import CallbackManager

    (handler,) = [h for h in CallbackManager.configure().handlers
                  if type(h).__name__ == "AgentlogCallbackHandler"]  # fmt: skip
    with handler.runs._lock, warnings.catch_warnings():  # as if mid-update in another thread
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
        pid = os.fork()
        if pid == 0:  # the child: must not deadlock on the inherited lock
            code = 0
            try:
                with capture() as child, agentlog.session("child"):
                    _chat("from the child").invoke("hi")
                code = 0 if len(child.events("llm_call")) == 1 else 3
            except BaseException:
                code = 4
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
