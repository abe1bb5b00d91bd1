"""``_signals``: agentlog's threads block the asynchronous signals, so that Ctrl-C and SIGTERM
always reach the host's main thread (read from each thread's mask in /proc)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import pytest

import agentlog
from agentlog._signals import keep_off, quiet_thread
from agentlog.store.sqlite import SqliteStore

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/<pid>/task")


def _blocked(thread: threading.Thread) -> set[int]:
    """The signals ``thread`` blocks, from its kernel task's status."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1],
               16)  # fmt: skip
    return {n for n in range(1, 65) if mask & (1 << (n - 1))}


def _ours(prefix: str) -> threading.Thread:
    found = [t for t in threading.enumerate() if t.name.startswith(prefix)]
    assert found, f"no thread named {prefix}*: {[t.name for t in threading.enumerate()]}"
    return found[0]


def test_the_pipelines_worker_blocks_ctrl_c_and_sigterm(tmp_path: Path) -> None:
    agentlog.init(path=str(tmp_path / "events.jsonl"))
    try:
        agentlog.track_tool_call("search", input={"q": 1}, output=[])
        assert agentlog.flush(10)
        assert {signal.SIGINT, signal.SIGTERM} <= _blocked(_ours("agentlog-worker"))
    finally:
        agentlog.shutdown()


def test_the_stores_threads_block_ctrl_c_and_sigterm(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.db", processing=True)
    try:
        store.ingest([{"kind": "session", "id": "s1", "started_at": "2026-01-01T00:00:00Z"}])
        for name in ("agentlog-store-processing", "agentlog-sqlite-checkpoint"):
            assert {signal.SIGINT, signal.SIGTERM} <= _blocked(_ours(name)), name
    finally:
        store.close()


def test_a_quiet_thread_runs_its_target_with_the_signals_blocked() -> None:
    seen: list[set[int]] = []

    def target(x: int) -> None:
        seen.append({x} | set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))

    t = quiet_thread(target=target, name="t", daemon=True, args=(7,))
    t.start()
    t.join(10)
    assert seen and {7, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD} <= seen[0]
    assert signal.SIGSEGV not in seen[0]  # a fault must still reach its handler


def test_keep_off_leaves_the_main_thread_alone() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    keep_off()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    assert signal.SIGINT not in before
