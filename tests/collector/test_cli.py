from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentlog.cli import main
from agentlog.collector._cli import GC_THRESHOLDS, app_from_env, banner
from agentlog.collector.auth import KeyRing

from .conftest import KEYS, A
from .servers import Collector


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """The collector process tunes its garbage collection; a test process gets its own back."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_keys_create_prints_a_key_that_the_file_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys.txt"
    assert main(["keys", "create", "--project", "support", "--file", str(path)]) == 0
    key = capsys.readouterr().out.strip()
    assert KeyRing(path=path).project_for(key) == "support"
    assert main(["keys", "list", "--file", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["support"]


def test_keys_create_without_a_file_says_how_to_use_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "create", "--project", "p1"]) == 0
    out = capsys.readouterr()
    assert f"AGENTLOG_API_KEYS={out.out.strip()}:p1" in out.err


def test_keys_create_refuses_a_bad_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--project", "no spaces"]) == 2
    assert "project 'no spaces'" in capsys.readouterr().err


def test_serve_without_keys_fails_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--db", "x.db"]) == 2
    assert "no API keys" in capsys.readouterr().err


def test_serve_reports_a_broken_keys_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keys").write_text("not a key line\n")
    assert main(["serve", "--keys-file", str(tmp_path / "keys")]) == 2
    assert "expected key:project" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_gc")
def test_each_worker_builds_its_app_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"db": f"sqlite:///{tmp_path / 'w.db'}", "no_auth": False, "keys_file": None,
                "max_body_bytes": 1000, "max_decoded_bytes": 2000, "max_records": 3, "max_inflight": 4,
                "max_turns": 20, "ttl_seconds": 60.0, "auto_close_after": 3600.0}  # fmt: skip
    monkeypatch.setenv("AGENTLOG_COLLECTOR_SETTINGS", json.dumps(settings))
    monkeypatch.setenv("AGENTLOG_API_KEYS", KEYS)
    with TestClient(app_from_env()) as c:
        assert c.post("/v1/sessions", headers=A, json={"id": "s1"}).status_code == 200
        r = c.post("/v1/ingest", headers=A, json={"records": [{}] * 4})
        assert r.status_code == 413 and "limit of 3" in r.json()["error"]["message"]
    assert gc.get_threshold() == GC_THRESHOLDS and gc.get_freeze_count() > 0


def test_serve_reports_a_store_it_cannot_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTLOG_API_KEYS", KEYS)
    (tmp_path / "file").write_text("")
    assert main(["serve", "--db", str(tmp_path / "file" / "sub" / "x.db")]) == 2
    assert "cannot open the store" in capsys.readouterr().err


def test_keys_create_makes_a_private_directory_for_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "etc" / "agentlog" / "keys"
    assert main(["keys", "create", "--project", "support", "--file", str(path)]) == 0
    key = capsys.readouterr().out.strip()
    assert KeyRing(path=path).project_for(key) == "support"
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert (path.stat().st_mode & 0o777) == 0o600


def test_the_no_auth_banner_lines_up_whatever_the_address() -> None:
    for addr in (
        "http://127.0.0.1:8029",
        "http://collector.internal.example.com:65535/" + "x" * 60,
    ):
        lines = banner(addr).splitlines()
        assert len({len(line) for line in lines}) == 1, lines
        assert all(line.startswith("*") and line.endswith("*") for line in lines)
        assert any(addr in line for line in lines)


def test_start_up_log_names_store_keys_and_projects(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("file-key-123456:support\n")
    log = tmp_path / "serve.log"
    db = str(tmp_path / "c.db")
    server = Collector(db, keys="env-key-1234567:billing,env-key-7654321:support", log=log,
                       extra=("--keys-file", str(keys))).start()  # fmt: skip
    server.stop()
    line = next(x for x in log.read_text().splitlines() if x.startswith("agentlog collector:"))
    assert f"store SQLite {db}" in line
    assert f"3 API keys (1 from {keys}, 2 from $AGENTLOG_API_KEYS)" in line
    assert "for 2 projects: billing, support" in line
    open_log = tmp_path / "open.log"
    server = Collector(db, keys="", log=open_log, extra=("--no-auth",)).start()
    server.stop()
    text = open_log.read_text()
    assert "no API keys (--no-auth): everything in project 'default'" in text
    assert "AUTHENTICATION IS OFF" in text


@pytest.mark.usefixtures("restore_gc")
def test_serve_tunes_garbage_collection_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    seen: list[tuple[tuple[int, int, int], int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append(
        (gc.get_threshold(), gc.get_freeze_count())))  # fmt: skip
    monkeypatch.setenv("AGENTLOG_API_KEYS", KEYS)
    assert main(["serve", "--db", str(tmp_path / "g.db")]) == 0
    assert len(seen) == 1
    thresholds, frozen = seen[0]
    assert thresholds == GC_THRESHOLDS and frozen > 0
