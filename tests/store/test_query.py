from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from agentlog import InvalidInputError, NotFoundError
from agentlog._ids import parse_ts
from agentlog.store._store import SqlStore

from .helpers import event, message, session

NOW = parse_ts("2026-01-03T00:17:23.5Z")  # two days after the helpers' base time, mid-minute


def _kind_type(r: dict[str, Any]) -> str:
    return str(r["role"] if r["kind"] == "message" else r["type"])


# -- empty data and single events ---------------------------------------------------------------
def test_everything_is_empty_on_an_empty_store(store: SqlStore) -> None:
    assert store.event_counts(now=NOW) == []
    stats = store.events_between_markers(now=NOW)
    assert (stats.marker_count, stats.counted_events, stats.avg_per_marker, stats.median_per_marker,
            stats.distribution) == (0, 0, None, None, [])  # fmt: skip
    it = store.iterate_events()
    assert (it.events, it.next_cursor) == ([], None)
    with pytest.raises(NotFoundError):
        store.event_context("missing")


def test_single_event_sessions(store: SqlStore) -> None:
    recs = [event(f"s{i}", i * 10.0, type="compaction") for i in range(3)]
    store.ingest(recs)
    ctx = store.event_context(recs[1]["id"])
    assert (ctx.target.id, ctx.before, ctx.after) == (recs[1]["id"], [], [])
    counts = store.event_counts(bucket="session", now=NOW)
    assert sorted(c.bucket for c in counts) == ["s0", "s1", "s2"] and {c.count for c in counts} == {
        1
    }
    stats = store.events_between_markers(now=NOW)
    assert stats.marker_count == 3 and [d.count for d in stats.distribution] == [0, 0, 0]
    assert stats.avg_per_marker == 0.0


# -- event_context ------------------------------------------------------------------------------
def test_event_context_stays_in_the_session_and_includes_messages(store: SqlStore) -> None:
    recs = [message("s1", 1), event("s1", 2), event("s2", 2.5), message("s1", 3, role="assistant"),
            event("s1", 4), event("s1", 5)]  # fmt: skip
    store.ingest(recs)
    ctx = store.event_context(recs[3]["id"], before=5, after=1)
    assert [i.id for i in ctx.before] == [recs[0]["id"], recs[1]["id"]]
    assert [i.id for i in ctx.after] == [recs[4]["id"]]
    assert ctx.target.type == "assistant" and ctx.before[0].kind == "message"
    with pytest.raises(InvalidInputError, match="before"):
        store.event_context(recs[0]["id"], before=-1)


# -- event_counts -------------------------------------------------------------------------------
def test_counts_omit_empty_buckets_and_filter_by_type_and_name(store: SqlStore) -> None:
    store.ingest([event("s1", 0), event("s1", 30, name="x"), event("s1", 130, type="tool_call"),
                  message("s1", 3700)])  # fmt: skip
    got = {(c.bucket, c.count) for c in store.event_counts(bucket="minute", now=NOW)}
    assert got == {("2026-01-01T00:00:00.000000Z", 2), ("2026-01-01T00:02:00.000000Z", 1),
                   ("2026-01-01T01:01:00.000000Z", 1)}  # fmt: skip
    users = store.event_counts(bucket="day", type="user", now=NOW)
    assert [(c.bucket, c.count) for c in users] == [("2026-01-01T00:00:00.000000Z", 1)]
    named = store.event_counts(bucket="hour", name="x", now=NOW)
    assert [c.count for c in named] == [1]
    assert store.event_counts(days=0.5, now=NOW) == []
    with pytest.raises(InvalidInputError, match="bucket"):
        store.event_counts(bucket="week")


