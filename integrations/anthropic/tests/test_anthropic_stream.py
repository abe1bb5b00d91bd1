"""The messages.stream() helper, and a stream's event however the stream ends."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import respx
from agentlog_testsupport import instrumented_capture, run_to_exit
from anthropic_fakes import RECORDED_USAGE, events, message, stream_response

from agentlog.testing import Capture

MESSAGES = [{"role": "user", "content": "Say hello"}]
ARGS: dict[str, Any] = {"model": "claude-sonnet-5-5", "max_tokens": 100, "messages": MESSAGES}


@pytest.fixture
def streaming(api: respx.MockRouter) -> respx.Route:
    return api.post("/v1/messages").mock(side_effect=lambda _: stream_response(events(tool=True)))


def _helper_run(client: anthropic.Anthropic) -> tuple[list[Any], Any]:
    with client.messages.stream(**ARGS) as stream:
        seen = [(type(e), e.to_dict()) for e in stream]
        final = stream.get_final_message()
    return seen, final.to_dict()


async def _ahelper_run(aclient: anthropic.AsyncAnthropic) -> tuple[list[Any], Any]:
    async with aclient.messages.stream(**ARGS) as stream:
        seen = [(type(e), e.to_dict()) async for e in stream]
        final = await stream.get_final_message()
    return seen, final.to_dict()


def test_stream_helper_sync(streaming: respx.Route, client: anthropic.Anthropic) -> None:
    baseline = _helper_run(client)
    with instrumented_capture("anthropic") as cap:
        assert _helper_run(client) == baseline
    [event] = cap.events("llm_call")
    data = event["data"]
    assert event["name"] == "anthropic.messages.stream"
    assert event["partial"] is False and data["stream"] is True
    assert data["response"] == "Let me check."
    assert data["tool_calls"] == [
        {"id": "toolu_01", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert data["usage"] == RECORDED_USAGE
    assert data["time_to_first_token_ms"] > 0


async def test_stream_helper_async(
    streaming: respx.Route, aclient: anthropic.AsyncAnthropic
) -> None:
    baseline = await _ahelper_run(aclient)
    with instrumented_capture("anthropic") as cap:
        assert await _ahelper_run(aclient) == baseline
    [event] = cap.events("llm_call")
    assert event["partial"] is False
    assert event["data"]["tool_calls"][0]["arguments"] == {"city": "Paris"}


def test_stream_helper_text_stream_left_early(
    streaming: respx.Route, client: anthropic.Anthropic, cap: Capture
) -> None:
    with client.messages.stream(**ARGS) as stream:
        for text in stream.text_stream:
            assert text == "Let me"
            break
    [event] = cap.events("llm_call")
    assert event["partial"] is True
    assert event["data"]["response"] == "Let me"


def test_stream_helper_never_entered_records_nothing(
    streaming: respx.Route, client: anthropic.Anthropic, cap: Capture
) -> None:
    client.messages.stream(**ARGS)
    assert cap.events("llm_call") == []
    assert not streaming.called


def test_stream_helper_request_error(
    api: respx.MockRouter, client: anthropic.Anthropic, cap: Capture
) -> None:
    api.post("/v1/messages").mock(return_value=httpx.Response(
        401, json={"type": "error", "error": {"type": "authentication_error",
                                              "message": "invalid x-api-key"}}))  # fmt: skip
    with pytest.raises(anthropic.AuthenticationError):
        with client.messages.stream(**ARGS):
            pass
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["error"]["type"] == "AuthenticationError"


def test_break_then_drop_writes_a_partial_event(
    streaming: respx.Route, client: anthropic.Anthropic, cap: Capture
) -> None:
    stream = client.messages.create(**ARGS, stream=True)
    for event in stream:
        if event.type == "content_block_delta":
            break
    del stream, event
    [recorded] = cap.events("llm_call")
    assert recorded["partial"] is True
    assert recorded["data"]["response"] == "Let me"


def test_open_stream_at_process_exit_is_written_as_partial(tmp_path: Path) -> None:
    # KEEP is a module global, so the stream is still referenced (and open) when the interpreter
    # exits: only agentlog's shutdown can write its event.
    body = """
        import anthropic, respx
        from anthropic_fakes import BASE, events, stream_response

        router = respx.mock(using="httpx2", base_url=BASE)
        router.post("/v1/messages").mock(side_effect=lambda _: stream_response(events()))
        router.start()
        client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
        KEEP = client.messages.create(model="claude-sonnet-5-5", max_tokens=100,
                                      messages=[{"role": "user", "content": "hi"}], stream=True)
        for event in KEEP:
            if event.type == "content_block_delta":
                break
        """
    recorded = run_to_exit(body, tests_dir=Path(__file__).parent, cwd=tmp_path,
                           env_prefix="ANTHROPIC_", name="anthropic")  # fmt: skip
    assert len(recorded) == 1
    assert recorded[0]["partial"] is True
    assert recorded[0]["data"]["stream"] is True
    assert recorded[0]["data"]["response"] == "Hel"


def test_never_iterated_stream_is_written_when_collected(
    streaming: respx.Route, client: anthropic.Anthropic, cap: Capture
) -> None:
    client.messages.create(**ARGS, stream=True)
    gc.collect()
    [event] = cap.events("llm_call")
    assert event["partial"] is True


async def test_async_close_writes_a_partial_event(
    streaming: respx.Route, aclient: anthropic.AsyncAnthropic, cap: Capture
) -> None:
    stream = await aclient.messages.create(**ARGS, stream=True)
    async for _ in stream:
        break
    assert cap.events("llm_call") == []
    await stream.close()
    [event] = cap.events("llm_call")
    assert event["partial"] is True
    assert event["data"]["model"] == "claude-sonnet-5-5-20261001"


async def test_async_with_raw_response(
    api: respx.MockRouter, aclient: anthropic.AsyncAnthropic, cap: Capture
) -> None:
    api.post("/v1/messages").mock(return_value=httpx.Response(200, json=message()))
    raw = await aclient.messages.with_raw_response.create(**ARGS)
    assert raw.http_response.status_code == 200
    assert (await raw.parse()).content[0].text == "Hello there!"
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "Hello there!"
