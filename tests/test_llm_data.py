"""agentlog._llm_data: the one normalizer behind every integration's tool calls and usage."""

from __future__ import annotations

from dataclasses import dataclass

from agentlog._llm_data import USAGE_KEYS, tool_call, tool_calls_from, usage, usage_from


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


def test_usage_from_reads_each_providers_names_into_one_shape() -> None:
    from types import SimpleNamespace

    openai_chat = {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30,
                   "prompt_tokens_details": {"cached_tokens": 16},
                   "completion_tokens_details": {"reasoning_tokens": 4}}  # fmt: skip
    assert usage_from(openai_chat) == {"input_tokens": 21, "output_tokens": 9, "total_tokens": 30,
                                       "cache_read_tokens": 16, "reasoning_tokens": 4}  # fmt: skip
    anthropic = SimpleNamespace(input_tokens=25, cache_read_input_tokens=100,
                                cache_creation_input_tokens=10, output_tokens=15)  # fmt: skip
    assert usage_from(anthropic) == {"input_tokens": 135, "output_tokens": 15,
                                     "total_tokens": 150, "cache_read_tokens": 100,
                                     "cache_write_tokens": 10}  # fmt: skip
    langchain = {"input_tokens": 40, "output_tokens": 12, "total_tokens": 52,
                 "input_token_details": {"cache_read": 32, "cache_creation": 0},
                 "output_token_details": {"reasoning": 5}}  # fmt: skip
    assert usage_from(langchain) == {"input_tokens": 40, "output_tokens": 12, "total_tokens": 52,
                                     "cache_read_tokens": 32, "cache_write_tokens": 0,
                                     "reasoning_tokens": 5}  # fmt: skip
    assert usage_from(None) is None and usage_from({}) is None


def test_tool_calls_from_reads_each_form() -> None:
    expected = [{"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]
    forms = [
        [{"id": "c1", "type": "function",
          "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}],
        [{"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "get_weather",
          "arguments": '{"city": "Paris"}'}],
        [{"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Paris"}}],
        [{"id": "c1", "name": "get_weather", "args": {"city": "Paris"}}],
        expected,
        expected[0],
    ]  # fmt: skip
    for form in forms:
        assert tool_calls_from(form) == expected, form
    assert tool_calls_from(None) is None


def test_track_llm_call_and_the_llm_decorator_record_the_shared_shape() -> None:
    import agentlog
    from agentlog.testing import capture

    @agentlog.llm(provider="acme")
    def ask(messages: list[dict[str, str]], model: str) -> dict[str, object]:
        return {"content": "hi", "model": "acme-1-2026", "usage": {"prompt_tokens": 5,
                "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 3}}}  # fmt: skip

    with capture() as cap:
        agentlog.track_llm_call(
            model="gpt-4o", provider="openai", usage={"prompt_tokens": 20, "completion_tokens": 4},
            tool_calls=[{"id": "c1", "type": "function",
                         "function": {"name": "f", "arguments": '{"q": 1}'}}],
        )  # fmt: skip
        ask([{"role": "user", "content": "hello"}], model="acme-1")
        tracked, decorated = (e["data"] for e in cap.events("llm_call"))
    assert tracked["request_model"] == tracked["model"] == "gpt-4o"
    assert tracked["usage"] == {"input_tokens": 20, "output_tokens": 4, "total_tokens": 24}
    assert tracked["tool_calls"] == [{"id": "c1", "name": "f", "arguments": {"q": 1}}]
    assert (decorated["request_model"], decorated["model"]) == ("acme-1", "acme-1-2026")
    assert decorated["usage"] == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7,
                                  "cache_read_tokens": 3}  # fmt: skip
