"""The SQLite store's WAL checkpoints, run on their own thread after writers commit."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from agentlog.store import _checkpoint
from agentlog.store._checkpoint import Checkpointer
from agentlog.store.sqlite import SqliteStore

from .helpers import event, session


def _events_in_main_file(db: Path, tmp: Path) -> int:
    """Events in the database file itself, without its WAL: what checkpoints copied there."""
    copy = tmp / "main-only.db"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as c:
        try:
            return int(c.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema was copied yet
            return 0


def test_committed_rows_reach_the_database_file_without_the_writer_checkpointing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "a.db"
    store = SqliteStore(db, processing=False)
    try:
        cp = store._checkpointer
        store.ingest([session("s1"), *(event("s1", i) for i in range(50))])
        # 50 events are far below the automatic checkpoint's 10,000 pages: only the
        # background checkpoint, poked by the commit, copies them into the file. Each poke
        # is followed by a run, so a few runs at most are enough.
        found = 0
        for attempts in range(1, 6):
            assert cp.wait(attempts, timeout=30)
            found = _events_in_main_file(db, tmp_path)
            if found == 50:
                break
        assert found == 50
        assert cp.failures == 0
    finally:
        store.close()


def test_close_stops_the_checkpoint_thread(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.db", processing=False)
    store.ingest([session("s1"), event("s1", 1)])
    assert store._checkpointer.wait(1, timeout=30)
    thread = store._checkpointer._thread
    assert thread is not None and thread.is_alive()
    store.close()
    assert not thread.is_alive()


def test_a_failing_checkpoint_is_said_once_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cp = Checkpointer(tmp_path)  # a directory: SQLite cannot open it as a database
    try:
        with caplog.at_level(logging.WARNING, logger="agentlog"):
            cp.poke()
            assert cp.wait(1, timeout=30)
            cp.poke()
            assert cp.wait(2, timeout=30)
        assert (cp.runs, cp.failures) == (0, 2)
        said = [r for r in caplog.records if "background WAL checkpoint" in r.getMessage()]
        assert len(said) == 1
        assert str(tmp_path) in said[0].getMessage()
    finally:
        cp.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_gets_a_checkpoint_thread_of_its_own(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    sqlite3.connect(db).execute("PRAGMA journal_mode=WAL").fetchall()
    cp = Checkpointer(db)
    try:
        cp.poke()
        assert cp.wait(1, timeout=30)
        pid = os.fork()
        if pid == 0:  # the child: the parent's thread did not come along
            ok = False
            try:
                before = cp.runs + cp.failures
                cp.poke()
                ok = cp.wait(before + 1, timeout=30) and cp.failures == 0
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        cp.close()


def test_an_idle_thread_ends_and_the_next_commit_starts_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_checkpoint, "_IDLE_S", 0.01)
    monkeypatch.setattr(_checkpoint, "_MIN_GAP_S", 0.0)
    cp = Checkpointer(tmp_path / "a.db")
    try:
        cp.poke()
        assert cp.wait(1, timeout=30)
        first = cp._thread
        assert first is not None
        first.join(timeout=30)
        assert not first.is_alive()
        cp.poke()
        assert cp.wait(2, timeout=30)
        assert cp._thread is not first
        assert cp.runs == 2
    finally:
        cp.close()
