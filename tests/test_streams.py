"""agentlog._streams: a watched stream's span ends once, however the stream ends."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentlog._jsonl import read_jsonl
from agentlog._spans import start_span
from agentlog._streams import StreamRecorder, ToolCallPieces, watch
from agentlog.testing import Capture, capture

ITEMS = [{"text": "Hel"}, {"text": "lo"}, {"call": ("c1", "lookup", '{"q"')}, {"args": ": 1}"}]


class Stream:
    """Shaped like the SDKs' ``Stream``: iteration goes through ``_iterator``."""

    def __init__(self, items: list[Any], *, fail_after: int | None = None) -> None:
        self.closed = 0
        self._iterator = self._gen(items, fail_after)

    @staticmethod
    def _gen(items: list[Any], fail_after: int | None) -> Iterator[Any]:
        for i, item in enumerate(items):
            if i == fail_after:
                raise ConnectionError("peer closed connection")
            yield item

    def __iter__(self) -> Iterator[Any]:
        yield from self._iterator

    def close(self) -> None:
        self.closed += 1


class AsyncStream:
    def __init__(self, items: list[Any], *, fail_after: int | None = None) -> None:
        self.closed = 0
        self._iterator = self._gen(items, fail_after)

    @staticmethod
    async def _gen(items: list[Any], fail_after: int | None) -> AsyncIterator[Any]:
        for i, item in enumerate(items):
            if i == fail_after:
                raise ConnectionError("peer closed connection")
            yield item

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for item in self._iterator:
            yield item

    async def close(self) -> None:
        self.closed += 1


class Recorder(StreamRecorder):
    label = "test"
    provider = "Test"

    def record(self, item: Any) -> None:
        if "text" in item:
            self.first_token()
            self.text.append(item["text"])
        elif "call" in item:
            call_id, name, args = item["call"]
            self.calls[call_id] = ToolCallPieces(call_id, name)
            self.calls[call_id].args.append(args)
        elif "args" in item:
            next(reversed(self.calls.values())).args.append(item["args"])
        elif "boom" in item:
            raise ValueError("cannot read this one")
        self.data["seen"] = self.data.get("seen", 0) + 1

    def visible(self, item: Any) -> bool:
        if "hidden" in item:
            return False
        if "bad_visible" in item:
            raise ValueError("cannot tell")
        return True


def _watched(items: list[Any] = ITEMS, **kw: Any) -> Stream:
    span = start_span("llm_call", "test.stream", {})
    assert span is not None
    stream = Stream(items, **kw)
    watch(stream, Recorder(span, span.start_ns), is_async=False)
    return stream


@pytest.fixture
def cap() -> Iterator[Capture]:
    with capture() as c:
        yield c


def _event(cap: Capture) -> dict[str, Any]:
    [event] = cap.events("llm_call")
    return event


def test_exhausted_stream_is_complete_with_assembled_output(cap: Capture) -> None:
    assert list(_watched()) == ITEMS
    event = _event(cap)
    assert event["partial"] is False and event["status"] == "ok"
    data = event["data"]
    assert data["response"] == "Hello"
    assert data["tool_calls"] == [{"id": "c1", "name": "lookup", "arguments": {"q": 1}}]
    assert data["seen"] == 4
    assert data["time_to_first_token_ms"] >= 0


def test_error_mid_stream_is_partial_with_the_error(cap: Capture) -> None:
    stream = _watched(fail_after=2)
    seen = []
    with pytest.raises(ConnectionError):
        for item in stream:
            seen.append(item)
    assert seen == ITEMS[:2]
    event = _event(cap)
    assert event["partial"] is True and event["status"] == "error"
    assert event["error"]["type"] == "ConnectionError"
    assert event["data"]["response"] == "Hello"


def test_break_then_drop_ends_the_span_at_once(cap: Capture) -> None:
    stream = _watched()
    for _ in stream:
        break
    del stream  # no cycle: the span ends now, not at the next collection
    event = _event(cap)
    assert event["partial"] is True and event["status"] == "ok"
    assert event["data"]["response"] == "Hel"


def test_close_ends_the_span_and_closes_the_stream(cap: Capture) -> None:
    stream = _watched()
    next(iter(stream))
    stream.close()
    stream.close()
    assert stream.closed == 2  # the class's own close ran each time
    assert _event(cap)["partial"] is True  # and one event, not two


def test_never_iterated_stream_ends_when_collected(cap: Capture) -> None:
    stream = _watched()
    stream._iterator = iter(())  # drop the watched generator without running it
    del stream
    gc.collect()
    event = _event(cap)
    assert event["partial"] is True
    assert "time_to_first_token_ms" not in event["data"]