# -- events_between_markers ---------------------------------------------------------------------
def test_markers_at_session_boundaries_and_several_types(store: SqlStore) -> None:
    store.ingest([
        event("a", 0, type="compaction"), message("a", 1), message("a", 2), event("a", 3, type="reset"),
        message("a", 4), event("a", 5, type="compaction"),  # last item of "a" is a marker
        message("b", 0), message("b", 1, role="assistant"), message("b", 2),  # no markers
        message("c", 0), event("c", 1, type="compaction"), message("c", 2),
    ])  # fmt: skip
    stats = store.events_between_markers(marker_types=["compaction", "reset"], now=NOW)
    assert [(d.session_id, d.marker_index, d.count, d.marker_type) for d in stats.distribution] == [
        ("a", 0, 0, "compaction"), ("c", 0, 1, "compaction"), ("a", 1, 2, "reset"),
        ("a", 2, 1, "compaction"),
    ]  # fmt: skip
    assert (stats.marker_count, stats.counted_events, stats.trailing_events) == (4, 4, 3)
    assert stats.avg_per_marker == 1.0 and stats.median_per_marker == 1.0
    only = store.events_between_markers(marker_types=["reset"], now=NOW)
    assert [d.count for d in only.distribution] == [2]


# -- iterate_events -----------------------------------------------------------------------------
def test_iterate_events_filters_types_and_roles(store: SqlStore) -> None:
    recs = [event("s1", 1, type="tool_call"), message("s1", 2), message("s1", 3, role="assistant"),
            event("s2", 4, type="tool_call")]  # fmt: skip
    store.ingest(recs)
    got = store.iterate_events(types=["tool_call", "user"]).events
    assert [i.id for i in got] == [recs[0]["id"], recs[1]["id"], recs[3]["id"]]
    one = store.iterate_events(session_id="s2").events
    assert [i.id for i in one] == [recs[3]["id"]]


# -- against brute force ------------------------------------------------------------------------
TYPES = ["step", "tool_call", "compaction", "reset"]
ROLES = ["user", "assistant", "tool", "system"]


