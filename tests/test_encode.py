from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from agentlog._encode import LineEncoder
from agentlog._ids import format_ts, format_uuid, new_id
from agentlog.exporters import RecordBatch

_ERROR = {"type": "ValueError", "message": "bad", "stacktrace": None}
_FIELDS = [
    "v", "kind", "id", "session_id", "parent_id", "type", "name", "ts", "end_ts", "duration_ms",
    "status", "partial", "data", "error", "trace_id", "span_id",
]  # fmt: skip


def _expected(rec: tuple[Any, ...]) -> dict[str, Any]:
    """The record as DESIGN.md describes it, built field by field from the str formatters."""
    eid, sid, pid, etype, name, ts, end, status, partial, data, err, tid, spid = rec
    return {
        "v": 1, "kind": "event", "id": format_uuid(eid), "session_id": sid,
        "parent_id": format_uuid(pid) if pid is not None else None, "type": etype, "name": name,
        "ts": format_ts(ts), "end_ts": format_ts(end) if end is not None else None,
        "duration_ms": (end - ts) / 1e6 if end is not None else None,
        "status": "error" if status == "error" else "ok", "partial": bool(partial),
        "data": orjson.loads(data), "error": err, "trace_id": tid, "span_id": spid,
    }  # fmt: skip


def _encode(encoder: LineEncoder, raw: list[Any]) -> tuple[list[bytes], list[str | None]]:
    parts, sids, _screen, failed = encoder.encode(raw)
    assert not failed
    jsonl = b"".join(parts)
    assert jsonl.endswith(b"\n") and jsonl.count(b"\n") == len(raw)
    return RecordBatch.from_jsonl(jsonl, sids).lines, sids


def _records(n: int) -> list[tuple[Any, ...]]:
    rnd = random.Random(7)
    second = 1_795_000_000 * 10**9
    out = []
    for i in range(n):
        # Across second boundaries, ends in another second than their start, open spans.
        ts = second + rnd.randrange(0, 4 * 10**9)
        end = (
            None
            if i % 11 == 0
            else ts
            + rnd.choice(
                [
                    0,
                    7,
                    99,
                    100,
                    9154,
                    10**6,
                    1_500_000,
                    3 * 10**9,
                    10**15,
                    -5,
                    rnd.randrange(10**12),
                ]
            )
        )
        out.append((
            new_id(ts), rnd.choice([None, "s-1", "sé\"ssion"]),
            rnd.choice([None, new_id(ts - 10**9), new_id(ts)]), rnd.choice(["tool_call", "日本"]),
            rnd.choice([None, "search_kb"]), ts, end, rnd.choice(["ok", "error"]), i % 5 == 0,
            orjson.dumps({"input": {"q": i}, "output": ["x" * (i % 40)]}),
            _ERROR if i % 7 == 0 else None, rnd.choice([None, "0af7651916cd43dd8448eb211c80319c"]),
            rnd.choice([None, "b7ad6b7169203331"]),
        ))  # fmt: skip
    return out


def test_event_lines_carry_every_field_in_the_documented_order() -> None:
    raw = _records(600)
    lines, sids = _encode(LineEncoder(1_000_000, orjson.dumps), raw)
    assert sids == [r[1] for r in raw]
    for line, rec in zip(lines, raw, strict=True):
        decoded = orjson.loads(line)
        assert list(decoded) == _FIELDS
        assert decoded == _expected(rec)
        # The duration's text is repr's, byte for byte (1.0 stays "1.0", 1e-05 keeps its form).
        duration = repr((rec[6] - rec[5]) / 1e6) if rec[6] is not None else "null"
        assert f',"duration_ms":{duration},'.encode() in line


def test_caches_carry_over_from_batch_to_batch() -> None:
    encoder = LineEncoder(1_000_000, orjson.dumps)
    raw = _records(300)
    first, _ = _encode(encoder, raw[:150])
    second, _ = _encode(encoder, raw[150:])
    assert first + second == _encode(LineEncoder(1_000_000, orjson.dumps), raw)[0]


