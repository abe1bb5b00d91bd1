"""Where the ``agentlog`` command reads: nothing is created by reading, an empty place says
where it looked, and ``--project`` reaches what a keyed collector stored."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

import agentlog

from .test_cli import JSONL, cli, collector, record  # noqa: F401  (collector: a fixture)

READS = [["sessions"], ["events"], ["counts"], ["markers"], ["timeline", "0190abcd-0000"],
         ["context", "0190abcd-0000"]]  # fmt: skip


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("argv", READS)
def test_nothing_recorded_says_where_it_looked_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    code, out, err = cli(capsys, *argv)
    assert out == "" and _tree(tmp_path) == []
    assert f"nothing recorded in {tmp_path / '.agentlog'}" in err
    assert "--jsonl PATH" in err and "--db URL" in err and "--url URL" in err
    # Listing nothing is an answer; an id that cannot be found is an error.
    assert code == (2 if argv[0] in ("timeline", "context") else 0)


@pytest.mark.parametrize("argv", READS)
def test_a_missing_db_is_an_error_not_a_new_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    code, out, err = cli(capsys, *argv, "--db", "/nonexistent/dir/x.db")
    assert (code, out) == (2, "") and "no such directory '/nonexistent/dir'" in err
    code, out, err = cli(capsys, *argv, "--db", "here.db")
    assert (code, out) == (2, "") and "--db here.db: no such store" in err
    assert "agentlog import" in err and _tree(tmp_path) == []


@pytest.mark.parametrize("argv", [*READS, ["mcp"]])
def test_a_missing_jsonl_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    code, out, err = cli(capsys, *argv, "--jsonl", "/no/such/file")
    assert (code, out) == (
        2,
        "",
    ) and err == "agentlog: error: --jsonl /no/such/file: no such file\n"
    assert _tree(tmp_path) == []


def test_a_real_process_exits_2_on_a_missing_db(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "agentlog.cli", "sessions", "--db",
                           "/nonexistent/dir/x.db"], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""


def test_a_store_that_exists_is_read_and_jsonl_may_fill_a_new_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = record([{"script": "u"}])
    code, out, _ = cli(capsys, "sessions", "--json", "--db", "new.db", "--jsonl", JSONL)
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ids
    code, out, _ = cli(capsys, "sessions", "--json", "--db", "new.db")
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ids


def test_import_still_creates_its_store(capsys: pytest.CaptureFixture[str]) -> None:
    record([{"script": "u"}])
    code, _, _ = cli(capsys, "import", JSONL, "--db", "made.db", "--quiet")
    assert code == 0 and Path("made.db").is_file()


def test_tail_waits_for_the_first_records(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "agentlog.cli", "tail", "--max-events", "1",
                             "--timeout", "60", "--interval", "0.05", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stderr, selectors.EVENT_READ)
            assert sel.select(timeout=60), "tail printed nothing"
        assert "waiting for records in" in proc.stderr.readline()
        agentlog.init()  # the default place, ./.agentlog/events.jsonl, after tail started
        with agentlog.session("late"):
            agentlog.add_event(agentlog.TextEvent(text="hello"))
        assert agentlog.flush(10.0)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0 and json.loads(out.splitlines()[0])["data"] == {"text": "hello"}


def test_tail_gives_up_at_its_timeout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "tail", "--timeout", "0.2", "--interval", "0.05")
    assert (code, out) == (0, "") and "waiting for records" in err and _tree(tmp_path) == []


def test_project_reads_what_a_keyed_collector_stored(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    collector: str,  # noqa: F811
) -> None:
    ids = record([{"user": "alice", "script": "upuc"}])
    code, _, _ = cli(capsys, "import", JSONL, "--url", collector, "--api-key", "cli-test-key-1")
    assert code == 0
    db = str(tmp_path / "collector.db")  # the collector's own store: everything under "team"
    code, out, err = cli(capsys, "sessions", "--db", db)
    assert code == 0 and out == ""
    assert "no sessions match in project 'default'" in err and "team: pass --project" in err
    for argv in (["sessions", "--json"], ["events", ids[0], "--json"], ["timeline", ids[0]],
                 ["counts", "--json"], ["markers", "--json"]):  # fmt: skip
        code, out, err = cli(capsys, *argv, "--db", db, "--project", "team")
        assert code == 0 and out, (argv, err)
    code, out, _ = cli(capsys, "sessions", "--json", "--project", "team", "--db", db)
    assert [json.loads(x)["id"] for x in out.splitlines()] == ids


def test_project_is_refused_with_a_collector(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "sessions", "--url", "http://127.0.0.1:9", "--project", "x")
    assert code == 2 and "--project" in err and "API key" in err
