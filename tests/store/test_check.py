"""The fast record check against pydantic: it may only accept what pydantic accepts, with the
same row, and it must accept every record pydantic accepts without coercing anything."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pydantic
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentlog._ids import format_ts, parse_ts
from agentlog._records import parse_record, record_adapter
from agentlog.store import _times
from agentlog.store._ingest import event_row, event_row_of, message_row, message_row_of
from agentlog.store._times import ts_us

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _general(value: str) -> int | None:
    try:
        return (parse_ts(value) - _EPOCH) // timedelta(microseconds=1)
    except (ValueError, TypeError, OverflowError):
        return None


# Strings shaped like the SDK's timestamps, with every digit free: invalid months, days,
# hours and seconds (24:00:00, :60) come up as often as valid ones.
fixed_shaped = st.from_regex(r"\A\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d\.\d{6}Z\Z")
timestamps = st.one_of(
    st.datetimes(timezones=st.just(timezone.utc)).map(
        lambda d: format_ts((d - _EPOCH) // timedelta(microseconds=1) * 1000)
    ),
    fixed_shaped,
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-01-01T01:00:00+01:00",
            "2026-01-01",
            "2026-01-01T00:00:00.5Z",
            "2026-02-30T00:00:00.000000Z",
            "yesterday",
            "",
            "2026-W01-1T00:00:00.000000Z",
            "2026-01-01t00:00:00.000000z",
            "\uff12026-01-01T00:00:00.000000Z",
            "2026-01-01T00:00:00.00000\u0663Z",
        ]
    ),
)
valid_ts = st.one_of(
    st.datetimes(timezones=st.just(timezone.utc)).map(
        lambda d: format_ts((d - _EPOCH) // timedelta(microseconds=1) * 1000)
    ),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00"]),
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60),
                         st.floats(allow_nan=False), st.text(max_size=5))  # fmt: skip
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6)  # fmt: skip
ids = st.one_of(st.text(min_size=1, max_size=8), st.just(""), st.just("x" * 201),
                st.just("y" * 200), st.integers(), st.none())  # fmt: skip
opt_str = st.one_of(st.none(), st.text(max_size=5), st.integers(), st.booleans())
some_str = st.text(max_size=5)

VALID: dict[str, st.SearchStrategy[Any]] = {  # optional fields, each in or out
    "v": st.sampled_from([1, 1.0, True]),
    "session_id": st.one_of(st.none(), some_str),
    "parent_id": st.one_of(st.none(), some_str),
    "name": st.one_of(st.none(), some_str),
    "end_ts": st.one_of(st.none(), valid_ts),
    "duration_ms": st.one_of(st.none(), st.floats(), st.integers(-(2**40), 2**40)),
    "status": st.sampled_from(["ok", "error"]),
    "partial": st.booleans(),
    "data": st.dictionaries(st.text(max_size=3), json_values, max_size=3),
    "error": st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"type": some_str, "message": some_str},
            optional={"stacktrace": st.one_of(st.none(), some_str)},
        ),
    ),
    "trace_id": st.one_of(st.none(), some_str),
    "span_id": st.one_of(st.none(), some_str),
    "format": st.sampled_from(["openai", "anthropic", "raw"]),
}
WRONG: dict[str, st.SearchStrategy[Any]] = {  # values to put in, mostly wrong ones
    "v": st.one_of(st.just(2), st.just("1"), st.none(), st.just(1.5)),
    "id": st.one_of(st.just(""), st.just("x" * 201), st.just("y" * 200), st.integers(), st.none()),
    "session_id": st.one_of(st.integers(), st.booleans(), st.none(), some_str),
    "parent_id": st.one_of(st.integers(), st.booleans()),
    "type": st.one_of(st.just(""), st.just("x" * 201), st.integers(), st.none()),
    "name": st.one_of(st.integers(), st.booleans(), st.lists(some_str, max_size=1)),
    "ts": st.one_of(timestamps, st.none(), st.integers(), st.just(b"2026-01-01T00:00:00Z")),
    "end_ts": st.one_of(timestamps, st.integers(), st.just("")),
    "duration_ms": st.one_of(
        st.text(max_size=3),
        st.booleans(),
        st.just(2**60),
        st.just("1.5"),
        st.just(-(2**53)),
        st.just(2**53 + 1),
        st.floats(),
    ),
    "status": st.sampled_from(["OK", None, 1, "running", "error"]),
    "partial": st.sampled_from([0, 1, "true", None, 2, 1.0]),
    "data": st.one_of(json_values, st.just({1: "a"}), st.none(), st.just([])),
    "error": st.one_of(
        st.text(max_size=2),
        st.fixed_dictionaries(
            {"type": opt_str, "message": opt_str},
            optional={"stacktrace": opt_str, "extra": st.just(1)},
        ),
    ),
    "trace_id": st.one_of(st.integers(), st.booleans()),
    "span_id": st.one_of(st.integers(), st.booleans()),
    "role": st.one_of(st.integers(), st.none(), st.booleans()),
    "format": st.sampled_from(["other", None, 1, "OPENAI"]),
    "blob": json_values,
    "kind": st.sampled_from(["session", "Event", None]),
    "unknown": st.just(1),
}
EVENT_OPTIONAL = ("v", "session_id", "parent_id", "name", "end_ts", "duration_ms", "status",
                  "partial", "data", "error", "trace_id", "span_id")  # fmt: skip
MESSAGE_OPTIONAL = ("v", "format")


@st.composite
def records(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A valid record (each optional field in or out), then up to two fields dropped, made
    wrong or added: both sides of the property come up often."""
    rec: dict[str, Any] = {"kind": kind, "id": draw(st.text(min_size=1, max_size=8)),
                           "ts": draw(valid_ts)}  # fmt: skip
    if kind == "message":
        rec.update(session_id=draw(some_str), role=draw(some_str), blob=draw(json_values))
    else:
        rec["type"] = draw(st.text(min_size=1, max_size=8))
    for key in EVENT_OPTIONAL if kind == "event" else MESSAGE_OPTIONAL:
        if draw(st.booleans()):
            rec[key] = draw(VALID[key])
    for key in draw(st.lists(st.sampled_from(sorted(WRONG)), max_size=2)):
        if key in rec and draw(st.booleans()):
            del rec[key]
        else:
            rec[key] = draw(WRONG[key])
    return rec


