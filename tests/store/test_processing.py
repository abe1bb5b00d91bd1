from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from agentlog.store._store import SqlStore

from .conftest import MakeStore
from .helpers import event, message, session


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)  # polling interval, not synchronization


def _llm(sid: str, at: float, tin: int, tout: int) -> dict[str, object]:
    return event(
        sid, at, type="llm_call", data={"usage": {"input_tokens": tin, "output_tokens": tout}}
    )


def test_flush_processes_now_and_fills_the_rollup(store: SqlStore) -> None:
    store.ingest([session("s1"), message("s1", 1), message("s1", 2, role="assistant"),
                  message("s1", 3), _llm("s1", 2, 10, 5), _llm("s1", 4, 7, 3),
                  event("s1", 5, type="tool_call"), event("s1", 6, status="error"),
                  event("s1", 7, type="error")])  # fmt: skip
    status = store.messages_observing_status("s1")
    assert (status.pending, status.in_process, status.observed) == (3, 0, 0)
    done = store.flush("s1")
    assert (done.pending, done.in_process, done.observed) == (0, 0, 3)
    assert done.updated_at is not None
    r = store.get_session("s1").rollup
    assert (r.turns, r.tokens_in, r.tokens_out, r.tool_calls, r.errors) == (2, 17, 8, 1, 2)
    assert r.last_activity is not None and r.last_activity.startswith("2026-01-01T00:00:07")
    listed = store.list_sessions().items[0].rollup
    assert listed == r


def test_max_turns_triggers_processing_in_the_background(
    store: SqlStore, make_store: MakeStore
) -> None:
    # A long auto-close: the worker's first pass must not end the 2026-01-01 session (and
    # roll up its messages) before max_turns does.
    worker = make_store(processing=True, max_turns=3, ttl_seconds=3600,
                        auto_close_after=100 * 365 * 86400.0)  # fmt: skip
    worker.ingest([session("s1"), message("s1", 1), message("s1", 2)])
    assert worker.messages_observing_status("s1").pending == 2
    worker.ingest([message("s1", 3)])
    wait_for(lambda: worker.messages_observing_status("s1").observed == 3)
    assert worker.get_session("s1").rollup.turns == 3


def test_only_a_batch_with_messages_is_checked_against_max_turns(
    store: SqlStore, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Events add no turns: their batches (most of a collector's) cost no second transaction.
    # The records are dated 2026-01-01: without a long auto-close, the worker's first pass
    # could close s1 as stale between two batches, making the next one late data of an ended
    # session (rolled up in this thread: more transactions than this test counts).
    worker = make_store(processing=True, max_turns=3, ttl_seconds=3600,
                        auto_close_after=100 * 365 * 86400.0)  # fmt: skip
    worker.ingest([session("s1"), message("s1", 1), message("s1", 2)])
    opened: list[bool] = []
    tx = worker._tx

    def counted(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():  # not the worker's passes
            opened.append(bool(kwargs.get("write")))
        return tx(*args, **kwargs)

    monkeypatch.setattr(worker, "_tx", counted)
    worker.ingest([event("s1", 3), event("s1", 4, type="tool_call")])
    assert opened == [True]  # the batch's own transaction, no check after it
    opened.clear()
    worker.ingest([event("s1", 5), message("s1", 6)])
    assert opened == [True, False]  # the batch, then the check that finds s1 due
    wait_for(lambda: worker.messages_observing_status("s1").observed == 3)


def test_sessions_due_in_a_failed_pass_are_processed_in_the_next(
    store: SqlStore, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = make_store(processing=True, max_turns=2, ttl_seconds=3600,
                        auto_close_after=100 * 365 * 86400.0)  # fmt: skip
    process = worker._process
    failures: list[str] = []

    def fails_once(session_id: str) -> None:
        if not failures:
            failures.append(session_id)
            raise RuntimeError("the database went away for a moment")
        process(session_id)

    monkeypatch.setattr(worker, "_process", fails_once)
    worker.ingest([session("s1"), message("s1", 1), message("s1", 2)])
    # No further data and no idle timeout: only the retry of the failed pass processes it.
    wait_for(lambda: worker.messages_observing_status("s1").observed == 2)
    assert failures == ["s1"]


def test_idle_sessions_are_processed_after_ttl(store: SqlStore, make_store: MakeStore) -> None:
    ttl = 0.5
    # The records are dated 2026-01-01: without a long auto-close the worker would end the
    # session as timed out at once, and an ended session is processed on every arrival.
    worker = make_store(processing=True, max_turns=1000, ttl_seconds=ttl,
                        auto_close_after=3650 * 86400.0)  # fmt: skip
    worker.ingest([session("s1"), message("s1", 1)])
    last = started = time.monotonic()
    idle_seen = False  # a gap of ttl on a loaded machine would rightly let processing run
    checked = 0
    # Keep the session busy: every arrival restarts its idle timer.
    while time.monotonic() - started < 3 * ttl:
        worker.ingest([message("s1", time.monotonic())])
        now = time.monotonic()
        idle_seen = idle_seen or now - last >= ttl * 0.9
        last = now
        if not idle_seen:
            assert worker.messages_observing_status("s1").observed == 0
            checked += 1
        time.sleep(0.05)  # the activity under test, not synchronization
    assert checked > 0
    wait_for(lambda: worker.messages_observing_status("s1").observed > 5)
    status = worker.messages_observing_status("s1")
    assert (status.pending, status.in_process) == (0, 0)


def test_worker_times_out_stale_sessions(store: SqlStore, make_store: MakeStore) -> None:
    store.ingest([session("old")])  # started 2026-01-01: long idle
    worker = make_store(processing=True, auto_close_after=3600.0)
    wait_for(lambda: worker.get_session("old").status == "timeout")


def test_process_pending_processes_only_the_named_sessions_with_new_data(
    store: SqlStore,
) -> None:
    store.ingest([session("a"), message("a", 1), session("b"), message("b", 1), session("c")])
    store.ingest([session("x"), message("x", 1)], project="other")
    assert store.process_pending(["a", "c", "x", "missing"]) == ["a"]
    assert store.get_session("a").rollup.turns == 1
    assert store.messages_observing_status("b").pending == 1
    assert store.messages_observing_status("x", project="other").pending == 1
    assert store.process_pending(["a"]) == []  # nothing new since


def test_process_pending_of_a_whole_project(store: SqlStore) -> None:
    store.ingest([session("a"), message("a", 1), session("b"), event("b", 2, type="tool_call")])
    store.ingest([session("x"), message("x", 1)], project="other")
    assert store.process_pending() == ["a", "b"]
    assert store.get_session("b").rollup.tool_calls == 1
    assert store.messages_observing_status("x", project="other").pending == 1
