from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import agentlog
from agentlog._pipeline import Pipeline
from agentlog._stats import Stats
from agentlog.exporters import RecordBatch
from agentlog.exporters.http import HttpExporter

from .scripted import (
    DROP,
    STALL,
    Answer,
    Reply,
    Request,
    ScriptedServer,
    Stall,
    accept_all,
    in_turn,
)

KEY = "test-key"


def _records(n: int, sid: str = "s1", tag: str = "e") -> list[dict[str, Any]]:
    return [{"v": 1, "kind": "event", "id": f"{tag}{i}", "session_id": sid} for i in range(n)]


def _batch(n: int, sid: str = "s1", tag: str = "e") -> RecordBatch:
    return RecordBatch.from_records(_records(n, sid, tag))


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    done = threading.Event()
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        done.wait(0.01)


def _exporter(tmp_path: Path, url: str, **kw: Any) -> HttpExporter:
    opts: dict[str, Any] = {
        "api_key": KEY, "spool_dir": str(tmp_path / "spool"), "timeout": 1.0,
        "retry_deadline": 0.5, "backoff_base": 0.01, "backoff_max": 0.05,
    }  # fmt: skip
    opts.update(kw)
    return HttpExporter(url, **opts)


@pytest.fixture
def wire() -> Iterator[ScriptedServer]:
    """A collector on 127.0.0.1 that accepts everything until a test scripts other answers."""
    srv = ScriptedServer(accept_all)
    srv.start()
    yield srv
    srv.close()
    assert {(r.method, r.path) for r in srv.requests} <= {("POST", "/v1/ingest")}


@pytest.fixture
def exporter(tmp_path: Path, wire: ScriptedServer) -> Iterator[HttpExporter]:
    exp = _exporter(tmp_path, wire.url)
    exp.bind_stats(Stats())
    yield exp
    exp.shutdown(2.0)


# -- a scripted collector: faults on the wire ------------------------------------------------


def test_a_batch_is_sent_gzipped_with_the_bearer_key(
    wire: ScriptedServer, exporter: HttpExporter
) -> None:
    assert exporter.export(_batch(3)).ok
    req = wire.requests[-1]
    assert (req.method, req.path) == ("POST", "/v1/ingest")
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["content-encoding"] == "gzip"
    assert req.ids() == ["e0", "e1", "e2"]


def test_a_batch_is_gzipped_at_the_fastest_level(
    wire: ScriptedServer, exporter: HttpExporter
) -> None:
    # The host's CPU pays for compression. gzip's header names the effort (XFL, byte 8):
    # 4 means the fastest level, 0 a middle one such as the old default 5.
    assert exporter.export(_batch(3)).ok
    assert wire.requests[-1].body[8] == 4


def test_collector_down_at_start_then_up(wire: ScriptedServer, exporter: HttpExporter) -> None:
    calls = {"n": 0}

    def flaky(request: Request) -> Answer:
        calls["n"] += 1
        if calls["n"] <= 3:
            return DROP  # the connection closes unanswered: the client sees it fail
        return accept_all(request)

    wire.respond(flaky)
    result = exporter.export(_batch(4))
    assert result.ok and not result.spooled
    assert len(wire.requests) == 4
    assert exporter._spool.files() == []


def test_collector_down_in_the_middle_keeps_order(
    wire: ScriptedServer, exporter: HttpExporter
) -> None:
    seen: list[list[str]] = []
    down = {"left": 2}

    def handler(request: Request) -> Answer:
        ids = request.ids()
        if ids[0].startswith("b") and down["left"]:
            down["left"] -= 1
            return DROP
        seen.append(ids)
        return accept_all(request)

    wire.respond(handler)
    for tag in ("a", "b", "c"):
        assert exporter.export(_batch(2, tag=tag)).ok
    assert seen == [["a0", "a1"], ["b0", "b1"], ["c0", "c1"]]


