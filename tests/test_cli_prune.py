"""``agentlog prune --older-than``: in-process through ``main([...])`` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentlog.cli import main
from agentlog.store import open_store

OLD = "2025-06-01T00:00:00.000000Z"


def _fill(path: Path) -> None:
    with open_store(path, processing=False) as store:
        store.ingest([
            {"kind": "session", "id": "old", "status": "success", "started_at": OLD,
             "ended_at": OLD},
            {"kind": "event", "id": "e1", "session_id": "old", "type": "step", "ts": OLD},
            {"kind": "session", "id": "running", "status": "running", "started_at": OLD},
        ])  # fmt: skip


def test_prune_removes_old_ended_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    _fill(db)
    assert main(["prune", "--older-than", "30d", "--db", str(db), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out.pop("longest_step_ms") > 0
    assert out == {"sessions": 1, "events": 1, "messages": 0}
    with open_store(db, processing=False) as store:
        assert [s.id for s in store.list_sessions().items] == ["running"]
    assert main(["prune", "--older-than", "30d", "--db", f"sqlite:///{db}"]) == 0
    assert "removed 0 sessions" in capsys.readouterr().out


def test_prune_refuses_a_missing_store_and_a_bad_age(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    missing = tmp_path / "none.db"
    assert main(["prune", "--older-than", "30d", "--db", str(missing)]) == 2
    assert "no store at" in capsys.readouterr().err and not missing.exists()
    assert main(["prune", "--older-than", "soon", "--db", str(missing)]) == 2
    assert "not a duration" in capsys.readouterr().err
