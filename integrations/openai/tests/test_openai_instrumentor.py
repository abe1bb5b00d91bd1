"""Switching the integration on and off, and when it must stay out of the way."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import agentlog_openai._wrap as wrap_module
import httpx
import openai
import pytest
import respx
import wrapt
from agentlog_openai import OpenAIInstrumentor
from openai.resources.chat.completions import Completions
from openai_fakes import chat_chunks, chat_completion, chat_stream_response

import agentlog
from agentlog.instrumentation import available_integrations, recorded_by
from agentlog.testing import Capture, capture

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def chat_route(api: respx.MockRouter) -> respx.Route:
    def reply(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            return chat_stream_response(request, chat_chunks())
        return httpx.Response(200, json=chat_completion())

    return api.post("/chat/completions").mock(side_effect=reply)


@pytest.fixture
def own() -> Iterator[OpenAIInstrumentor]:
    inst = OpenAIInstrumentor()
    yield inst
    inst.uninstrument()


def test_registered_under_the_entry_point_group() -> None:
    assert "openai" in available_integrations()


def test_instrument_is_idempotent_and_uninstrument_restores(own: OpenAIInstrumentor) -> None:
    original = Completions.__dict__["create"]
    assert own.instrument() and own.instrument()
    layer = Completions.__dict__["create"]
    assert isinstance(layer, wrapt.FunctionWrapper)
    assert layer.__wrapped__ is original  # one layer, not two
    assert own.uninstrument()
    assert Completions.__dict__["create"] is original
    assert not own.uninstrument()


def test_someone_elses_wrapper_on_top_stays(
    own: OpenAIInstrumentor, chat_route: respx.Route, client: openai.OpenAI
) -> None:
    original = Completions.__dict__["create"]
    own.instrument()
    theirs_calls = []

    def theirs(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        theirs_calls.append(1)
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(Completions, "create", theirs)
    try:
        assert own.uninstrument()
        top = Completions.__dict__["create"]
        assert top.__wrapped__.__wrapped__ is original  # theirs, over ours (now inert)
        with capture() as cap:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert theirs_calls == [1]
        assert cap.events("llm_call") == []
        assert own.instrument()  # switches our inert layer back on, adds no new one
        assert Completions.__dict__["create"].__wrapped__.__wrapped__ is original
        with capture() as cap:
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert len(cap.events("llm_call")) == 1
    finally:
        own.uninstrument()
        Completions.create = original  # take their layer (and ours beneath) off for other tests


def test_not_recording_calls_straight_through(
    instrumented: None, chat_route: respx.Route, client: openai.OpenAI
) -> None:
    list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert "stream_options" not in json.loads(chat_route.calls.last.request.content)


def test_silent_while_a_framework_records_the_call(
    cap: Capture, chat_route: respx.Route, client: openai.OpenAI
) -> None:
    with recorded_by("langchain"):
        list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert cap.events("llm_call") == []
    assert "stream_options" not in json.loads(chat_route.calls.last.request.content)


def test_a_failure_while_recording_never_reaches_the_caller(
    cap: Capture, chat_route: respx.Route, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_: Any) -> dict[str, Any]:
        raise RuntimeError("extraction bug")

    monkeypatch.setitem(wrap_module._EXTRACT, "chat", broken)
    monkeypatch.setattr(wrap_module, "request_data", broken)
    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert result.choices[0].message.content == "Hello there!"


def test_a_failure_reading_a_stream_never_reaches_the_caller(
    cap: Capture, chat_route: respx.Route, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentlog_openai._stream import StreamRecorder

    def broken(self: Any, chunk: Any) -> bool:
        raise RuntimeError("bug")

    monkeypatch.setattr(StreamRecorder, "_chat", broken)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello there!"
    [event] = cap.events("llm_call")
    assert event["partial"] is False


def test_unavailable_without_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    inst = OpenAIInstrumentor()
    assert not inst.available()
    assert not inst.instrument()


def test_init_instrument_by_name(chat_route: respx.Route, client: openai.OpenAI) -> None:
    from agentlog.exporters import MemoryExporter

    exporter = MemoryExporter()
    agentlog.init(exporter=exporter, instrument=["openai"])
    try:
        with agentlog.session("chat"):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert agentlog.flush(10.0)
        [event] = [r for r in exporter.records if r.get("type") == "llm_call"]
        assert event["session_id"] is not None
    finally:
        agentlog.uninstrument("openai")
