"""Chat Completions: sync/async x stream/no-stream x success/error, against respx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
import respx
from agentlog_testsupport import assert_llm_call_shape, call_and_read, instrumented_capture
from openai_fakes import USAGE, chat_chunks, chat_completion, chat_stream_response, error_body

import agentlog
from agentlog.testing import Capture

MESSAGES = [{"role": "user", "content": "Say hello"}]


def _route(api: respx.MockRouter, *, stream: bool, fail: bool, tool: bool = False) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if fail and not stream:
            return error_body(429)
        if stream:
            chunks = chat_chunks(tool=tool)
            return chat_stream_response(request, chunks, fail_after=3 if fail else None)
        return httpx.Response(200, json=chat_completion(tool=tool))

    api.post("/chat/completions").mock(side_effect=reply)


async def _outcome(
    client: Any, aclient: Any, *, is_async: bool, stream: bool
) -> tuple[Any, BaseException | None]:
    """One call; a stream is read to the end. What the caller saw, and the error it got."""
    args: dict[str, Any] = {"model": "gpt-4o", "messages": MESSAGES, "temperature": 0.2}
    if stream:
        args["stream"] = True
    create = (aclient if is_async else client).chat.completions.create
    return await call_and_read(
        lambda: create(**args), is_async=is_async, stream=stream, errors=openai.APIError
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fail", [False, True], ids=["ok", "error"])
async def test_chat_matrix(
    api: respx.MockRouter, client: Any, aclient: Any, is_async: bool, stream: bool, fail: bool
) -> None:
    _route(api, stream=stream, fail=fail)
    agentlog.uninstrument("openai")
    baseline, base_exc = await _outcome(client, aclient, is_async=is_async, stream=stream)
    with instrumented_capture("openai") as cap:
        seen, exc = await _outcome(client, aclient, is_async=is_async, stream=stream)

    assert seen == baseline  # the caller sees exactly what it sees uninstrumented
    assert type(exc) is type(base_exc)
    [event] = cap.events("llm_call")
    data = event["data"]
    assert (data["provider"], data["operation"], data["stream"]) == ("openai", "chat", stream)
    assert data["messages"] == MESSAGES
    assert data["params"] == {"temperature": 0.2}
    if fail:
        assert event["status"] == "error"
        assert event["error"]["type"] == type(exc).__name__
        assert event["partial"] is stream
        if stream:
            assert (
                seen and data["response"] == "Hello"
            )  # what arrived before the connection dropped
        return
    assert event["status"] == "ok" and event["partial"] is False
    assert_llm_call_shape(data)
    assert data["response"] == "Hello there!"
    assert data["model"] == "gpt-4o-2024-08-06"  # the model that answered
    assert data["request_model"] == "gpt-4o"  # the one asked for
    assert data["usage"] == {"input_tokens": 21, "output_tokens": 9, "total_tokens": 30,
                             "cache_read_tokens": 16, "reasoning_tokens": 4}  # fmt: skip
    assert data["finish_reason"] == "stop"
    if stream:
        assert data["time_to_first_token_ms"] > 0
    assert event["duration_ms"] >= 0


def test_error_is_reraised_unchanged(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    api.post("/chat/completions").mock(return_value=error_body(429))
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert info.value.status_code == 429
    assert info.value.body == {"message": "Rate limit reached", "type": "requests",
                               "param": None, "code": "rate_limit_exceeded"}  # fmt: skip
    [event] = cap.events("llm_call")
    assert event["error"]["message"] == str(info.value)


def test_tool_call_is_recorded(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    _route(api, stream=False, fail=False, tool=True)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=tools)
    [event] = cap.events("llm_call")
    assert event["data"]["tool_calls"] == [
        {"id": "call_abc", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert event["data"]["params"]["tools"] == tools
    assert event["data"]["finish_reason"] == "tool_calls"


async def test_streamed_tool_call_is_assembled(
    api: respx.MockRouter, aclient: Any, cap: Capture
) -> None:
    _route(api, stream=True, fail=False, tool=True)
    stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    pieces = [c.choices[0].delta.tool_calls async for c in stream]
    assert len(pieces) == 7
    [event] = cap.events("llm_call")
    assert event["data"]["tool_calls"] == [
        {"id": "call_abc", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert event["data"]["response"] is None


def test_usage_is_requested_and_the_usage_chunk_hidden(
    api: respx.MockRouter, client: Any, cap: Capture
) -> None:
    _route(api, stream=True, fail=False)
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    sent = json.loads(api.calls.last.request.content)
    assert sent["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)
    assert all("usage" not in c.to_dict() for c in chunks)
    assert cap.events("llm_call")[0]["data"]["usage"]["total_tokens"] == 30


def test_caller_asked_for_usage_sees_the_usage_chunk(
    api: respx.MockRouter, client: Any, cap: Capture
) -> None:
    _route(api, stream=True, fail=False)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == USAGE["total_tokens"]
    [event] = cap.events("llm_call")
    assert event["data"]["params"]["stream_options"] == {"include_usage": True}


def test_caller_who_refused_usage_is_not_overridden(
    api: respx.MockRouter, client: Any, cap: Capture
) -> None:
    _route(api, stream=True, fail=False)
    options = {"include_usage": False}
    list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True,
                                        stream_options=options))  # fmt: skip
    assert json.loads(api.calls.last.request.content)["stream_options"] == options
    assert "usage" not in cap.events("llm_call")[0]["data"]


def test_with_raw_response(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    _route(api, stream=False, fail=False)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.headers["content-type"] == "application/json"
    assert raw.parse().choices[0].message.content == "Hello there!"
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "Hello there!"


def test_with_raw_response_stream(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    _route(api, stream=True, fail=False)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse())
    assert text == "Hello there!"
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "Hello there!"
    assert event["data"]["usage"]["output_tokens"] == 9


def test_messages_appended_after_the_call_are_not_recorded(
    api: respx.MockRouter, client: Any, cap: Capture
) -> None:
    _route(api, stream=True, fail=False)
    messages = list(MESSAGES)
    stream = client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
    messages.append({"role": "user", "content": "said while the answer streams"})
    list(stream)  # the event is written now, after the list changed
    [event] = cap.events("llm_call")
    assert event["data"]["messages"] == MESSAGES


def test_capture_off_keeps_payloads_out(api: respx.MockRouter, client: Any) -> None:
    from agentlog.exporters import MemoryExporter

    _route(api, stream=False, fail=False)
    exporter = MemoryExporter()
    agentlog.init(exporter=exporter, capture=False, instrument=["openai"])
    try:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert agentlog.flush(10.0)
    finally:
        agentlog.uninstrument("openai")
    [event] = [r for r in exporter.records if r.get("type") == "llm_call"]
    assert "messages" not in event["data"] and "response" not in event["data"]
    assert event["data"]["usage"]["total_tokens"] == 30
