"""ChatOpenAI over respx: one model call is one llm_call, recorded by LangChain.

The ``openai`` integration is switched on too, and must stay silent under LangChain, yet record
a direct OpenAI call made afterwards in the same context. The tests of that need it installed:
without it they skip, or fail when ``CI`` is set, so a CI run cannot pass them untested.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import openai
import pytest
import respx
from agentlog_testsupport import assert_llm_call_shape
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai_fakes import (
    BASE,
    STREAM_CUT_ERRORS,
    USAGE,
    asks_for_usage,
    chat_openai,
    completion,
    sse,
    tool_call_completion,
)

import agentlog
from agentlog.instrumentation import available_integrations, llm_recorded_by
from agentlog.testing import Capture

HAS_OPENAI_INTEGRATION = "openai" in available_integrations()


@pytest.fixture
def both(instrumented: None) -> Iterator[None]:
    if HAS_OPENAI_INTEGRATION:
        assert agentlog.instrument("openai")
    yield
    if HAS_OPENAI_INTEGRATION:
        agentlog.uninstrument("openai")


@pytest.fixture
def openai_integration() -> None:
    if HAS_OPENAI_INTEGRATION:
        return
    reason = "the openai integration (agentlog-openai) is not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test: pip install -e integrations/openai")
    pytest.skip(reason)


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


def _answer(router: respx.MockRouter, *, streaming: bool, text: str = "Sunny, 21 C") -> None:
    if streaming:
        # As the API does: the usage chunk only when the request asks for it.
        router.post("/chat/completions").mock(side_effect=lambda request: httpx.Response(
            200, content=sse(re.split(r"( )", text), usage=asks_for_usage(request)),
            headers={"content-type": "text/event-stream"},
        ))  # fmt: skip
    else:
        router.post("/chat/completions").mock(
            return_value=httpx.Response(200, json=completion(text))
        )


async def _call(model: Any, *, is_async: bool, streaming: bool) -> Any:
    prompt = [HumanMessage("Weather in Paris?", id="q")]
    # ChatOpenAI names its messages after the run id: fix it so two runs can be compared.
    config: Any = {"run_id": UUID("01234567-89ab-7def-8123-456789abcdef")}
    if streaming:
        if is_async:
            return [c async for c in model.astream(prompt, config)]
        return list(model.stream(prompt, config))
    return await model.ainvoke(prompt, config) if is_async else model.invoke(prompt, config)


MODES = [
    pytest.param(a, s, id=f"{'async' if a else 'sync'}-{'stream' if s else 'invoke'}")
    for a in (False, True) for s in (False, True)
]  # fmt: skip


@pytest.mark.parametrize(("is_async", "streaming"), MODES)
async def test_one_model_call_is_one_llm_call(
    router: respx.MockRouter, openai_integration: None, is_async: bool, streaming: bool
) -> None:
    from agentlog.testing import capture

    _answer(router, streaming=streaming)
    plain_owners: list[str | None] = []
    plain = await _call(chat_openai(router, plain_owners), is_async=is_async, streaming=streaming)

    agentlog.instrument("langchain")
    assert agentlog.instrument("openai")
    owners: list[str | None] = []
    try:
        with capture() as cap, agentlog.session("openai") as sess:
            traced = await _call(chat_openai(router, owners), is_async=is_async,
                                 streaming=streaming)  # fmt: skip
            calls = cap.events("llm_call")
    finally:
        agentlog.uninstrument("langchain")
        agentlog.uninstrument("openai")

    assert traced == plain
    assert plain_owners == [None]
    assert owners == ["langchain"]  # set in the very context that sent the HTTP request
    (call,) = calls
    assert call["session_id"] == sess.id
    assert call["name"] == "ChatOpenAI"
    assert call["data"]["provider"] == "openai"
    assert call["data"]["request_model"] == "gpt-4o-mini"  # the one asked for
    assert call["data"]["model"] == "gpt-4o-mini-2024-07-18"  # the one that answered
    assert call["data"]["messages"] == [{"role": "user", "content": "Weather in Paris?"}]
    assert call["data"]["response"] == "Sunny, 21 C"
    assert call["data"]["usage"]["input_tokens"] == USAGE["prompt_tokens"]
    assert call["data"]["usage"]["output_tokens"] == USAGE["completion_tokens"]
    assert call["data"]["usage"]["total_tokens"] == USAGE["total_tokens"]
    assert call["data"]["stream"] is streaming
    assert_llm_call_shape(call["data"])


def test_tool_call_requested_by_the_model(cap: Capture, router: respx.MockRouter,
                                          both: None) -> None:  # fmt: skip
    router.post("/chat/completions").mock(
        return_value=httpx.Response(
            200, json=tool_call_completion("get_weather", {"city": "Paris"})
        )
    )
    with agentlog.session("tools"):
        reply = chat_openai(router, []).invoke("Weather in Paris?")
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls[0]["name"] == "get_weather"
    (call,) = cap.events("llm_call")
    assert call["data"]["tool_calls"] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert call["data"]["finish_reason"] == "tool_calls"
    assert_llm_call_shape(call["data"])


async def test_api_error_is_recorded_and_raised_unchanged(
    cap: Capture, router: respx.MockRouter, both: None
) -> None:
    router.post("/chat/completions").mock(
        return_value=httpx.Response(
            500, json={"error": {"message": "overloaded", "type": "server_error"}}
        )
    )
    with agentlog.session("errors"), pytest.raises(openai.InternalServerError) as info:
        await chat_openai(router, []).ainvoke("hi")
    (call,) = cap.events("llm_call")
    assert call["status"] == "error"
    assert call["error"]["type"] == type(info.value).__name__


async def test_direct_openai_call_after_langchain_is_recorded_by_the_provider(
    cap: Capture, router: respx.MockRouter, openai_integration: None, both: None
) -> None:
    _answer(router, streaming=False, text="hello")
    model = chat_openai(router, [])
    with agentlog.session("mixed"):
        await model.ainvoke("first")
        # Same task, after the LangChain call: the mark must be gone, so the provider records.
        assert llm_recorded_by() is None
        await model.async_client.create(model="gpt-4o-mini",
                                        messages=[{"role": "user", "content": "second"}])  # fmt: skip
    calls = cap.events("llm_call")
    assert len(calls) == 2
    assert calls[0]["name"] == "ChatOpenAI"
    assert calls[1]["name"] != "ChatOpenAI"


async def test_batch_runs_each_call_marked_in_its_own_worker(
    cap: Capture, router: respx.MockRouter, both: None
) -> None:
    _answer(router, streaming=False, text="ok")
    owners: list[str | None] = []
    model = chat_openai(router, owners)
    with agentlog.session("batch") as sess:
        replies = model.batch(["one", "two", "three"])
        areplies = await model.abatch(["four", "five"])
    assert [r.content for r in [*replies, *areplies]] == ["ok"] * 5
    assert owners == ["langchain"] * 5
    calls = cap.events("llm_call")
    assert len(calls) == 5
    assert {c["session_id"] for c in calls} == {sess.id}
    assert sorted(c["data"]["messages"][0]["content"] for c in calls) == sorted(
        ["one", "two", "three", "four", "five"]
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_stream_cut_half_way_is_an_error_with_the_text_so_far(
    cap: Capture, router: respx.MockRouter, both: None, is_async: bool
) -> None:
    _answer(router, streaming=True, text="Sunny all day in Paris")
    body = sse(re.split(r"( )", "Sunny all day in Paris"))
    cut = body.index(b"day")  # the server goes away inside the chunk carrying "day"
    model = chat_openai(router, [], cut_after=cut)
    got: list[str] = []
    with agentlog.session("cut"), pytest.raises(STREAM_CUT_ERRORS) as info:
        if is_async:
            async for chunk in model.astream("weather?"):
                got.append(str(chunk.content))
        else:
            for chunk in model.stream("weather?"):
                got.append(str(chunk.content))
    assert "".join(got) == "Sunny all "
    (call,) = cap.events("llm_call")
    assert call["status"] == "error"
    assert call["error"]["type"] == type(info.value).__name__
    assert call["data"]["response"] == "Sunny all "
    assert call["data"]["time_to_first_token_ms"] is not None


async def test_astream_events_records_one_llm_call(
    cap: Capture, router: respx.MockRouter, both: None
) -> None:
    _answer(router, streaming=True)
    owners: list[str | None] = []
    model = chat_openai(router, owners)
    with agentlog.session("events"):
        kinds = [e["event"] async for e in model.astream_events("weather?", version="v2")]
    assert kinds[0] == "on_chat_model_start" and kinds[-1] == "on_chat_model_end"
    assert owners == ["langchain"]
    (call,) = cap.events("llm_call")
    assert call["data"]["response"] == "Sunny, 21 C"
    assert call["data"]["stream"] is True


def test_usage_details_and_unparsable_arguments_in_the_shared_shape(
    cap: Capture, router: respx.MockRouter, both: None
) -> None:
    body = tool_call_completion("get_weather", {"city": "Paris"})
    body["choices"][0]["message"]["tool_calls"].append(
        {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": "{oops"}}
    )
    body["usage"] = {
        "prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52,
        "prompt_tokens_details": {"cached_tokens": 32},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }  # fmt: skip
    router.post("/chat/completions").mock(return_value=httpx.Response(200, json=body))
    with agentlog.session("shape"):
        chat_openai(router, []).invoke("Weather in Paris?")
    (call,) = cap.events("llm_call")
    data = call["data"]
    assert_llm_call_shape(data)
    assert data["usage"] == {"input_tokens": 40, "output_tokens": 12, "total_tokens": 52,
                             "cache_read_tokens": 32, "reasoning_tokens": 5}  # fmt: skip
    assert data["tool_calls"] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "call_2", "name": "lookup", "arguments": "{oops"},  # as the model wrote it
    ]


async def _invoke_streaming(model: Any, *, is_async: bool) -> Any:
    config: Any = {"run_id": UUID("01234567-89ab-7def-8123-456789abcdef")}
    prompt = [HumanMessage("Weather in Paris?", id="q")]
    return await model.ainvoke(prompt, config) if is_async else model.invoke(prompt, config)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_streaming_model_invoked_keeps_its_usage_hidden_from_the_caller(
    router: respx.MockRouter, is_async: bool
) -> None:
    from agentlog.testing import capture

    _answer(router, streaming=True)
    plain = await _invoke_streaming(chat_openai(router, [], streaming=True), is_async=is_async)
    assert plain.usage_metadata is None  # this model does not ask for usage by itself
    agentlog.instrument("langchain")
    try:
        with capture() as cap, agentlog.session("streaming"):
            traced = await _invoke_streaming(chat_openai(router, [], streaming=True),
                                             is_async=is_async)  # fmt: skip
            (call,) = cap.events("llm_call")
    finally:
        agentlog.uninstrument("langchain")
    assert asks_for_usage(router.calls.last.request)  # agentlog asked, as the openai one does
    assert traced == plain  # and the caller gets what it got uninstrumented
    assert call["data"]["stream"] is True
    assert call["data"]["usage"] == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}


@pytest.mark.parametrize("asked", [False, True], ids=["refused", "asked"])
def test_what_the_caller_said_about_stream_usage_is_kept(
    cap: Capture, router: respx.MockRouter, instrumented: None, asked: bool
) -> None:
    _answer(router, streaming=True)
    model = chat_openai(router, [], stream_usage=asked)
    with agentlog.session("said"):
        chunks = list(model.stream("weather?"))
    (call,) = cap.events("llm_call")
    assert asks_for_usage(router.calls.last.request) is asked
    assert any(c.usage_metadata for c in chunks) is asked  # theirs to see when they asked
    assert (call["data"]["usage"] is not None) is asked