def test_hidden_items_are_recorded_but_not_shown(cap: Capture) -> None:
    items = [{"text": "a"}, {"hidden": True, "text": "b"}, {"bad_visible": 1, "text": "c"}]
    assert list(_watched(items)) == [items[0], items[2]]  # a failing visible() shows the item
    assert _event(cap)["data"]["response"] == "abc"


def test_an_item_that_cannot_be_read_costs_only_itself(cap: Capture) -> None:
    items = [{"text": "a"}, {"boom": 1}, {"text": "b"}]
    assert list(_watched(items)) == items
    event = _event(cap)
    assert event["partial"] is False and event["data"]["response"] == "ab"


def test_a_failing_result_still_ends_the_span(cap: Capture) -> None:
    class Broken(Recorder):
        def result(self) -> dict[str, Any]:
            raise RuntimeError("extraction bug")

    span = start_span("llm_call", "test.stream", {"kept": 1})
    assert span is not None
    stream = Stream(ITEMS)
    watch(stream, Broken(span, span.start_ns), is_async=False)
    assert list(stream) == ITEMS
    event = _event(cap)
    assert event["partial"] is False and event["data"] == {"kept": 1}


def test_a_server_reported_failure_marks_the_span_failed(cap: Capture) -> None:
    class Failed(Recorder):
        def failure(self) -> str | None:
            return "server_error: went away"

    span = start_span("llm_call", "test.stream", {})
    assert span is not None
    stream = Stream(ITEMS)
    watch(stream, Failed(span, span.start_ns), is_async=False)
    list(stream)
    event = _event(cap)
    assert event["status"] == "error" and event["partial"] is False
    assert "server_error: went away" in str(event["error"])


def test_output_is_left_out_when_capture_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentlog._state import STATE

    with capture() as cap:
        monkeypatch.setattr(STATE, "capture", False)
        list(_watched())
    data = _event(cap)["data"]
    assert "response" not in data and "tool_calls" not in data
    assert data["seen"] == 4


def test_explicit_inner_iterator_is_the_one_read(cap: Capture) -> None:
    span = start_span("llm_call", "test.stream", {})
    assert span is not None
    stream = Stream([{"text": "ignored"}])
    watch(stream, Recorder(span, span.start_ns), is_async=False, inner=iter([{"text": "x"}]))
    assert list(stream) == [{"text": "x"}]
    assert _event(cap)["data"]["response"] == "x"


async def _awatched(items: list[Any] = ITEMS, **kw: Any) -> AsyncStream:
    span = start_span("llm_call", "test.stream", {})
    assert span is not None
    stream = AsyncStream(items, **kw)
    watch(stream, Recorder(span, span.start_ns), is_async=True)
    return stream


async def test_async_exhausted_stream_is_complete(cap: Capture) -> None:
    assert [item async for item in await _awatched()] == ITEMS
    event = _event(cap)
    assert event["partial"] is False and event["data"]["response"] == "Hello"


async def test_async_error_mid_stream_is_partial(cap: Capture) -> None:
    stream = await _awatched(fail_after=1)
    with pytest.raises(ConnectionError):
        async for _ in stream:
            pass
    event = _event(cap)
    assert event["partial"] is True and event["error"]["type"] == "ConnectionError"


async def test_async_close_ends_the_span(cap: Capture) -> None:
    stream = await _awatched()
    async for _ in stream:
        break
    await stream.close()
    assert stream.closed == 1
    event = _event(cap)
    assert event["partial"] is True and event["data"]["response"] == "Hel"


def test_process_exit_ends_an_open_stream_as_partial(tmp_path: Path) -> None:
    script = tmp_path / "agent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, agentlog
            from agentlog._spans import start_span
            from agentlog._streams import StreamRecorder, watch

            class Rec(StreamRecorder):
                def record(self, item):
                    self.first_token()
                    self.text.append(item)

            class Stream:
                def __init__(self):
                    self._iterator = iter(["a", "b", "c"])
                def __iter__(self):
                    yield from self._iterator
                def close(self):
                    pass

            agentlog.init(path=sys.argv[1])
            span = start_span("llm_call", "exit.stream", {})
            kept = Stream()
            watch(kept, Rec(span, span.start_ns), is_async=False)
            it = iter(kept)
            next(it)  # read one item, then the process ends with the stream still open
            """
        )
    )
    events = tmp_path / "events.jsonl"
    done = subprocess.run(
        [sys.executable, str(script), str(events)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    [event] = [r for r in read_jsonl(events).records if r.get("type") == "llm_call"]
    assert event["partial"] is True
    assert event["data"]["response"] == "a"