def test_ids_outside_the_uuid7_layout_are_written_as_their_128_bits() -> None:
    ns = 1_795_000_000 * 10**9
    raw = [(i, None, i, "step", None, ns, ns, "ok", False, b"{}", None, None, None)
           for i in (0, 5, 2**64 + 3, 2**128 - 1)]  # fmt: skip
    lines, _ = _encode(LineEncoder(1_000_000, orjson.dumps), raw)
    for line, rec in zip(lines, raw, strict=True):
        assert orjson.loads(line)["id"] == orjson.loads(line)["parent_id"] == format_uuid(rec[0])


def test_session_and_message_records_keep_their_place_in_the_batch() -> None:
    raw: list[Any] = _records(3)
    raw.insert(1, {"v": 1, "kind": "session", "id": "s-9", "name": "run"})
    lines, sids = _encode(LineEncoder(1_000_000, orjson.dumps), raw)
    assert orjson.loads(lines[1]) == raw[1] and sids[1] == "s-9"
    assert [orjson.loads(x)["kind"] for x in lines] == ["event", "session", "event", "event"]


def test_a_record_that_cannot_be_encoded_is_reported_and_the_rest_kept() -> None:
    raw = _records(3)
    bad = ("not an id", "s-1", *raw[0][2:])
    parts, sids, screen, failed = LineEncoder(1_000_000, orjson.dumps).encode([raw[0], bad, raw[1]])
    assert failed == ["s-1"] and len(sids) == len(screen) == 2
    assert b"".join(parts).count(b"\n") == 2


def test_oversized_data_is_truncated_and_screened_as_written() -> None:
    ns = 1_795_000_000 * 10**9
    data = orjson.dumps({"input": "y" * 5000, "output": 1})
    rec = (new_id(ns), None, None, "step", None, ns, ns, "ok", False, data, None, None, None)
    parts, _sids, screen, _failed = LineEncoder(500, orjson.dumps).encode([rec])
    written = orjson.loads(b"".join(parts))["data"]
    assert written["output"] == 1 and written["input"]["__agentlog_truncated__"] is True
    assert orjson.loads(screen[0]) == written


def test_a_timestamp_that_is_not_an_int_fails_its_record_and_no_other() -> None:
    ns = 1_795_000_000 * 10**9 + 5_000_000
    good = [(new_id(ns), None, None, "step", None, ns + i, ns + 9, "ok", False, b"{}", None, None,
             None) for i in range(2)]  # fmt: skip
    bad = (*good[0][:5], float(ns), *good[0][6:])  # in the same second as the good ones
    encoder = LineEncoder(1_000_000, orjson.dumps)
    assert len(encoder.encode([bad])[3]) == 1
    lines, _ = _encode(encoder, good)
    assert [orjson.loads(x) for x in lines] == [_expected(r) for r in good]


def _one_by_one(raw: list[Any], limit: int = 1_000_000) -> bytes:
    """The batch as records written alone (the path a batch falls back to)."""
    encoder = LineEncoder(limit, orjson.dumps)
    out = b""
    for rec in raw:
        one = encoder._one(rec)
        assert one is not None
        out += one[0]
    return out


class _ColumnsOnly(LineEncoder):
    """Fails the test if the batch falls back to writing every record alone."""

    def _mixed(self, raw: list[Any], *, alone: bool = False) -> Any:
        assert not alone, "the batch was written record by record"
        return super()._mixed(raw)


def _batch(n: int, second: int, **fixed: Any) -> list[tuple[Any, ...]]:
    """Event records of one second, as a busy caller writes them: 2.5 us apart."""
    base = second * 10**9 + 999_000_000 - n * 2500
    out = []
    for i in range(n):
        ts = base + i * 2500
        rec = {"eid": new_id(ts), "sid": "s-1", "pid": None, "etype": "tool_call",
               "name": "search_kb", "ts": ts, "end": ts + 1700 + i % 9, "status": "ok",
               "partial": False, "data": b'{"input":{"q":1},"output":[]}', "err": None,
               "tid": None, "spid": None}  # fmt: skip
        for key, values in fixed.items():
            rec[key] = values[i % len(values)]
        out.append(tuple(rec.values()))
    return out