def _pydantic(obj: dict[str, Any], *, strict: bool = False) -> Any:
    try:
        return record_adapter.validate_python(obj, strict=strict)
    except pydantic.ValidationError:
        return None


def _huge_int(value: Any) -> bool:
    return type(value) is int and abs(value) > 2**53


def _check(obj: dict[str, Any], fast: Any, slow_row: Any) -> None:
    row = fast(obj, "p")
    lax = _pydantic(obj)
    if row is not None:
        assert lax is not None, f"fast path accepted what pydantic rejects: {obj!r}"
        assert row == slow_row(lax, "p")
    elif _pydantic(obj, strict=True) is not None and not _huge_int(obj.get("duration_ms")):
        # (The fast path leaves ints a float cannot hold exactly to pydantic, on purpose.)
        raise AssertionError(f"fast path refused a record pydantic takes as it is: {obj!r}")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records("event"))
@example({"kind": "event", "id": "e", "type": "t", "ts": "2026-01-01T00:00:00.000000Z"})
@example({"kind": "event", "id": "e", "type": "t", "ts": "2026-01-01T00:00:00Z", "data": None})
@example({"kind": "event", "id": "e", "type": "t", "ts": "2026-01-01T00:00:00Z",
          "error": {"type": "E", "message": "m"}, "duration_ms": 3})  # fmt: skip
@example({"kind": "event", "id": "e", "type": "t", "ts": "2026-01-01T00:00:00Z",
          "error": {"type": "E", "message": "m", "stacktrace": 1}})  # fmt: skip
@example({"kind": "event", "id": "e", "type": "t", "ts": "2026-01-01T00:00:00Z",
          "error": {"type": "E", "message": "m", "extra": None}})  # fmt: skip
def test_fast_event_row_agrees_with_pydantic(obj: dict[str, Any]) -> None:
    _check(obj, event_row, event_row_of)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records("message"))
@example({"kind": "message", "id": "m", "session_id": "s", "ts": "2026-01-01T00:00:00Z",
          "role": "user", "blob": None})  # fmt: skip
def test_fast_message_row_agrees_with_pydantic(obj: dict[str, Any]) -> None:
    _check(obj, message_row, message_row_of)


@settings(max_examples=1500, deadline=None)
@given(timestamps)
@example("2026-12-31T23:59:59.999999Z")
@example("2024-02-29T12:00:00.000001Z")
@example("2025-02-29T12:00:00.000001Z")
@example("2026-01-01T24:00:00.000000Z")
@example("2026-01-01T23:59:60.000000Z")
@example("0001-01-01T00:00:00.000000Z")
@example("0000-01-01T00:00:00.000000Z")
def test_ts_us_matches_the_general_parser(value: str) -> None:
    assert ts_us(value) == _general(value)


def test_the_cache_of_seconds_stays_bounded() -> None:
    for n in range(5000):
        assert (
            ts_us(format_ts(1_700_000_000 * 10**9 + n * 10**9)) == 1_700_000_000_000_000 + n * 10**6
        )
    assert 0 < len(_times._SECONDS) <= 4096


def test_records_written_by_the_sdk_take_the_fast_path(recorded: Any) -> None:
    import agentlog

    with agentlog.session("s", configs={"a": 1}):
        agentlog.track_tool_call("search", input={"q": "x"}, output=[1], duration_ms=2.5)
        agentlog.track_llm_call(model="m", usage={"prompt_tokens": 1, "completion_tokens": 2})
        agentlog.track_error(ValueError("boom"))
        agentlog.store_message({"role": "user", "content": "hi"})
    assert agentlog.flush()
    kinds = set()
    for rec in recorded.records:
        kinds.add(rec["kind"])
        if rec["kind"] == "event":
            assert event_row(rec, "p") == event_row_of(parse_record(rec), "p")  # type: ignore[arg-type]
        elif rec["kind"] == "message":
            assert message_row(rec, "p") == message_row_of(parse_record(rec), "p")  # type: ignore[arg-type]
    assert kinds == {"session", "event", "message"}
