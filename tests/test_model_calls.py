"""agentlog._model_calls: one SDK call as one ``llm_call``, never in the caller's way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import wrapt

from agentlog._context import llm_owner_var
from agentlog._model_calls import (
    Call,
    async_wrapper,
    begin_call,
    given,
    params,
    send,
    snapshot,
    sync_wrapper,
)
from agentlog._patching import Switch
from agentlog.testing import Capture, capture


class Result:
    def __init__(self, value: Any) -> None:
        self.value = value


class RawResult:
    """What ``with_raw_response`` returns: the SDK object comes from ``parse()``."""

    def __init__(self, value: Any, *, fail: bool = False) -> None:
        self.value = value
        self.fail = fail

    def parse(self) -> Result:
        if self.fail:
            raise ValueError("unparseable")
        return Result(self.value)


class AsyncRawResult(RawResult):
    async def parse(self) -> Result:  # type: ignore[override]
        return super().parse()


def _begin(kwargs: dict[str, Any]) -> Call | None:
    return begin_call(Call, "test.create", kwargs, lambda: {"model": kwargs.get("model")},
                      label="test")  # fmt: skip


def _end(call: Call, parsed: Any, is_async: bool) -> None:
    call.span.end(data={"response": getattr(parsed, "value", None), "is_async": is_async})


@pytest.fixture
def switch() -> Switch:
    s = Switch()
    s.enabled = True
    return s


@pytest.fixture
def cap() -> Iterator[Capture]:
    with capture() as c:
        yield c


def _create(**kwargs: Any) -> Any:
    if kwargs.get("fail"):
        raise ConnectionError("no route")
    if kwargs.get("raw"):
        return RawResult(kwargs.get("echo"), fail=kwargs.get("raw") == "bad")
    return Result(kwargs)


def _wrapped(switch: Switch, begin: Any = _begin) -> Any:
    return wrapt.FunctionWrapper(_create, sync_wrapper(switch, begin, _end, label="test"))


def test_a_call_is_one_llm_call_with_request_and_result(cap: Capture, switch: Switch) -> None:
    result = _wrapped(switch)(model="m1")
    assert result.value == {"model": "m1"}
    [event] = cap.events("llm_call")
    assert event["name"] == "test.create" and event["status"] == "ok"
    assert event["data"]["model"] == "m1"
    assert event["data"]["response"] == {"model": "m1"} and event["data"]["is_async"] is False


def test_the_sdk_error_passes_through_and_ends_the_span(cap: Capture, switch: Switch) -> None:
    with pytest.raises(ConnectionError, match="no route"):
        _wrapped(switch)(model="m1", fail=True)
    [event] = cap.events("llm_call")
    assert event["status"] == "error" and event["error"]["type"] == "ConnectionError"


def test_switched_off_records_nothing(cap: Capture, switch: Switch) -> None:
    switch.enabled = False
    assert _wrapped(switch)(model="m1").value == {"model": "m1"}
    assert cap.events("llm_call") == []


def test_not_recording_calls_straight_through(switch: Switch) -> None:
    assert _begin({"model": "m1"}) is None
    assert _wrapped(switch)(model="m1").value == {"model": "m1"}


def test_silent_while_a_framework_records_the_call(cap: Capture, switch: Switch) -> None:
    token = llm_owner_var.set("langchain")
    try:
        _wrapped(switch)(model="m1")
    finally:
        llm_owner_var.reset(token)
    assert cap.events("llm_call") == []


def test_arguments_the_integration_adds_are_what_is_sent(cap: Capture, switch: Switch) -> None:
    def begin(kwargs: dict[str, Any]) -> Call | None:
        call = _begin(kwargs)
        if call is not None:
            call.kwargs = {**kwargs, "added": True}
        return call

    assert _wrapped(switch, begin)(model="m1").value == {"model": "m1", "added": True}


def test_raw_response_is_parsed_for_recording(cap: Capture, switch: Switch) -> None:
    headers = {"X-Stainless-Raw-Response": "raw"}
    result = _wrapped(switch)(model="m1", raw=True, echo="hi", extra_headers=headers)
    assert isinstance(result, RawResult)  # the caller gets what the SDK returned
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "hi"


def test_unparseable_raw_response_is_still_one_event(cap: Capture, switch: Switch) -> None:
    headers = {"X-Stainless-Raw-Response": "true"}
    result = _wrapped(switch)(model="m1", raw="bad", echo="hi", extra_headers=headers)
    assert isinstance(result, RawResult)
    [event] = cap.events("llm_call")
    assert event["status"] == "ok" and event["data"]["response"] is None


def test_streaming_response_is_the_callers_to_read(cap: Capture, switch: Switch) -> None:
    headers = {"X-Stainless-Raw-Response": "stream"}
    _wrapped(switch)(model="m1", extra_headers=headers)
    assert cap.events("llm_call") == []


def test_a_failing_request_reader_costs_the_event_not_the_call(
    cap: Capture, switch: Switch
) -> None:
    def begin(kwargs: dict[str, Any]) -> Call | None:
        def broken() -> dict[str, Any]:
            raise RuntimeError("extraction bug")

        return begin_call(Call, "test.create", kwargs, broken, label="test")

    assert _wrapped(switch, begin)(model="m1").value == {"model": "m1"}
    assert cap.events("llm_call") == []


def test_send_ends_the_span_on_any_exception(cap: Capture) -> None:
    call = _begin({"model": "m1"})
    assert call is not None

    def interrupted(kwargs: dict[str, Any]) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send(call, interrupted)
    assert call.span.ended
    [event] = cap.events("llm_call")
    assert event["error"]["type"] == "KeyboardInterrupt"


async def _acreate(**kwargs: Any) -> Any:
    if kwargs.get("fail"):
        raise ConnectionError("no route")
    if kwargs.get("raw"):
        return AsyncRawResult(kwargs.get("echo"))
    return Result(kwargs)


def _awrapped(switch: Switch) -> Any:
    return wrapt.FunctionWrapper(_acreate, async_wrapper(switch, _begin, _end, label="test"))


async def test_async_call_is_recorded(cap: Capture, switch: Switch) -> None:
    assert (await _awrapped(switch)(model="m2")).value == {"model": "m2"}
    [event] = cap.events("llm_call")
    assert event["data"]["is_async"] is True and event["data"]["model"] == "m2"


async def test_async_raw_response_awaits_parse(cap: Capture, switch: Switch) -> None:
    headers = {"X-Stainless-Raw-Response": "raw"}
    result = await _awrapped(switch)(model="m2", raw=True, echo="yo", extra_headers=headers)
    assert isinstance(result, AsyncRawResult)
    [event] = cap.events("llm_call")
    assert event["data"]["response"] == "yo"


async def test_async_sdk_error_passes_through(cap: Capture, switch: Switch) -> None:
    with pytest.raises(ConnectionError):
        await _awrapped(switch)(model="m2", fail=True)
    [event] = cap.events("llm_call")
    assert event["status"] == "error"


class NotGiven:
    """Named like the SDKs' sentinel for an argument left out."""

    def __bool__(self) -> bool:
        return False