def test_a_batch_is_written_as_its_records_would_be_alone() -> None:
    second = 1_795_000_000
    varied = {
        "": {},
        "sessions": {"sid": ["s-1", None, "s-2"]},
        "parents": {"pid": [None, new_id(second * 10**9), 5]},
        "types and names": {"etype": ["tool_call", "step"], "name": [None, "日本"]},
        "status and partial": {"status": ["ok", "error", "cancelled"], "partial": [False, True]},
        "all partial, all errors": {"status": ["error"], "partial": [True]},
        "errors and otel": {
            "err": [None, _ERROR],
            "tid": ["0af7651916cd43dd8448eb211c80319c"],
            "spid": [None, "b7ad6b7169203331"],
        },
        "odd ids": {"eid": [0, 5, 2**64 + 3, 2**128 - 1]},
        "point events, no end": {"end": [None]},
        "oversized data": {"data": [orjson.dumps({"input": "y" * 5000, "output": 1}), b"{}"]},
    }
    for label, fixed in [*varied.items(), ("short and negative durations", {})]:
        raw = _batch(40, second, **fixed)
        if label.startswith("short"):  # repr writes these with an exponent, or negative
            raw = [(*r[:6], r[5] + (0, 7, 99, 100, -5)[i % 5], *r[7:]) for i, r in enumerate(raw)]
        encoder = _ColumnsOnly(1000, orjson.dumps)
        parts, sids, _screen, failed = encoder.encode(raw)
        assert not failed, label
        assert b"".join(parts) == _one_by_one(raw, 1000), label
        assert sids == [r[1] for r in raw], label


def test_a_batch_across_seconds_is_written_as_its_records_would_be_alone() -> None:
    raw = _batch(40, 1_795_000_000) + _batch(40, 1_795_000_001)
    raw.append((*raw[0][:6], raw[0][6] + 2 * 10**9, *raw[0][7:]))  # ends two seconds later
    encoder = _ColumnsOnly(1_000_000, orjson.dumps)
    assert b"".join(encoder.encode(raw)[0]) == _one_by_one(raw)


def test_a_percent_sign_in_a_batchs_common_text_is_written_as_it_is() -> None:
    # A text every record shares goes into the batch's template once: '%' must stay text.
    raw = _batch(5, 1_795_000_000, sid=["100%s"], name=["%d%%"], data=[b'{"p":"%s"}'])
    lines = b"".join(LineEncoder(1_000_000, orjson.dumps).encode(raw)[0]).splitlines()
    assert [orjson.loads(x) for x in lines] == [_expected(r) for r in raw]


def test_open_spans_and_session_records_keep_their_place_among_the_batchs_events() -> None:
    raw: list[Any] = _batch(30, 1_795_000_000)
    raw[3] = (*raw[3][:6], None, *raw[3][7:])  # an open span: written alone
    raw.insert(7, {"v": 1, "kind": "session", "id": "s-9", "name": "run"})
    encoder = _ColumnsOnly(1_000_000, orjson.dumps)  # the other events: by columns
    parts, sids, screen, failed = encoder.encode(raw)
    assert not failed and len(sids) == len(screen) == len(raw)
    assert b"".join(parts) == _one_by_one(raw)
    assert sids[7] == "s-9" and orjson.loads(screen[7]) == raw[7]


def test_a_float_timestamp_among_one_seconds_events_fails_alone() -> None:
    raw = _batch(20, 1_795_000_000)
    raw[4] = (*raw[4][:5], float(raw[4][5]), *raw[4][6:])
    parts, sids, _screen, failed = LineEncoder(1_000_000, orjson.dumps).encode(raw)
    assert failed == ["s-1"] and len(sids) == 19
    assert b"".join(parts) == _one_by_one(raw[:4] + raw[5:])


def test_a_batch_larger_than_a_chunk_keeps_its_order_and_fails_only_its_bad_record() -> None:
    raw = _batch(2100, 1_795_000_000)  # three chunks
    raw[1500] = ("not an id", *raw[1500][1:])
    parts, sids, screen, failed = LineEncoder(1_000_000, orjson.dumps).encode(raw)
    assert failed == ["s-1"] and len(sids) == len(screen) == 2099
    assert b"".join(parts) == _one_by_one(raw[:1500] + raw[1501:])


