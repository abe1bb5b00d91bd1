from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from agentlog._ids import format_ts, format_uuid, new_id, parse_ts, reseed


def test_ids_are_uuid7_and_sort_in_creation_order() -> None:
    ids = [format_uuid(new_id()) for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_id_embeds_the_given_time() -> None:
    ns = 1_795_000_000_123_000_000
    assert new_id(ns) >> 80 == ns // 1_000_000


def test_timestamps_are_utc_rfc3339_with_microseconds() -> None:
    ns = 1_795_000_000_123_456_789
    text = format_ts(ns)
    expected = datetime.fromtimestamp(ns // 10**9, tz=timezone.utc).replace(microsecond=123456)
    assert text == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert parse_ts(text) == expected
    assert format_ts(ns + 1_000_000_000).endswith(":41.123456Z")  # the per-second cache moves on


def test_a_reseeded_process_starts_a_sequence_of_its_own() -> None:
    reseed()
    first = [new_id(0) for _ in range(3)]
    reseed()  # what a forked child does first
    second = [new_id(0) for _ in range(3)]
    assert not set(first) & set(second)
    for value in first + second:
        parsed = uuid.UUID(format_uuid(value))
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_parse_ts_accepts_rfc3339_forms_on_every_python() -> None:
    utc = timezone.utc
    assert parse_ts("2026-01-03T00:17:23.5Z") == datetime(2026, 1, 3, 0, 17, 23, 500000, tzinfo=utc)
    assert parse_ts("2026-01-03T00:17:23.123456789Z").microsecond == 123456
    assert parse_ts("2026-01-03t00:17:23z") == datetime(2026, 1, 3, 0, 17, 23, tzinfo=utc)
    assert parse_ts("2026-01-03T02:17:23+02:00") == datetime(2026, 1, 3, 0, 17, 23, tzinfo=utc)
    assert parse_ts("2026-01-03T00:17:23") == datetime(2026, 1, 3, 0, 17, 23, tzinfo=utc)


def test_parse_ts_rejects_what_is_not_a_timestamp() -> None:
    import pytest

    for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00+0", ""):
        with pytest.raises(ValueError):
            parse_ts(bad)


def test_ids_of_one_millisecond_embed_it_and_follow_creation_order() -> None:
    ns = time.time_ns()
    ids = [new_id(ns) for _ in range(100)] + [new_id() for _ in range(100)]
    assert all(i >> 80 == ns // 1_000_000 for i in ids[:100])
    assert ids == sorted(set(ids))


def test_a_given_future_time_does_not_move_the_ids_of_later_calls() -> None:
    future = time.time_ns() + 3600 * 10**9
    assert new_id(future) >> 80 == future // 1_000_000
    now = time.time_ns()
    assert abs((new_id() >> 80) - now // 1_000_000) < 1000