def test_params_leave_out_what_is_recorded_apart_and_not_given() -> None:
    kwargs = {"model": "m", "messages": [], "temperature": 0.2, "top_p": NotGiven(), "n": None}
    assert params(kwargs, recorded_apart=frozenset({"model", "messages"})) == {
        "temperature": 0.2,
        "n": None,
    }
    assert not given(NotGiven()) and given(None) and given(0)


def test_snapshot_copies_lists_and_never_reads_a_generator() -> None:
    messages = [{"role": "user", "content": "hi"}]
    copied = snapshot(messages)
    messages.append({"role": "assistant", "content": "later"})
    assert copied == [{"role": "user", "content": "hi"}]
    assert snapshot(("a", "b")) == ["a", "b"]

    def gen() -> Iterator[str]:
        yield "only once"

    one_shot = gen()
    assert snapshot(one_shot) is None
    assert next(one_shot) == "only once"  # still there for the SDK
    marker = object()
    assert snapshot(marker) is marker and snapshot({"a": 1}) == {"a": 1}


def test_failing_integration_hooks_cost_the_data_not_the_call(cap: Capture, switch: Switch) -> None:
    def begin(kwargs: dict[str, Any]) -> Call | None:
        raise KeyError("begin broke")

    def end(call: Call, parsed: Any, is_async: bool) -> None:
        raise KeyError("end broke")

    assert _wrapped(switch, begin)(model="m1").value == {"model": "m1"}
    assert cap.events("llm_call") == []  # no span was opened
    call = wrapt.FunctionWrapper(_create, sync_wrapper(switch, _begin, end, label="test"))
    assert call(model="m2").value == {"model": "m2"}
    [event] = cap.events("llm_call")  # the span still ends, with the request's data
    assert event["status"] == "ok" and event["data"] == {"model": "m2"}


def test_recorded_by_marks_the_block_only_while_active() -> None:
    from agentlog._context import llm_recorded_by
    from agentlog._model_calls import recorded_by

    with recorded_by("framework"):
        assert llm_recorded_by() == "framework"
        with recorded_by("other", active=False):
            assert llm_recorded_by() == "framework"
    assert llm_recorded_by() is None