def _compact(rec: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a sync decorated call that returned appends: the record without its fixed fields."""
    return (*rec[:7], rec[9])


def test_compact_records_are_written_as_the_full_records_they_stand_for() -> None:
    full = _batch(40, 1_795_000_000, sid=["s-1", None])
    compact = [_compact(r) for r in full]
    parts, sids, screen, failed = _ColumnsOnly(1_000_000, orjson.dumps).encode(compact)
    assert not failed and sids == [r[1] for r in full] and screen == [r[9] for r in full]
    assert b"".join(parts) == _one_by_one(full) == _one_by_one(compact)


def test_compact_and_full_records_and_sessions_keep_their_places_in_one_batch() -> None:
    full = _batch(30, 1_795_000_000, status=["ok", "error"], err=[None, _ERROR])
    raw: list[Any] = [_compact(r) if r[10] is None and i % 4 else r for i, r in enumerate(full)]
    raw.insert(5, {"v": 1, "kind": "session", "id": "s-9", "name": "run"})
    parts, sids, screen, failed = _ColumnsOnly(1_000_000, orjson.dumps).encode(raw)
    assert not failed and len(sids) == len(screen) == len(raw)
    assert b"".join(parts) == _one_by_one([*full[:5], raw[5], *full[5:]])


class _Plain(LineEncoder):
    """Says whether each batch was written by the plain batches' path (``_plain``)."""

    def __init__(self, limit: int = 1_000_000) -> None:
        super().__init__(limit, orjson.dumps)
        self.plain: list[bool] = []

    def _plain(self, cols: list[tuple[Any, ...]]) -> bytes | None:
        out = super()._plain(cols)
        self.plain.append(out is not None)
        return out


def _written(raw: list[Any], limit: int = 1_000_000) -> tuple[bytes, bool]:
    """The batch as the encoder writes it, having checked its session ids, what redaction
    screens and that nothing failed; and whether the plain batches' path wrote it."""
    encoder = _Plain(limit)
    parts, sids, screen, failed = encoder.encode(raw)
    assert not failed and sids == [r[1] for r in raw]
    plain = encoder.plain == [True]
    if plain:  # no error among them: each record's data is what redaction screens
        assert screen == [r[7] if len(r) == 8 else r[9] for r in raw]
    return b"".join(parts), plain


def test_a_plain_batch_of_compact_records_is_written_as_they_would_be_alone() -> None:
    compact = [_compact(r) for r in _batch(300, 1_795_000_000)]
    assert _written(compact) == (_one_by_one(compact), True)


def test_a_plain_batch_of_full_records_is_written_as_they_would_be_alone() -> None:
    full = _batch(300, 1_795_000_000)  # what a decorated call behind a sampler emits
    assert _written(full) == (_one_by_one(full), True)


def test_a_plain_batch_of_several_sessions_parents_types_and_names_is_written_as_alone() -> None:
    varied = {
        "sid": ["s-1", None, 'sé"ssion', "日本", "100%s"],
        "pid": [None, new_id(1_795_000_000 * 10**9), 5],
        "etype": ["tool_call", "step", "ünï"],
        "name": [None, "search_kb", "%d%%", "\u2028"],
    }
    for key, values in varied.items():
        raw = [_compact(r) for r in _batch(50, 1_795_000_000, **{key: values})]
        assert _written(raw) == (_one_by_one(raw), True), key
    raw = [_compact(r) for r in _batch(60, 1_795_000_000, **varied)]
    assert _written(raw) == (_one_by_one(raw), True)


def test_plain_batches_one_after_another_are_each_written_as_alone() -> None:
    # Batch after batch reuses its fixed-width buffer: each must hold only its own fields.
    encoder = _Plain()
    batches = [
        [_compact(r) for r in _batch(30, 1_795_000_000)],
        [_compact(r) for r in _batch(30, 1_795_000_000, sid=["s-2"], data=[b"[]"])],
        [_compact(r) for r in _batch(30, 1_795_000_000, sid=["s-2"], data=[b"[]"])][::-1],
        [_compact(r) for r in _batch(30, 1_795_000_001, sid=["s-1", "s-2"])],
        [_compact(r) for r in _batch(30, 1_795_000_001, sid=["s-2", "s-1"])],
        [_compact(r) for r in _batch(7, 1_795_000_001)],
    ]
    for raw in batches:
        assert b"".join(encoder.encode(raw)[0]) == _one_by_one(raw)
    assert encoder.plain == [True] * len(batches)


def test_a_plain_batch_of_a_second_with_fewer_digits_is_written_as_alone() -> None:
    raw = [(new_id(1_795_000_000 * 10**9), *r[1:5], 10**17 + i, 10**17 + i + 500, r[7])
           for i, r in enumerate(_compact(r) for r in _batch(20, 1_795_000_000))]  # fmt: skip
    assert _written(raw) == (_one_by_one(raw), True)


def test_a_plain_batch_keeps_each_ids_digits_across_milliseconds() -> None:
    # Ids of many milliseconds (the epoch changes every 4 records), and their order as recorded.
    raw = [_compact(r) for r in _batch(80, 1_795_000_000)]
    raw = [(new_id(1_795_000_000 * 10**9 + (i // 4) * 10**6), *r[1:]) for i, r in enumerate(raw)]
    raw.reverse()
    assert _written(raw) == (_one_by_one(raw), True)


def test_plain_data_of_any_text_is_written_as_it_is() -> None:
    datas = [orjson.dumps({"input": {"q": "日本\u2028"}, "output": ["%s", "\\", '"']}), b"{}",
             orjson.dumps({"token": "sk-" + "x" * 30}), b"[" + b"1," * 300 + b"1]"]  # fmt: skip
    raw = [_compact(r) for r in _batch(40, 1_795_000_000, data=datas)]
    assert _written(raw) == (_one_by_one(raw), True)


def test_durations_repr_writes_otherwise_leave_the_plain_path() -> None:
    # From 100 ns on (and at 0), orjson writes a duration as repr does; below, repr writes an
    # exponent.
    ts = 1_795_000_000 * 10**9 + 1000  # early in the batch's second: any duration ends in it
    for extra, plain in [(100, True), (1000, True), (10**9 - 1001, True), (99, False),
                         (10, False), (7, False), (0, True), (-100, False)]:  # fmt: skip
        raw = [_compact(r) for r in _batch(20, 1_795_000_000)]
        raw[7] = (*raw[7][:5], ts, ts + extra, raw[7][7])
        assert _written(raw) == (_one_by_one(raw), plain), extra


def _not_plain() -> dict[str, list[tuple[Any, ...]]]:
    base = [_compact(r) for r in _batch(20, 1_795_000_000)]
    error = (*_batch(1, 1_795_000_000)[0][:7], "error", False, b"{}", _ERROR, None, None)
    otel = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    return {
        "across three seconds": [
            *base,
            *(_compact(r) for r in _batch(20, 1_795_000_002)),
            *(_compact(r) for r in _batch(2, 1_795_000_001)),
        ],
        "ten seconds apart": [*base, *(_compact(r) for r in _batch(20, 1_795_000_010))],
        "an end two seconds later": [*base[:-1], (*base[-1][:6], base[-1][6] + 2 * 10**9, b"{}")],
        "an error": [*base[:3], error],
        "partial": [(*r[:7], "ok", True, r[7], None, None, None) for r in base],
        "otel ids": [(*r[:7], "ok", False, r[7], None, *otel) for r in base],
        "odd ids": [(i, *r[1:]) for i, r in zip((0, 5, 2**64 + 3, 2**128 - 1), base, strict=False)],
        "an id of 30 digits beside one of 32": [(16**29, *base[0][1:]), (16**31, *base[1][1:])],
    }


def test_a_plain_batch_across_two_seconds_is_written_as_alone() -> None:
    # A day's last second to the next day's first (every character of the time differs but the
    # year's), an hour's last to the next hour's first, and two seconds with nothing else apart;
    # the later second first too.
    for second in (1_795_132_799, 1_795_093_199, 1_795_000_009, 1_795_000_000):
        early = [_compact(r) for r in _batch(20, second)]
        late = [_compact(r) for r in _batch(20, second + 1)]
        across = (*early[-1][:6], early[-1][6] + 10**6, b"{}")  # ends in the next second
        for raw in ([*early, *late], [*late, *early], [*early[:-1], across], [across, *late]):
            assert _written(raw) == (_one_by_one(raw), True), second


def test_batches_the_plain_path_does_not_take_are_written_as_alone() -> None:
    for label, raw in _not_plain().items():
        written, plain = _written(raw)
        assert written == _one_by_one(raw) and not plain, label


def test_oversized_data_in_a_plain_batch_is_truncated_as_alone() -> None:
    raw = [_compact(r) for r in _batch(20, 1_795_000_000)]
    raw[-1] = (*raw[-1][:7], b'{"x":"' + b"y" * 2000 + b'"}')
    parts, _sids, _screen, failed = _Plain(1000).encode(raw)
    assert b"".join(parts) == _one_by_one(raw, 1000) and not failed


def test_a_float_timestamp_in_a_plain_batch_fails_alone() -> None:
    raw = [_compact(r) for r in _batch(20, 1_795_000_000)]
    raw[4] = (*raw[4][:6], float(raw[4][6]), raw[4][7])
    parts, sids, _screen, failed = _Plain().encode(raw)
    assert failed == ["s-1"] and len(sids) == 19
    assert b"".join(parts) == _one_by_one(raw[:4] + raw[5:])


def _compact_batches(
    ids: st.SearchStrategy[int], starts: st.SearchStrategy[int], took: st.SearchStrategy[int]
) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Batches of compact records of one second (of three widths), each started ``starts`` ns
    into it and ended ``took`` ns later."""

    def batch(rows: list[tuple[Any, ...]], second: int) -> list[tuple[Any, ...]]:
        ns = second * 10**9
        return [(eid, sid, pid, etype, name, ns + ts, ns + ts + d, data)
                for eid, sid, pid, etype, name, ts, d, data in rows]  # fmt: skip

    row = st.tuples(
        ids, st.sampled_from([None, "s-1", "sé", "日本"]), st.none() | st.integers(0, 2**128 - 1),
        st.sampled_from(["tool_call", "step"]), st.sampled_from([None, "search_kb", "%s"]),
        starts, took,
        st.sampled_from([b"{}", b'{"input":{"q":"\\u2028"},"output":null}', b"[1,2]"]),
    )  # fmt: skip
    seconds = st.sampled_from([1, 1_795_000_000, 17_950_000_000])
    return st.builds(batch, st.lists(row, min_size=1, max_size=40), seconds)


@settings(max_examples=200, deadline=None)
@given(
    _compact_batches(
        st.integers(0, 2**128 - 1) | st.integers(1 << 120, (1 << 124) - 1),
        st.integers(0, 10**9 - 1),
        st.integers(-10, 2 * 10**9),
    )
)
def test_any_batch_of_compact_records_is_written_as_its_records_would_be_alone(
    raw: list[tuple[Any, ...]],
) -> None:
    parts, sids, _screen, failed = LineEncoder(1_000_000, orjson.dumps).encode(raw)
    assert not failed and sids == [r[1] for r in raw]
    assert b"".join(parts) == _one_by_one(raw)


@settings(max_examples=200, deadline=None)
@given(
    _compact_batches(
        st.integers(1 << 120, (1 << 124) - 1),  # ids of this era: 31 hex digits
        st.integers(0, 10**9 - 1),  # started in one second, ended in it or the next
        st.integers(100, 5 * 10**8) | st.integers(100, 10**4),
    )
)
def test_any_plain_batch_is_written_by_the_plain_path_as_its_records_would_be_alone(
    raw: list[tuple[Any, ...]],
) -> None:
    assert _written(raw) == (_one_by_one(raw), True)
