"""A batch of more than ``STREAM_PART`` records: on PostgreSQL it is checked a part at a time
inside its transaction, each part's events streamed to the server while the next is checked.
The answer and what is stored must be those of the batch taken in one piece, on both backends."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from agentlog import NotFoundError
from agentlog.store import _core
from agentlog.store._core import STREAM_PART
from agentlog.store._store import SqlStore

from .conftest import PG_URL
from .helpers import event, message, session, ts

USAGE = {"input_tokens": 1000, "output_tokens": 100}  # $0.0035 with gpt-4o
N = 3 * STREAM_PART + 17  # four parts, the last one short


def _records(sid: str, first: int, n: int) -> list[dict[str, Any]]:
    """n events and messages of ``sid`` from second ``first`` on: every fifth an llm_call,
    every seventh a message, the others tool calls."""
    out: list[dict[str, Any]] = []
    for i in range(first, first + n):
        if i % 7 == 3:
            out.append(message(sid, i))
        elif i % 5 == 1:
            out.append(event(sid, i, "llm_call",
                             data={"provider": "openai", "model": "gpt-4o", "usage": USAGE}))  # fmt: skip
        else:
            out.append(event(sid, i, "tool_call", name=f"t{i % 3}"))
    return out


def _all(read: Any, sid: str, **kw: Any) -> list[Any]:
    """Every item of a session's timeline (``get_events`` or ``get_messages``), page by page."""
    items: list[Any] = []
    cursor = None
    while True:
        page = read(sid, limit=200, cursor=cursor, **kw)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def _count(store: SqlStore, **kw: Any) -> int:
    return sum(c.count for c in store.event_counts(days=3650, bucket="session", **kw))


def test_a_long_batch_answers_and_stores_as_in_one_piece(store: SqlStore) -> None:
    store.ingest([session("theirs")], project="other")
    recs: list[Any] = [session("s1", name="long"), *_records("s1", 0, N)]
    bad = event("s1", 9999)
    del bad["ts"]
    foreign = event("theirs", 5000)
    # wrong records in different parts, one of them another project's session
    recs[STREAM_PART + 3] = bad
    recs[2 * STREAM_PART + 5] = foreign
    recs[N - 2] = "not a record"
    result = store.ingest(recs)
    wrong = [STREAM_PART + 3, 2 * STREAM_PART + 5, N - 2]
    assert [(r.index, r.status) for r in result.rejected] == list(
        zip(wrong, (422, 409, 422), strict=True)
    )
    assert result.rejected[0].reason.startswith("ts:")
    kept = [r for i, r in enumerate(recs) if i not in wrong]
    assert result.accepted == [r["id"] for r in kept]
    events = [r for r in kept if r["kind"] == "event"]
    calls = [r for r in events if r["type"] == "llm_call"]
    assert [e.id for e in _all(store.get_events, "s1")] == [r["id"] for r in events]
    assert len(_all(store.get_messages, "s1")) == len(kept) - len(events) - 1
    assert (_count(store), _count(store, type="llm_call")) == (len(kept) - 1, len(calls))
    s = store.get_session("s1")
    assert s.name == "long" and s.rollup.cost_usd == Decimal("0.0035") * len(calls)
    assert len(store.get_events("theirs", project="other").items) == 0


def test_a_session_that_only_rejected_records_name_is_not_made(store: SqlStore) -> None:
    ghost = event("ghost", 3)
    ghost["ts"] = "yesterday"
    recs = [session("real"), *_records("real", 0, N), ghost]
    result = store.ingest(recs)
    assert [r.index for r in result.rejected] == [N + 1]
    assert [s.id for s in store.list_sessions().items] == ["real"]
    with pytest.raises(NotFoundError):
        store.get_session("ghost")


def test_a_long_batch_sent_again_with_new_records_adds_only_those(store: SqlStore) -> None:
    recs = [session("s2"), *_records("s2", 0, N)]
    store.ingest(recs)
    more = _records("s2", N, 11)  # new calls, tool calls and messages after the stored ones
    result = store.ingest([*recs, *more])
    assert len(result.accepted) == len(recs) + len(more) and result.rejected == []
    events = [r for r in [*recs, *more] if r["kind"] == "event"]
    calls = [r for r in events if r["type"] == "llm_call"]
    assert [e.id for e in _all(store.get_events, "s2")] == [r["id"] for r in events]
    # events and messages, each counted once
    assert (_count(store), _count(store, type="llm_call")) == (len(recs) + len(more) - 1,
                                                                len(calls))  # fmt: skip
    assert store.get_session("s2").rollup.cost_usd == Decimal("0.0035") * len(calls)


def test_a_long_batch_ends_its_session_and_records_activity(store: SqlStore) -> None:
    end = {"kind": "session", "id": "s3", "status": "success", "ended_at": ts(N // 2)}
    store.ingest([session("s3"), *_records("s3", 0, N), end])
    s = store.get_session("s3")
    assert s.status == "success"
    assert s.last_activity_at == ts(N - 1)  # its last record (an event or a message)


def test_each_part_goes_to_the_server_while_the_next_is_checked(
    pg_shared: SqlStore, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the third part is being checked, the COPY into events is in progress on the
    # server: the first parts were sent before the rest was checked, not after.
    seen: list[int] = []
    parse = _core.parse_batch

    def watched(records: Any, project: str, rejected: Any, base: int = 0, price: Any = None) -> Any:
        if base == 2 * STREAM_PART:
            with psycopg.connect(PG_URL, autocommit=True) as c:
                query = sql.SQL(
                    "SELECT count(*) FROM pg_stat_progress_copy WHERE relid = {}::regclass"
                ).format(sql.Literal(f"{pg_schema}.events"))
                row = c.execute(query).fetchone()
                seen.append(row[0] if row else -1)
        return parse(records, project, rejected, base, price)

    monkeypatch.setattr(_core, "parse_batch", watched)
    pg_shared.ingest([session("streamed-s4"), *_records("streamed-s4", 0, N)], project="streamed")
    assert seen == [1]
    assert len(_all(pg_shared.get_events, "streamed-s4", project="streamed")) == len(
        [r for r in _records("x", 0, N) if r["kind"] == "event"]
    )


def test_an_overlong_session_id_in_a_long_batch_is_refused_on_its_own(store: SqlStore) -> None:
    # Sessions are claimed before the records are checked: an id too long for any record to
    # name must not reach the claim (on PostgreSQL its index entry would fail the batch).
    long_sid = "".join(map(chr, random.Random(3).choices(range(0x4E00, 0x9FFF), k=5000)))
    recs: list[Any] = [session("s5"), *_records("s5", 0, N)]
    recs[STREAM_PART + 1] = event(long_sid, 1)
    result = store.ingest(recs)
    assert [r.index for r in result.rejected] == [STREAM_PART + 1]
    assert result.rejected[0].reason.startswith("session_id: String should have at most 200")
    assert len(result.accepted) == len(recs) - 1
