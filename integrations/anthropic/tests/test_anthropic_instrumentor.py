"""Switching the integration on and off, and when it must stay out of the way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import agentlog_anthropic._wrap as wrap_module
import anthropic
import httpx
import pytest
import respx
import wrapt
from agentlog_anthropic import AnthropicInstrumentor
from anthropic.resources.messages import Messages
from anthropic_fakes import message

from agentlog.instrumentation import available_integrations, recorded_by
from agentlog.testing import Capture, capture

ARGS: dict[str, Any] = {"model": "claude-sonnet-5-5", "max_tokens": 10,
                        "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip


@pytest.fixture
def route(api: respx.MockRouter) -> respx.Route:
    return api.post("/v1/messages").mock(return_value=httpx.Response(200, json=message()))


@pytest.fixture
def own() -> Iterator[AnthropicInstrumentor]:
    inst = AnthropicInstrumentor()
    yield inst
    inst.uninstrument()


def test_registered_under_the_entry_point_group() -> None:
    assert "anthropic" in available_integrations()


def test_instrument_is_idempotent_and_uninstrument_restores(own: AnthropicInstrumentor) -> None:
    originals = Messages.__dict__["create"], Messages.__dict__["stream"]
    assert own.instrument() and own.instrument()
    assert Messages.__dict__["create"].__wrapped__ is originals[0]
    assert Messages.__dict__["stream"].__wrapped__ is originals[1]
    assert own.uninstrument()
    assert (Messages.__dict__["create"], Messages.__dict__["stream"]) == originals
    assert not own.uninstrument()


def test_someone_elses_wrapper_on_top_stays(
    own: AnthropicInstrumentor, route: respx.Route, client: anthropic.Anthropic
) -> None:
    original = Messages.__dict__["create"]
    own.instrument()
    calls = []

    def theirs(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        calls.append(1)
        return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(Messages, "create", theirs)
    try:
        assert own.uninstrument()
        with capture() as cap:
            client.messages.create(**ARGS)
        assert calls == [1] and cap.events("llm_call") == []
        assert own.instrument()
        assert Messages.__dict__["create"].__wrapped__.__wrapped__ is original
        with capture() as cap:
            client.messages.create(**ARGS)
        assert len(cap.events("llm_call")) == 1
    finally:
        own.uninstrument()
        Messages.create = original


def test_not_recording_calls_straight_through(
    instrumented: None, route: respx.Route, client: anthropic.Anthropic
) -> None:
    assert client.messages.create(**ARGS).content[0].text == "Hello there!"


def test_silent_while_a_framework_records_the_call(
    cap: Capture, route: respx.Route, client: anthropic.Anthropic
) -> None:
    with recorded_by("langchain"):
        client.messages.create(**ARGS)
    assert cap.events("llm_call") == []


def test_a_failure_while_recording_never_reaches_the_caller(
    cap: Capture,
    route: respx.Route,
    client: anthropic.Anthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("extraction bug")

    monkeypatch.setattr(wrap_module, "message_data", broken)
    assert client.messages.create(**ARGS).content[0].text == "Hello there!"
    [event] = cap.events("llm_call")  # still written, without what could not be read
    assert event["status"] == "ok"
    monkeypatch.setattr(wrap_module, "request_data", broken)
    assert client.messages.create(**ARGS).content[0].text == "Hello there!"


def test_unavailable_without_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)
    inst = AnthropicInstrumentor()
    assert not inst.available()
    assert not inst.instrument()
