"""The Responses API and embeddings."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
import respx
from agentlog_testsupport import assert_llm_call_shape, instrumented_capture
from openai_fakes import embeddings, error_body, response_object, responses_events, sse

from agentlog.testing import Capture

RESPONSES_USAGE = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
                   "cache_read_tokens": 8, "reasoning_tokens": 2}  # fmt: skip


def _sse_response(events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          content=sse(events, done=False, named=True))  # fmt: skip


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_responses_create(
    api: respx.MockRouter, client: Any, aclient: Any, cap: Capture, is_async: bool
) -> None:
    api.post("/responses").mock(return_value=httpx.Response(200, json=response_object()))
    args = {
        "model": "gpt-4.1",
        "input": "Say hi",
        "instructions": "Be brief",
        "max_output_tokens": 50,
    }
    if is_async:
        result = await aclient.responses.create(**args)
    else:
        result = client.responses.create(**args)
    assert result.output_text == "Hi from responses"
    [event] = cap.events("llm_call")
    data = event["data"]
    assert data["operation"] == "responses"
    assert event["name"] == "openai.responses.create"
    assert data["messages"] == [{"role": "system", "content": "Be brief"},
                                {"role": "user", "content": "Say hi"}]  # fmt: skip
    assert data["response"] == "Hi from responses"
    assert data["params"] == {"max_output_tokens": 50}
    assert data["usage"] == RESPONSES_USAGE
    assert data["model"] == "gpt-4.1-2025-04-14"
    assert data["request_model"] == "gpt-4.1"


@pytest.mark.parametrize("tool", [False, True], ids=["text", "tool"])
async def test_responses_stream(
    api: respx.MockRouter, client: Any, aclient: Any, tool: bool
) -> None:
    api.post("/responses").mock(side_effect=lambda _: _sse_response(responses_events(tool=tool)))
    baseline = [e.to_dict() for e in client.responses.create(model="gpt-4.1", input="hi",
                                                                stream=True)]  # fmt: skip
    with instrumented_capture("openai") as cap:
        stream = await aclient.responses.create(model="gpt-4.1", input="hi", stream=True)
        seen = [e.to_dict() async for e in stream]
    assert seen == baseline
    [event] = cap.events("llm_call")
    data = event["data"]
    assert event["partial"] is False and data["stream"] is True
    assert data["usage"] == RESPONSES_USAGE
    assert_llm_call_shape(data)
    assert data["time_to_first_token_ms"] > 0
    if tool:
        assert data["tool_calls"] == [
            {"id": "call_xyz", "name": "get_weather", "arguments": {"city": "Paris"}}
        ]
    else:
        assert data["response"] == "Hi from responses"


def test_responses_stream_broken_off_keeps_the_pieces(
    api: respx.MockRouter, client: Any, cap: Capture
) -> None:
    api.post("/responses").mock(side_effect=lambda _: _sse_response(responses_events(tool=True)))
    stream = client.responses.create(model="gpt-4.1", input="hi", stream=True)
    for event in stream:
        if event.type == "response.function_call_arguments.delta":
            break
    stream.close()
    [event] = cap.events("llm_call")
    assert event["partial"] is True
    assert event["data"]["tool_calls"] == [
        {"id": "call_xyz", "name": "get_weather", "arguments": '{"city"'}
    ]


def test_responses_error(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    api.post("/responses").mock(return_value=error_body(500))
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="gpt-4.1", input="hi")
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["error"]["type"] == "InternalServerError"


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_embeddings(
    api: respx.MockRouter, client: Any, aclient: Any, cap: Capture, is_async: bool
) -> None:
    api.post("/embeddings").mock(return_value=httpx.Response(200, json=embeddings()))
    args = {"model": "text-embedding-3-small", "input": ["a", "b"]}
    if is_async:
        result = await aclient.embeddings.create(**args)
    else:
        result = client.embeddings.create(**args)
    assert len(result.data) == 2
    [event] = cap.events("llm_call")
    data = event["data"]
    assert event["name"] == "openai.embeddings.create"
    assert data["operation"] == "embeddings" and data["input"] == ["a", "b"]
    assert data["response"] == {"count": 2, "dimensions": 3}
    assert data["usage"] == {"input_tokens": 6, "total_tokens": 6}


def test_failed_response_is_an_error(api: respx.MockRouter, client: Any, cap: Capture) -> None:
    failed = dict(response_object(status="failed"),
                  error={"code": "server_error", "message": "The model crashed"})  # fmt: skip
    events = [*responses_events()[:2], {"type": "response.failed", "sequence_number": 3,
                                        "response": failed}]  # fmt: skip
    api.post("/responses").mock(return_value=_sse_response(events))
    seen = [e.type for e in client.responses.create(model="gpt-4.1", input="hi", stream=True)]
    assert seen == ["response.created", "response.output_text.delta", "response.failed"]
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["partial"] is False
    assert event["error"]["message"] == "server_error: The model crashed"
    assert event["data"]["finish_reason"] == "failed"
