"""``_pricing``'s token reading and amount text, against plain reference versions."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from agentlog.store._pricing import PICO, _tokens, _usd_json, _usd_text

_NAMES = ["input_tokens", "prompt_tokens", "output_tokens", "completion_tokens",
          "cache_read_tokens", "cached_tokens", "cache_write_tokens", "cache_creation_tokens",
          "cache_read_input_tokens", "cache_creation_input_tokens"]  # fmt: skip
_VALUES = st.one_of(st.none(), st.integers(-3, 60), st.floats(-3, 60, allow_nan=False),
                    st.booleans(), st.just("12"))  # fmt: skip


def _n(value: Any) -> int | None:
    return int(value) if type(value) in (int, float) and value >= 0 else None


def _reference(usage: dict[str, Any]) -> tuple[int, int, int, int] | None:
    """The reading DESIGN §2 describes, written the plain way: each count under its name, else
    its alias; Anthropic's own cache fields when neither cache name is there."""

    def first(name: str, alias: str) -> int | None:
        value = _n(usage.get(name))
        return value if value is not None else _n(usage.get(alias))

    inp, out = first("input_tokens", "prompt_tokens"), first("output_tokens", "completion_tokens")
    read, write = first("cache_read_tokens", "cached_tokens"), first("cache_write_tokens",
                                                                      "cache_creation_tokens")  # fmt: skip
    if read is None and write is None:
        raw_read = _n(usage.get("cache_read_input_tokens"))
        raw_write = _n(usage.get("cache_creation_input_tokens"))
        if raw_read is not None or raw_write is not None:
            read, write = raw_read or 0, raw_write or 0
            inp = (inp or 0) + read + write
    if inp is None and out is None:
        return None
    inp, out, read, write = inp or 0, out or 0, read or 0, write or 0
    return max(inp - read - write, 0), read, write, out


@settings(max_examples=400)
@given(st.dictionaries(st.sampled_from(_NAMES), _VALUES))
def test_tokens_read_as_the_reference_reads_them(usage: dict[str, Any]) -> None:
    assert _tokens(usage) == _reference(usage)


@given(st.one_of(st.none(), st.integers(-(10**15), 10**18)))
def test_an_amount_as_json_is_its_text_quoted(value: int | None) -> None:
    text = _usd_text(value)
    assert _usd_json(value) == orjson.dumps(text).decode()
    if text is not None:
        whole, _, frac = text.lstrip("-").partition(".")
        assert int(whole) * PICO + int(frac.ljust(12, "0") or 0) == abs(value or 0)
