"""Sampling: per-session decisions from the id, keep_errors, the bounded hold, exit."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import agentlog
from agentlog._config import build_config
from agentlog._ids import format_uuid
from agentlog._pipeline import Pipeline
from agentlog._sampling import draw
from agentlog._state import STATE
from agentlog.exporters import MemoryExporter


@pytest.fixture
def mem() -> Iterator[MemoryExporter]:
    exporter = MemoryExporter()
    yield exporter
    agentlog.shutdown()


def start(mem: MemoryExporter, **options: Any) -> None:
    options.setdefault("max_queue", 200_000)
    options.setdefault("max_batch", 5000)
    agentlog.init(exporter=mem, **options)


def by_session(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["id"] if r["kind"] == "session" else r["session_id"] for r in records)


@agentlog.tool
def step(i: int) -> int:
    return i


def test_ten_thousand_sessions_at_a_tenth(mem: MemoryExporter) -> None:
    start(mem, sample_rate=0.1)
    ids = []
    for i in range(10_000):
        with agentlog.session("s") as s:
            step(i)
        ids.append(s.id)
    assert agentlog.flush(30)
    kept = set(by_session(mem.records))
    # The ids are random, so the count is too: the exact share is checked on fixed ids below;
    # here, a bound that a fair draw misses once in millions of runs (5 sigma).
    sigma = math.sqrt(10_000 * 0.1 * 0.9)
    assert abs(len(kept) - 1000) <= 5 * sigma
    assert kept == {sid for sid in ids if draw(sid) < 0.1}  # the id alone decides
    # Each session is 3 records (start, event, end): the others are counted, not dropped.
    st = agentlog.status()
    assert (st.sampled_out, st.dropped) == (3 * (10_000 - len(kept)), 0)
    assert st.observed == 3 * len(kept)


def test_draws_of_one_process_ids_are_uniform() -> None:
    # Ids shaped as one process makes them (same millisecond and random head, a counter): they
    # differ in a few low bits, which a weak hash would map to correlated draws. Fixed ids, so
    # the result is the same on every run.
    head = (0x01A22F13E156 << 80) | (0x7 << 76) | (0x5A3 << 64) | (0b10 << 62) | 0x8511D9CF
    draws = [draw(format_uuid(head + i)) for i in range(100_000)]
    for rate in (0.01, 0.1, 0.5):
        kept = sum(d < rate for d in draws)
        sigma = math.sqrt(100_000 * rate * (1 - rate))
        assert abs(kept - 100_000 * rate) <= 3 * sigma, rate
    deciles = Counter(int(d * 10) for d in draws)
    assert all(abs(deciles[k] - 10_000) <= 3 * math.sqrt(100_000 * 0.09) for k in range(10))


def test_every_error_session_is_kept_whole(mem: MemoryExporter) -> None:
    start(mem, sample_rate=0.1, keep_errors=True)
    errors, fine = set(), set()
    for i in range(1000):
        try:
            with agentlog.session("s") as s:
                step(i)
                if i % 7 == 0:
                    raise ValueError("boom")
                if i % 11 == 0:
                    agentlog.track_error("recorded, not raised")
        except ValueError:
            pass
        (errors if i % 7 == 0 or i % 11 == 0 else fine).add(s.id)
    assert agentlog.flush(30)
    counts = by_session(mem.records)
    for sid in errors:  # start, step, error event, end (and the raised one: its error event)
        assert counts[sid] == 4, sid
    kept_fine = {sid for sid in fine if draw(sid) < 0.1}
    assert {sid for sid in counts if sid in fine} == kept_fine
    st = agentlog.status()
    assert st.sampled_out == 3 * (len(fine) - len(kept_fine))
    assert st.dropped == 0


def test_nested_and_cross_thread_sessions_keep_or_drop_together(mem: MemoryExporter) -> None:
    start(mem, sample_rate=0.3)
    trees = []
    with agentlog.ContextExecutor(max_workers=4) as pool:
        for i in range(300):
            with agentlog.session("parent") as parent:
                with agentlog.session("child") as child:
                    pool.submit(step, i).result()
                    step(i)
                pool.submit(step, -i).result()
            trees.append((parent.id, child.id))
    assert agentlog.flush(30)
    counts = by_session(mem.records)
    kept = 0
    for parent_id, child_id in trees:
        both = (counts[parent_id], counts[child_id])
        assert both in ((0, 0), (3, 4)), both  # start+end+1 event, start+end+2 events
        kept += both != (0, 0)
        assert (both != (0, 0)) == (draw(parent_id) < 0.3)  # the root's draw decides
    assert 0 < kept < 300


def test_hold_overflow_is_counted_as_dropped(mem: MemoryExporter) -> None:
    start(mem, sample_rate=0.0, keep_errors=True, max_queue=200, max_batch=50)
    with pytest.raises(RuntimeError):
        with agentlog.session("long"):
            for i in range(150):
                step(i)
            raise RuntimeError("late failure")
    assert agentlog.flush(10)
    # The hold kept 100 records (the start and 99 steps); the other 51 steps did not fit; the
    # error event and the end went out with the hold.
    st = agentlog.status()
    assert st.dropped == 51
    assert len(mem.records) == 102
    assert [r["kind"] for r in mem.records][-1] == "session"


def test_session_less_events_are_drawn_one_by_one(mem: MemoryExporter) -> None:
    start(mem, sample_rate=0.5, keep_errors=True)
    for i in range(2000):
        step(i)
    agentlog.track_error("outside any session")
    assert agentlog.flush(10)
    kept = [r for r in mem.records if r["type"] == "tool_call"]
    assert abs(len(kept) - 1000) <= 5 * math.sqrt(2000 * 0.25)  # random ids: 5 sigma, as above
    assert [r["type"] for r in mem.records].count("error") == 1
    assert agentlog.status().sampled_out == 2000 - len(kept)


def test_rate_one_leaves_the_recording_path_alone(mem: MemoryExporter) -> None:
    start(mem, keep_errors=True)
    pipeline = STATE.pipeline
    assert pipeline is not None
    assert pipeline.emit.__func__ is Pipeline.emit  # type: ignore[attr-defined]


def test_options_and_environment() -> None:
    cfg = build_config({}, environ={"AGENTLOG_SAMPLE_RATE": "0.25", "AGENTLOG_KEEP_ERRORS": "1"})
    assert (cfg.sample_rate, cfg.keep_errors) == (0.25, True)
    assert build_config({"sample_rate": 0}, environ={}).sample_rate == 0.0
    for bad in (1.5, -0.1, "half", True):
        with pytest.raises(ValueError, match="sample_rate"):
            build_config({"sample_rate": bad}, environ={})
    with pytest.raises(ValueError, match="SAMPLE_RATE"):
        build_config({}, environ={"AGENTLOG_SAMPLE_RATE": "x"})


def test_exit_with_held_sessions_exports_or_counts_each(tmp_path: Path) -> None:
    """Held sessions at exit: the failed one goes out whole, the others are counted."""
    script = tmp_path / "agent.py"
    script.write_text(textwrap.dedent("""
        import atexit, sys, agentlog
        # Registered before init(), so it runs after agentlog's own exit hook.
        atexit.register(lambda: print("STATUS", agentlog.status().sampled_out,
                                      agentlog.status().dropped, flush=True))
        agentlog.init(path=sys.argv[1], sample_rate=0.0, keep_errors=True)

        @agentlog.tool
        def work(i):
            return i

        def leave_open():  # in its own thread, so it is not the parent of what follows
            agentlog.session("left open", id="open-1").__enter__()
            work(1); work(2)

        import threading
        t = threading.Thread(target=leave_open); t.start(); t.join()
        try:
            with agentlog.session("fails", id="fail-1"):
                work(3)
                raise ValueError("x")
        except ValueError:
            pass
        # Records of a session started elsewhere, whose end never comes here.
        agentlog.store_message({"role": "user", "content": "hi"}, session_id="foreign-1")
        agentlog.score("helpful", 3, session_id="foreign-1")
    """))  # fmt: skip
    out = tmp_path / "events.jsonl"
    proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    import orjson

    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert set(by_session(records)) == {"fail-1"}
    assert by_session(records)["fail-1"] == 4  # start, work, error event, end
    # open-1: start, 2 events, the cancelled end at exit = 4; foreign-1: message + score = 2.
    assert "STATUS 6 0" in proc.stdout
