from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timezone
from typing import Any

import orjson
import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st

from agentlog._serialize import TRUNCATED_KEY, dumps, fit, to_jsonable


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    when: datetime


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _roundtrip(obj: Any) -> Any:
    return orjson.loads(dumps(obj))


def test_known_types_serialize_faithfully() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    out = _roundtrip(
        {"m": Model(name="a", when=when), "p": Point(1, 2), "c": Color.RED, "b": b"hi", "s": {1}}
    )
    assert out == {
        "m": {"name": "a", "when": "2026-01-02T03:04:05Z"},
        "p": {"x": 1, "y": 2},
        "c": "red",
        "b": "hi",
        "s": [1],
    }


def test_non_utf8_bytes_become_base64_marker() -> None:
    assert _roundtrip(b"\xff\x00") == {"__bytes__": "/wA="}


def test_tuple_keys_and_cycles_and_broken_repr() -> None:
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    out = _roundtrip({(1, "a"): "tuple-key", "cycle": cyclic, "bad": BadRepr()})
    assert out['[1,"a"]'] == "tuple-key"
    assert out["cycle"] == [1, "<cycle>"]
    assert "BadRepr" in out["bad"]


def test_huge_ints_and_surrogates_do_not_fail() -> None:
    out = _roundtrip({"big": 2**100, "s": "\ud800x"})
    assert out["big"] == str(2**100)
    assert out["s"].endswith("x")


def test_plain_object_shows_its_attributes() -> None:
    class Thing:
        def __init__(self) -> None:
            self.a = 1

    assert _roundtrip(Thing()) == {
        "__class__": "test_plain_object_shows_its_attributes.<locals>.Thing",
        "a": 1,
    }


_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.binary(),
    st.datetimes(), st.sampled_from(list(Color)), st.builds(Point, st.integers(), st.integers()),
)  # fmt: skip
_values = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.integers(), max_size=3),
        st.dictionaries(
            st.one_of(st.text(), st.integers(), st.tuples(st.integers())), inner, max_size=4
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_anything_serializes_to_valid_json(value: Any) -> None:
    encoded = dumps(value)
    orjson.loads(encoded)  # raises if not valid JSON
    orjson.dumps(to_jsonable(value))


def test_fit_truncates_with_marker_and_keeps_keys() -> None:
    data = {"input": "x" * 5000, "output": "small"}
    out = orjson.loads(fit(data, orjson.dumps(data), 1000))
    assert out["output"] == "small"
    assert out["input"][TRUNCATED_KEY] is True and out["input"]["original_bytes"] == 5002
    assert out["input"]["preview"].startswith('"xxx')


def test_fit_leaves_small_payloads_alone() -> None:
    raw = orjson.dumps({"a": 1})
    assert fit({"a": 1}, raw, 100) is raw


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.text(max_size=5), st.text(max_size=400), max_size=30), st.integers(200, 2000)
)
def test_fit_never_exceeds_the_limit(data: dict[str, str], limit: int) -> None:
    raw = orjson.dumps(data)
    assert len(fit(data, raw, limit)) <= max(limit, len(raw) if len(raw) <= limit else limit)
