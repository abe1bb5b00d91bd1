"""messages.create: sync/async x stream/no-stream x success/error, against respx."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
import respx
from agentlog_testsupport import assert_llm_call_shape, call_and_read, instrumented_capture
from anthropic_fakes import (
    RECORDED_USAGE,
    error_response,
    events,
    message,
    stream_response,
)

import agentlog
from agentlog.testing import Capture

MESSAGES = [{"role": "user", "content": "Say hello"}]
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def _route(api: respx.MockRouter, *, stream: bool, fail: bool, tool: bool = False) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if stream:
            items = events(tool=tool)
            return stream_response([*items[:4], OVERLOADED] if fail else items)
        if fail:
            return error_response(529)
        return httpx.Response(200, json=message(tool=tool))

    api.post("/v1/messages").mock(side_effect=reply)


async def _outcome(
    client: Any, aclient: Any, *, is_async: bool, stream: bool
) -> tuple[Any, BaseException | None]:
    args: dict[str, Any] = {"model": "claude-sonnet-5-5", "max_tokens": 100,
                            "messages": MESSAGES, "system": "Be brief"}  # fmt: skip
    if stream:
        args["stream"] = True
    create = (aclient if is_async else client).messages.create
    return await call_and_read(
        lambda: create(**args), is_async=is_async, stream=stream, errors=anthropic.APIError
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fail", [False, True], ids=["ok", "error"])
async def test_messages_matrix(
    api: respx.MockRouter, client: Any, aclient: Any, is_async: bool, stream: bool, fail: bool
) -> None:
    _route(api, stream=stream, fail=fail)
    agentlog.uninstrument("anthropic")
    baseline, base_exc = await _outcome(client, aclient, is_async=is_async, stream=stream)
    with instrumented_capture("anthropic") as cap:
        seen, exc = await _outcome(client, aclient, is_async=is_async, stream=stream)

    assert seen == baseline  # the caller sees exactly what it sees uninstrumented
    assert type(exc) is type(base_exc) and (exc is None) is not fail
    [event] = cap.events("llm_call")
    data = event["data"]
    assert (data["provider"], data["operation"], data["stream"]) == (
        "anthropic",
        "messages",
        stream,
    )
    assert data["messages"] == [{"role": "system", "content": "Be brief"}, *MESSAGES]
    assert data["params"] == {"max_tokens": 100}
    if fail:
        assert event["status"] == "error"
        assert event["error"]["type"] == type(exc).__name__
        assert event["partial"] is stream
        if stream:
            assert data["response"] == "Hel"  # what arrived before the error event
        return
    assert event["status"] == "ok" and event["partial"] is False
    assert_llm_call_shape(data)
    assert data["response"] == "Hello there!"
    assert data["model"] == "claude-sonnet-5-5-20261001"  # the model that answered
    assert data["request_model"] == "claude-sonnet-5-5"  # the one asked for
    assert data["usage"] == RECORDED_USAGE
    assert data["finish_reason"] == "end_turn"
    if stream:
        assert data["time_to_first_token_ms"] > 0


def test_error_is_reraised_unchanged(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    api.post("/v1/messages").mock(return_value=error_response(529))
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model="claude-sonnet-5-5", max_tokens=10, messages=MESSAGES)
    assert info.value.status_code == 529
    [event] = cap.events("llm_call")
    assert event["error"]["type"] == type(info.value).__name__
    assert event["error"]["message"] == str(info.value)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_use_blocks_are_tool_calls(
    api: respx.MockRouter, client: Any, cap: Capture, stream: bool
) -> None:
    _route(api, stream=stream, fail=False, tool=True)
    tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    result = client.messages.create(model="claude-sonnet-5-5", max_tokens=100,
                                    messages=MESSAGES, tools=tools, stream=stream)  # fmt: skip
    if stream:
        list(result)
    [event] = cap.events("llm_call")
    data = event["data"]
    expected = {"city": "Paris"}  # an object, as from every provider (streamed: parsed)
    assert data["tool_calls"] == [{"id": "toolu_01", "name": "get_weather", "arguments": expected}]
    assert_llm_call_shape(data)
    assert data["response"] == "Let me check."
    assert data["finish_reason"] == "tool_use"
    assert data["params"]["tools"] == tools


def test_connection_dropped_mid_stream(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    api.post("/v1/messages").mock(return_value=stream_response(events(), fail_after=5))
    stream = client.messages.create(model="claude-sonnet-5-5", max_tokens=10,
                                    messages=MESSAGES, stream=True)  # fmt: skip
    got = []
    with pytest.raises(Exception) as info:
        for event in stream:
            got.append(event.type)
    assert got == ["message_start", "content_block_start", "content_block_delta",
                   "content_block_delta"]  # fmt: skip
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["partial"] is True
    assert event["error"]["type"] == type(info.value).__name__
    assert event["data"]["response"] == "Hello"


def test_with_raw_response(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    _route(api, stream=False, fail=False)
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-5-5", max_tokens=10, messages=MESSAGES
    )
    assert raw.parse().content[0].text == "Hello there!"
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "Hello there!"