def test_429_waits_at_least_retry_after(wire: ScriptedServer, exporter: HttpExporter) -> None:
    wire.respond(in_turn(Reply(429, {"error": {}}, headers={"Retry-After": "0.3"}), accept_all))
    exporter.retry_deadline = 5.0
    assert exporter.export(_batch(1)).ok
    stamps = [r.at for r in wire.requests]
    assert len(stamps) == 2
    assert stamps[1] - stamps[0] >= 0.3


def test_500_storm_spools_then_the_drain_delivers(wire: ScriptedServer, tmp_path: Path) -> None:
    stats = Stats()
    exp = _exporter(tmp_path, wire.url)
    exp.bind_stats(stats)
    wire.respond(Reply(500))
    result = exp.export(_batch(5))
    assert result.spooled and not result.ok
    assert stats.totals["spooled"] == 5  # counted by the exporter (counts_spooled)
    assert len(exp._spool.files()) == 1
    storm_calls = len(wire.requests)
    assert storm_calls >= 2
    wire.respond(accept_all)
    _wait(lambda: stats.totals["observed"] == 5)
    assert stats.totals["spooled"] == 0
    assert exp._spool.files() == []
    exp.shutdown(2.0)


def test_while_a_backlog_exists_new_batches_queue_behind_it(
    wire: ScriptedServer, tmp_path: Path
) -> None:
    exp = _exporter(tmp_path, wire.url, backoff_base=0.2, backoff_max=0.2)
    exp.bind_stats(Stats())
    wire.respond(Reply(503))
    assert exp.export(_batch(1, tag="a")).spooled
    before = len(wire.requests)
    assert exp.export(_batch(1, tag="b")).spooled  # spooled at once, no network attempt
    assert len(wire.requests) - before <= 1  # at most the drain thread's own probe
    order: list[str] = []

    def handler(request: Request) -> Answer:
        order.extend(request.ids())
        return accept_all(request)

    wire.respond(handler)
    _wait(lambda: order == ["a0", "b0"] and not exp._spool.files())
    exp.shutdown(2.0)


def test_timeouts_are_retried(wire: ScriptedServer, exporter: HttpExporter) -> None:
    wire.respond(in_turn(STALL, accept_all))  # no answer to the first before the client's timeout
    assert exporter.export(_batch(2)).ok
    assert len(wire.requests) == 2


