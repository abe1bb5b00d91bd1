"""A stream's event is written however the stream ends: exhausted, break, close, collected, exit."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import httpx
import openai
import respx
from agentlog_testsupport import instrumented_capture, run_to_exit
from openai_fakes import chat_chunks, chat_stream_response

from agentlog.testing import Capture

MESSAGES = [{"role": "user", "content": "Say hello"}]


def _stream_route(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(
        side_effect=lambda req: chat_stream_response(req, chat_chunks())
    )


def _create(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)


def test_break_then_drop_writes_a_partial_event(
    api: respx.MockRouter, client: openai.OpenAI, cap: Capture
) -> None:
    _stream_route(api)
    stream = _create(client)
    for chunk in stream:
        if chunk.choices[0].delta.content:
            break
    del stream, chunk  # no gc.collect(): nothing in the watched stream forms a cycle
    [event] = cap.events("llm_call")
    assert event["partial"] is True and event["status"] == "ok"
    assert event["data"]["response"] == "Hel"
    assert event["data"]["time_to_first_token_ms"] > 0


def test_close_writes_a_partial_event(
    api: respx.MockRouter, client: openai.OpenAI, cap: Capture
) -> None:
    _stream_route(api)
    with _create(client) as stream:
        next(stream)
        next(stream)
    [event] = cap.events("llm_call")
    assert event["partial"] is True
    assert event["data"]["response"] == "Hel"
    assert stream.response.is_closed


def test_never_iterated_stream_is_written_when_collected(
    api: respx.MockRouter, client: openai.OpenAI, cap: Capture
) -> None:
    _stream_route(api)
    _create(client)
    gc.collect()
    [event] = cap.events("llm_call")
    assert event["partial"] is True
    assert "time_to_first_token_ms" not in event["data"]


async def test_async_break_then_close(
    api: respx.MockRouter, aclient: openai.AsyncOpenAI, cap: Capture
) -> None:
    _stream_route(api)
    stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    assert cap.events("llm_call") == []  # still open: the caller may read on
    await stream.close()
    [event] = cap.events("llm_call")
    assert event["partial"] is True


def test_exhausted_stream_is_complete(
    api: respx.MockRouter, client: openai.OpenAI, cap: Capture
) -> None:
    _stream_route(api)
    stream = _create(client)
    assert [c.choices[0].delta.content for c in stream] == ["", "Hel", "lo", " there", "!", None]
    stream.close()  # after the end: no second event, not partial
    [event] = cap.events("llm_call")
    assert event["partial"] is False


def test_open_stream_at_process_exit_is_written_as_partial(tmp_path: Path) -> None:
    body = """
        import openai, respx
        from openai_fakes import BASE, chat_chunks, chat_stream_response

        router = respx.mock(using="httpx2", base_url=BASE)
        router.post("/chat/completions").mock(
            side_effect=lambda req: chat_stream_response(req, chat_chunks()))
        router.start()
        client = openai.OpenAI(api_key="sk-test")
        KEEP = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True)
        next(KEEP); next(KEEP)
        """
    events = run_to_exit(body, tests_dir=Path(__file__).parent, cwd=tmp_path,
                         env_prefix="OPENAI_", name="openai")  # fmt: skip
    assert len(events) == 1
    assert events[0]["partial"] is True
    assert events[0]["data"]["response"] == "Hel"


def test_stream_error_event_mid_stream(
    api: respx.MockRouter, client: openai.OpenAI, cap: Capture
) -> None:
    body = (
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
        b'"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'
    )
    api.post("/chat/completions").mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=body
        )
    )
    stream = _create(client)
    got = []
    try:
        for chunk in stream:
            got.append(chunk.choices[0].delta.content)
    except openai.APIError as exc:
        assert exc.message == "overloaded"
    assert got == ["Hi"]
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["error"]["message"] == "overloaded"
    assert event["data"]["response"] == "Hi"


def _helper_run(client: openai.OpenAI) -> tuple[list[Any], Any]:
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_completion()
    return seen, final.to_dict()


def test_stream_helper_is_one_event(api: respx.MockRouter, client: openai.OpenAI) -> None:
    _stream_route(api)
    baseline = _helper_run(client)
    with instrumented_capture("openai") as cap:
        assert _helper_run(client) == baseline
    [event] = cap.events("llm_call")
    assert event["partial"] is False
    assert event["data"]["response"] == "Hello there!"
    assert event["data"]["usage"]["total_tokens"] == 30