def _generate(seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    recs: list[dict[str, Any]] = []
    for s in range(rnd.randint(1, 8)):
        sid = f"s{s}"
        start = rnd.uniform(-86_400 * 3, 86_400 * 1.9)
        for _ in range(rnd.randint(1, 25)):
            at = start + rnd.uniform(0, 7200)
            if rnd.random() < 0.5:
                recs.append(message(sid, at, role=rnd.choice(ROLES)))
            else:
                recs.append(
                    event(sid, at, type=rnd.choice(TYPES), name=rnd.choice(["a", "b", None]))
                )
    return recs


def _key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (parse_ts(r["ts"]), r["id"])


SEEDS = [11, 12, 13]


@pytest.mark.parametrize("seed", SEEDS)
def test_counts_match_brute_force(store: SqlStore, seed: int) -> None:
    recs = _generate(seed)
    store.ingest(recs)
    since = NOW - timedelta(days=2)
    window = [r for r in recs if since <= parse_ts(r["ts"]) <= NOW]
    for bucket, width in (("minute", 60), ("hour", 3600), ("day", 86400)):
        expected = Counter(int(parse_ts(r["ts"]).timestamp() // width) for r in window)
        got = {int(parse_ts(c.bucket).timestamp() // width): c.count
               for c in store.event_counts(days=2, bucket=bucket, now=NOW)}  # fmt: skip
        assert got == dict(expected)
    for type_, name in (("user", None), (None, None), ("step", "a"), (None, "b")):
        wanted = [r for r in window if type_ in (None, _kind_type(r))
                  and name in (None, r.get("name"))]  # fmt: skip
        per_session = Counter(r["session_id"] for r in wanted)
        got_s = store.event_counts(days=2, bucket="session", type=type_, name=name, now=NOW)
        assert {c.bucket: c.count for c in got_s} == dict(per_session)
        per_hour = Counter(int(parse_ts(r["ts"]).timestamp() // 3600) for r in wanted)
        got_h = store.event_counts(days=2, bucket="hour", type=type_, name=name, now=NOW)
        assert {int(parse_ts(c.bucket).timestamp() // 3600): c.count for c in got_h} == dict(
            per_hour
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_markers_match_brute_force(store: SqlStore, seed: int) -> None:
    recs = _generate(seed)
    store.ingest(recs)
    since = NOW - timedelta(days=2)
    counts, trailing = [], 0
    for sid in sorted({r["session_id"] for r in recs}):
        items = sorted((r for r in recs if r["session_id"] == sid and since <= parse_ts(r["ts"]) <= NOW),
                       key=_key)  # fmt: skip
        seg = 0
        for r in items:
            if _kind_type(r) in ("compaction", "reset"):
                counts.append((_key(r), seg))
                seg = 0
            elif _kind_type(r) == "user":
                seg += 1
        trailing += seg
    expected = [c for _, c in sorted(counts)]
    stats = store.events_between_markers(marker_types=["compaction", "reset"], days=2, now=NOW)
    assert [d.count for d in stats.distribution] == expected
    assert stats.trailing_events == trailing
    assert stats.median_per_marker == (statistics.median(expected) if expected else None)


@pytest.mark.parametrize("seed", SEEDS)
def test_iterate_and_context_match_brute_force(store: SqlStore, seed: int) -> None:
    recs = _generate(seed)
    store.ingest(recs)
    ordered = sorted(recs, key=_key)
    wanted = {"tool_call", "user"}
    walked, cursor = [], None
    while True:
        page = store.iterate_events(types=sorted(wanted), cursor=cursor, limit=7)
        walked += [i.id for i in page.events]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert walked == [r["id"] for r in ordered if _kind_type(r) in wanted]
    target = random.Random(seed).choice(recs)
    same = [r["id"] for r in ordered if r["session_id"] == target["session_id"]]
    pos = same.index(target["id"])
    ctx = store.event_context(target["id"], before=3, after=4)
    assert [i.id for i in ctx.before] == same[max(0, pos - 3) : pos]
    assert [i.id for i in ctx.after] == same[pos + 1 : pos + 5]


def test_counts_stay_exact_after_reingest_delete_and_copy(store: SqlStore) -> None:
    recs = [session("a"), event("a", 1), message("a", 2), event("a", 70, name="x"), session("b"),
            event("b", 3)]  # fmt: skip
    store.ingest(recs)
    store.ingest(recs)  # duplicates are not counted twice

    def total() -> int:
        return sum(c.count for c in store.event_counts(days=3, bucket="day", now=NOW))

    assert total() == 4
    store.delete_session("b")
    assert total() == 3
    copy = store.copy_session("a")  # the copy is shifted to now: count it in its own window
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    got = store.event_counts(days=1, bucket="session", now=later)
    assert [(c.bucket, c.count) for c in got] == [(copy.id, 3)]


def test_migration_backfills_the_minute_counts(tmp_path: Any) -> None:
    import sqlite3

    from agentlog.store._schema import migrations
    from agentlog.store.sqlite import SqliteStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as c:  # a database at schema version 1, with data
        c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for stmt in migrations("sqlite")[0]:
            c.execute(stmt)
        c.execute("INSERT INTO schema_version VALUES (1)")
        c.execute("INSERT INTO events (project, id, session_id, type, ts_us, status, partial, data) "
                  "VALUES ('default', 'e1', 's1', 'step', 1767225600000000, 'ok', 0, '{}')")  # fmt: skip
    c.close()
    store = SqliteStore(path, processing=False)
    assert [c.count for c in store.event_counts(days=3, now=NOW)] == [1]
    store.close()


@pytest.mark.parametrize("bucket", ["minute", "hour", "day", "session"])
def test_counts_are_exact_the_moment_copy_and_delete_return(store: SqlStore, bucket: str) -> None:
    # A session recorded just now: its copy must not reach past now, or the counts miss it.
    from agentlog._ids import format_ts, format_uuid, new_id, now_ns

    start = now_ns() - 90 * 10**9
    recs: list[dict[str, Any]] = [{"kind": "session", "id": "live", "status": "success",
                                   "started_at": format_ts(start),
                                   "ended_at": format_ts(start + 80 * 10**9)}]  # fmt: skip
    for i in range(9):
        t = start + (i + 1) * 8 * 10**9
        recs.append({"kind": "event", "id": format_uuid(new_id(t)), "session_id": "live",
                     "type": "step", "ts": format_ts(t), "end_ts": format_ts(t + 10**9),
                     "data": {}})  # fmt: skip
    store.ingest(recs)

    def total() -> int:
        return sum(c.count for c in store.event_counts(days=1, bucket=bucket))

    assert total() == 9
    copy = store.copy_session("live")
    assert total() == 18
    store.delete_session("live")
    assert total() == 9
    assert len(store.get_events(copy.id, limit=50).items) == 9