def test_per_record_rejection_is_reported_and_logged_once(
    wire: ScriptedServer, exporter: HttpExporter, caplog: pytest.LogCaptureFixture
) -> None:
    reason = "event.type: must be a non-empty string (unique-reason-1)"

    def handler(request: Request) -> Answer:
        ids = request.ids()
        return Reply(
            200, {"accepted": ids[:1], "rejected": [{"index": 1, "id": ids[1], "reason": reason}]}
        )

    wire.respond(handler)
    with caplog.at_level(logging.WARNING, logger="agentlog"):
        first = exporter.export(_batch(2))
        second = exporter.export(_batch(2, tag="x"))
    assert first.ok and first.rejected == (1,)
    assert second.rejected == (1,)
    assert len(wire.requests) == 2  # rejected records are not retried
    assert [r.getMessage() for r in caplog.records].count(
        f"agentlog: the collector rejected record e1, not retrying: {reason}"
    ) == 1
    assert not any("x1" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_whole_batch_4xx_fails_without_retry(
    wire: ScriptedServer, exporter: HttpExporter, status: int
) -> None:
    wire.respond(Reply(status, {"error": {"message": f"nope {status}"}}))
    result = exporter.export(_batch(3))
    assert not result.ok and not result.spooled
    assert result.reason == f"HTTP {status}: nope {status}"
    assert len(wire.requests) == 1
    assert exporter._spool.files() == []


def test_408_is_retried(wire: ScriptedServer, exporter: HttpExporter) -> None:
    wire.respond(in_turn(Reply(408), Reply(200, {"accepted": [], "rejected": []})))
    assert exporter.export(_batch(1)).ok
    assert len(wire.requests) == 2


def test_413_splits_the_batch_until_it_fits(wire: ScriptedServer, exporter: HttpExporter) -> None:
    def handler(request: Request) -> Answer:
        if len(request.ids()) > 2:
            return Reply(413, {"error": {"message": "too many records"}})
        return accept_all(request)

    wire.respond(handler)
    result = exporter.export(_batch(8))
    assert result.ok and result.rejected == ()
    delivered = [i for r in wire.requests if r.status == 200 for i in r.ids()]
    assert delivered == [f"e{i}" for i in range(8)]


def test_a_single_record_too_large_is_rejected_not_retried(
    wire: ScriptedServer, exporter: HttpExporter
) -> None:
    wire.respond(Reply(413))
    result = exporter.export(_batch(1))
    assert not result.ok and not result.spooled
    assert len(wire.requests) == 1


def test_shutdown_cuts_a_backoff_short(wire: ScriptedServer, tmp_path: Path) -> None:
    exp = _exporter(tmp_path, wire.url, retry_deadline=60.0, backoff_base=30.0, backoff_max=30.0)
    exp.bind_stats(Stats())
    wire.respond(Reply(503))
    results: list[Any] = []
    t = threading.Thread(target=lambda: results.append(exp.export(_batch(2))))
    t.start()
    _wait(lambda: len(exp._spool.files()) == 1)  # written before the first wait
    start = time.monotonic()
    exp.shutdown(2.0)
    t.join(5.0)
    assert time.monotonic() - start < 2.5
    assert results and results[0].spooled
    assert len(exp._spool.files()) == 1


def test_spool_bound_drops_oldest_and_counts_them(wire: ScriptedServer, tmp_path: Path) -> None:
    stats = Stats()
    one = len(b"\n".join(_batch(10, tag="a").lines) + b"\n")
    exp = _exporter(tmp_path, wire.url, spool_max_bytes=2 * one, backoff_base=5.0, backoff_max=5.0)
    exp.bind_stats(stats)
    wire.respond(Reply(503))
    for tag in "abc":
        batch = _batch(10, tag=tag)
        assert exp.export(batch).spooled
    assert stats.totals["dropped"] == 10
    assert stats.totals["spooled"] == 20
    exp.shutdown(1.0)


def test_exporter_never_raises_on_a_bad_spool_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    exp = _exporter(tmp_path, url="http://127.0.0.1:9", spool_dir=str(blocker / "spool"))
    result = exp.export(_batch(1))
    assert not result.ok and not result.spooled
    exp.shutdown(1.0)


def test_from_config_requires_an_endpoint() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        agentlog.init(exporter="http")


# -- a real ingest endpoint on 127.0.0.1 -----------------------------------------------------


class IngestServer(ScriptedServer):
    """A minimal collector: validates ids, counts every arrival, can be stopped and restarted."""

    def __init__(self) -> None:
        super().__init__(self._collect)
        self.arrivals: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stall: threading.Event | None = None

    def _collect(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return Reply(401, {"error": {"message": "bad key"}})
        if self.stall is not None:  # a collector too slow to answer in time
            return Stall(until=self.stall)
        accepted, rejected, keys = [], [], []
        for i, rec in enumerate(request.records()):
            if rec.get("kind") not in ("session", "event", "message"):
                rejected.append({"index": i, "id": rec.get("id"), "reason": "bad kind"})
            else:
                accepted.append(rec["id"])
                # A session's start and end share an id: count whole records.
                keys.append(json.dumps(rec, sort_keys=True))
        with self.lock:
            self.arrivals.update(keys)
        return Reply(200, {"accepted": accepted, "rejected": rejected})

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(json.loads(k)["id"] for k in self.arrivals)

    def records(self) -> Counter[str]:
        """Each distinct record received, with how often it arrived."""
        with self.lock:
            return Counter(self.arrivals)


@pytest.fixture
def server() -> Iterator[IngestServer]:
    srv = IngestServer()
    srv.start()
    yield srv
    if srv.stall is not None:
        srv.stall.set()
    srv.close()


def _record_through_sdk(n: int) -> list[str]:
    ids = []
    with agentlog.session("job") as s:
        for i in range(n):
            agentlog.track_tool_call("t", input={"i": i}, output=i)
        ids.append(s.id)
    return ids


def test_real_server_receives_every_record_once(server: IngestServer, tmp_path: Path) -> None:
    agentlog.init(
        exporter="http", endpoint=server.url, api_key=KEY, spool_dir=str(tmp_path / "spool")
    )
    _record_through_sdk(50)
    assert agentlog.flush(10.0)
    st = agentlog.status()
    assert st.observed == 52 and st.failed == 0 and st.spooled == 0
    arrivals = server.records()
    assert len(arrivals) == 52 and set(arrivals.values()) == {1}


def test_real_server_stopped_mid_stream_then_back(server: IngestServer, tmp_path: Path) -> None:
    agentlog.init(exporter=_exporter(tmp_path, url=server.url, timeout=0.5))
    _record_through_sdk(10)
    assert agentlog.flush(10.0)
    server.stop()
    _record_through_sdk(10)
    _wait(lambda: agentlog.status().spooled == 12, timeout=60.0)
    server.start()  # same port
    _wait(lambda: agentlog.status().observed == 24, timeout=60.0)
    st = agentlog.status()
    assert st.spooled == 0 and st.failed == 0
    arrivals = server.records()
    assert len(arrivals) == 24 and set(arrivals.values()) == {1}


def test_slow_collector_past_the_timeout_is_retried(server: IngestServer, tmp_path: Path) -> None:
    stall = threading.Event()
    server.stall = stall
    exp = _exporter(tmp_path, url=server.url, timeout=0.2, retry_deadline=30.0)
    exp.bind_stats(Stats())
    results: list[Any] = []
    t = threading.Thread(target=lambda: results.append(exp.export(_batch(3))))
    t.start()
    _wait(lambda: len(exp._spool.files()) == 1)  # the first attempt timed out
    server.stall = None
    stall.set()
    t.join(30.0)
    assert results and results[0].ok and not results[0].spooled
    assert server.ids() == Counter({"e0": 1, "e1": 1, "e2": 1})
    assert exp._spool.files() == []
    exp.shutdown(1.0)


def test_real_server_rejects_one_record_keeps_the_rest(
    server: IngestServer, tmp_path: Path
) -> None:
    exp = _exporter(tmp_path, url=server.url)
    records = _records(3)
    records[1]["kind"] = "bogus"
    result = exp.export(RecordBatch.from_records(records))
    assert result.ok and result.rejected == (1,)
    assert server.ids() == Counter({"e0": 1, "e2": 1})
    exp.shutdown(1.0)


_AGENT = textwrap.dedent(
    """
    import sys, agentlog
    from agentlog._state import STATE
    url, spool, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    agentlog.init(exporter="http", endpoint=url, api_key="test-key", spool_dir=spool,
                  export_timeout=0.3, shutdown_timeout=1.0, max_batch=64)
    for s in range(n):
        with agentlog.session(f"job-{s}"):
            for i in range(20):
                agentlog.track_tool_call("t", input={"i": i}, output=i)
    pipeline = STATE.pipeline
    agentlog.shutdown()
    pipeline._thread.join(10.0)  # the worker hands its last batch back once the exporter stops
    st = pipeline.status()
    print(st.spooled, st.observed, st.failed, st.dropped)
    """
)

_DRAINER = textwrap.dedent(
    """
    import os, sys, threading, agentlog
    url, spool, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    agentlog.init(exporter="http", endpoint=url, api_key="test-key", spool_dir=spool)
    wait = threading.Event()
    for _ in range(3000):  # until delivered and counted, or 30 s
        if agentlog.status().observed >= expected:
            break
        wait.wait(0.01)
    st = agentlog.status()
    left = [n for _, _, names in os.walk(spool) for n in names if n.endswith(".jsonl")]
    agentlog.shutdown()
    print(st.observed, st.spooled, st.failed, len(left))
    """
)


def test_a_process_exiting_while_down_is_resent_by_the_next(
    server: IngestServer, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    port = server.port
    server.stop()
    agent = subprocess.run(
        [sys.executable, "-c", _AGENT, f"http://127.0.0.1:{port}", str(spool), "5"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert agent.returncode == 0, agent.stderr
    assert agent.stdout.split() == ["110", "0", "0", "0"]  # status() counted them as spooled
    spooled = list(spool.rglob("*.jsonl"))
    assert spooled, "the agent exited without spooling"
    assert sum(len(p.read_bytes().splitlines()) for p in spooled) == 5 * 22
    server.port = port
    server.start()
    nxt = subprocess.run(
        [sys.executable, "-c", _DRAINER, server.url, str(spool), "110"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert nxt.returncode == 0, nxt.stderr
    assert nxt.stdout.split() == ["110", "0", "0", "0"]
    arrivals = server.records()
    assert len(arrivals) == 110 and set(arrivals.values()) == {1}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_resend_the_parents_batch(
    server: IngestServer, tmp_path: Path
) -> None:
    port = server.port
    server.stop()
    exp = _exporter(tmp_path, url=f"http://127.0.0.1:{port}", backoff_base=0.3, backoff_max=0.3)
    exp.bind_stats(Stats())
    assert exp.export(_batch(2, tag="parent")).spooled  # held by the parent, in its backlog
    server.port = port
    server.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            exp.bind_stats(Stats())
            exp.after_fork_in_child()
            ok = exp.export(_batch(2, tag="child")).ok
            ok = ok and exp.force_flush(2.0)
            exp.shutdown(1.0)
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _wait(lambda: not exp._spool.files())
    assert server.ids() == Counter({"parent0": 1, "parent1": 1, "child0": 1, "child1": 1})
    exp.shutdown(1.0)


def test_force_flush_is_true_only_once_the_backlog_is_delivered(
    wire: ScriptedServer, tmp_path: Path
) -> None:
    exp = _exporter(tmp_path, wire.url, backoff_base=0.05, backoff_max=0.05)
    exp.bind_stats(Stats())
    wire.respond(Reply(503))
    assert exp.export(_batch(2)).spooled
    start = time.monotonic()
    assert exp.force_flush(0.5) is False  # spooled is not delivered: it waits, then says so
    assert 0.5 <= time.monotonic() - start < 2.0
    wire.respond(accept_all)
    assert exp.force_flush(5.0) is True  # the drain delivers within the wait
    assert exp._spool.files() == []
    exp.shutdown(1.0)


def test_force_flush_is_false_after_a_batch_failed_for_good(
    wire: ScriptedServer, exporter: HttpExporter
) -> None:
    wire.respond(Reply(400))
    assert not exporter.export(_batch(1)).ok
    assert exporter.force_flush(1.0) is False  # handed to it, never delivered
    wire.respond(accept_all)
    assert exporter.export(_batch(1, tag="x")).ok
    assert exporter.force_flush(1.0) is True  # the loss was reported once


def test_a_record_rejected_on_resend_moves_from_spooled_to_failed(
    wire: ScriptedServer, tmp_path: Path
) -> None:
    stats = Stats()
    exp = _exporter(tmp_path, wire.url)
    exp.bind_stats(stats)
    wire.respond(Reply(503))
    batch = _batch(5)
    assert exp.export(batch).spooled

    def reject_first(request: Request) -> Answer:
        ids = request.ids()
        return Reply(
            200, {"accepted": ids[1:], "rejected": [{"index": 0, "id": ids[0], "reason": "x"}]}
        )

    wire.respond(reject_first)
    _wait(lambda: stats.totals["spooled"] == 0)
    assert (stats.totals["observed"], stats.totals["failed"]) == (4, 1)
    assert stats.sessions["s1"] == {
        "observed": 4,
        "dropped": 0,
        "failed": 1,
        "spooled": 0,
        "sampled_out": 0,
    }
    exp.shutdown(1.0)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from agentlog.exporters._ingest import parse_retry_after

    assert parse_retry_after("2.5") == 2.5
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 30
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_exporters_resolve_lazily_from_the_package() -> None:
    code = (
        "import sys, agentlog.exporters as e; "
        "print('agentlog.exporters.http' in sys.modules, 'httpx' in sys.modules); "
        "e.HttpExporter; e.OtlpExporter; print('agentlog.exporters.http' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False", "True"], out.stderr


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_keeps_the_batch_and_says_so_once(
    wire: ScriptedServer, tmp_path: Path, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    stats = Stats()
    exp = _exporter(tmp_path, wire.url)
    exp.bind_stats(stats)
    wire.respond(Reply(status, {"error": {"message": "unknown key"}}))
    with caplog.at_level(logging.INFO, logger="agentlog"):
        for tag in "ab":
            batch = _batch(2, tag=tag)
            assert exp.export(batch).spooled  # kept, never failed or deleted
        start = time.monotonic()
        assert exp.force_flush(5.0) is False  # waiting cannot fix a key
        assert time.monotonic() - start < 1.0
        assert len(exp._spool.files()) == 2
        wire.respond(accept_all)  # the key is accepted now (added on the collector)
        _wait(lambda: stats.totals["observed"] == 4)
    refused = [r for r in caplog.records if "refused the API key" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    assert "AGENTLOG_API_KEY" in refused[0].getMessage()
    assert str(exp._spool.directory) in refused[0].getMessage()
    assert stats.totals["spooled"] == 0 and exp._spool.files() == []
    exp.shutdown(1.0)


# -- accounting: a spooled batch is counted spooled before the drainer can deliver it ---------


def test_a_spooled_batch_delivered_before_the_caller_counts_it_is_counted_once(
    wire: ScriptedServer, tmp_path: Path
) -> None:
    """The exporting thread may be descheduled for any time after ``export()`` returns: the
    drainer may deliver the batch before the pipeline looks at the result."""
    exp = _exporter(tmp_path, wire.url, retry_deadline=0.0)
    pipeline = Pipeline(exp)  # binds its stats; its _count is how the worker counts a result
    stats = pipeline.stats
    wire.respond(Reply(503))
    batch = _batch(2)
    result = exp.export(batch)
    assert result.spooled
    wire.respond(accept_all)
    exp._wake_drain()
    # The drainer unlinks the file before it counts: wait for its count, not the file.
    _wait(lambda: stats.totals["observed"] == 2)  # delivered while the worker "sleeps"
    pipeline._count(batch, result)
    assert stats.totals["observed"] == 2 and stats.totals["spooled"] == 0
    assert stats.sessions["s1"]["observed"] == 2 and stats.sessions["s1"]["spooled"] == 0
    exp.shutdown(1.0)


def test_a_batch_held_after_the_drainer_listed_the_spool_is_not_taken_for_vanished(
    wire: ScriptedServer, tmp_path: Path
) -> None:
    """The drainer lists the spool, then the exporter writes and holds a batch, then the
    drainer looks at what it holds: that batch is new, not gone (it is neither dropped nor
    delivered twice in the counts)."""
    exp = _exporter(tmp_path, wire.url, retry_deadline=0.0)
    listed, go = threading.Event(), threading.Event()
    real = exp._spool.sendable
    gated = [True]

    def sendable() -> list[Path]:
        paths = real()
        if gated and threading.current_thread().name == "agentlog-spool":
            gated.clear()
            listed.set()
            assert go.wait(10.0)
        return paths

    exp._spool.sendable = sendable  # type: ignore[method-assign]
    pipeline = Pipeline(exp)  # binds its stats: the drainer starts and lists the empty spool
    stats = pipeline.stats
    assert listed.wait(10.0)
    wire.respond(Reply(503))
    batch = _batch(2)
    result = exp.export(batch)
    pipeline._count(batch, result)
    assert result.spooled and stats.totals["spooled"] == 2
    wire.respond(accept_all)
    go.set()
    _wait(lambda: stats.totals["observed"] == 2 and exp._spool.files() == [])
    exp.shutdown(1.0)
    assert (stats.totals["spooled"], stats.totals["dropped"], stats.totals["observed"]) == (0, 0, 2)
