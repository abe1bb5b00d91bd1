"""agentlog._llm_data: the one normalizer behind every integration's tool calls and usage."""

from __future__ import annotations

from dataclasses import dataclass

from agentlog._llm_data import USAGE_KEYS, tool_call, usage


def test_arguments_are_an_object_when_they_parse_as_one() -> None:
    assert tool_call("c1", "f", '{"q": 1}') == {"id": "c1", "name": "f", "arguments": {"q": 1}}
    assert tool_call("c1", "f", b'{"q": 1}')["arguments"] == {"q": 1}
    assert tool_call("c1", "f", {"q": 1})["arguments"] == {"q": 1}


def test_arguments_that_are_not_an_object_stay_as_written() -> None:
    for raw in ('{"q"', "not json", "[1, 2]", "3", ""):
        assert tool_call("c1", "f", raw)["arguments"] == raw
    assert tool_call(None, None, None) == {"id": None, "name": None, "arguments": None}


def test_parsed_arguments_of_any_type_become_json() -> None:
    @dataclass
    class Query:
        q: str

    assert tool_call(7, "f", {"query": Query("x")}) == {
        "id": "7", "name": "f", "arguments": {"query": {"q": "x"}},
    }  # fmt: skip


def test_usage_keeps_reported_counts_and_fills_the_total() -> None:
    assert usage(input_tokens=10, output_tokens=4, cache_read_tokens=6) == {
        "input_tokens": 10, "output_tokens": 4, "total_tokens": 14, "cache_read_tokens": 6,
    }  # fmt: skip
    assert usage(input_tokens=10, total_tokens=99)["total_tokens"] == 99


def test_usage_drops_what_is_not_a_count_and_is_none_when_empty() -> None:
    assert usage() is None
    assert usage(input_tokens=None, output_tokens="7", reasoning_tokens=True) is None
    assert set(usage(input_tokens=1, output_tokens=1, total_tokens=2, cache_read_tokens=0,
                     cache_write_tokens=0, reasoning_tokens=0) or {}) == set(USAGE_KEYS)  # fmt: skip
