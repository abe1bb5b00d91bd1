"""The ``agentlog`` command, in-process through ``main([...])`` on data recorded by the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import agentlog
from agentlog import Client
from agentlog.cli import main

JSONL = "runs/events.jsonl"
WHERE = ["--jsonl", JSONL]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@agentlog.tool
def search_kb(query: str) -> list[str]:
    agentlog.track_llm_call(model="gpt-4o", messages=[{"role": "user", "content": query}],
                            response="kb1", usage={"input_tokens": 12, "output_tokens": 3})  # fmt: skip
    if query == "fail":
        raise KeyError("no article")
    return ["kb1"]


@agentlog.trace(type="step", name="plan")
def plan(query: str) -> None:
    try:
        search_kb(query)
    except KeyError:
        pass


def record(runs: list[dict[str, Any]]) -> list[str]:
    """One session per run: ``{"user", "configs", "script"}``, the script a string of
    u (user message), a (assistant message), c (compaction), p (plan with a tool call),
    f (a failing tool call)."""
    agentlog.init(path=JSONL)
    ids = []
    for run in runs:
        with agentlog.session("support", user=run.get("user"), configs=run.get("configs")) as s:
            for step in run["script"]:
                if step == "u":
                    agentlog.store_message({"role": "user", "content": "my password?"})
                elif step == "a":
                    agentlog.store_message({"role": "assistant", "content": "reset it"})
                elif step == "c":
                    agentlog.add_event(agentlog.Event(type="compaction", data={"tokens": 9}))
                else:
                    plan("fail" if step == "f" else "reset")
        ids.append(s.id)
    assert agentlog.flush(10.0)
    return ids


@pytest.fixture
def two() -> list[str]:
    return record([
        {"user": "alice", "configs": {"agent": "bot1", "version": 2}, "script": "upauc"},
        {"user": "bob", "configs": {"agent": "bot2", "version": "2"}, "script": "ufu"},
    ])  # fmt: skip


def test_sessions_lists_newest_first(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "sessions", *WHERE)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["ID", "STARTED"]
    assert [line.split()[0] for line in lines[1:]] == [two[1], two[0]]


def test_sessions_filter_by_user(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "sessions", "--user", "bob", "--json", *WHERE)
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == [two[1]]


def test_config_values_parse_as_json_else_string(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    def ids(*configs: str) -> list[str]:
        args = [a for c in configs for a in ("--config", c)]
        code, out, _ = cli(capsys, *WHERE, "sessions", "--json", *args)
        assert code == 0
        return [json.loads(line)["id"] for line in out.splitlines()]

    assert ids("version=2") == [two[0]]  # the number 2
    assert ids('version="2"') == [two[1]]  # the string "2"
    assert ids("agent=bot2", "version=2") == []  # both must hold
    assert ids("agent=bot1") == [two[0]]  # not JSON: a plain string


def test_sessions_page_by_cursor(capsys: pytest.CaptureFixture[str]) -> None:
    ids = record([{"script": "u"} for _ in range(5)])
    seen: list[str] = []
    cursor: list[str] = []
    for _ in range(3):
        code, out, err = cli(capsys, "sessions", "--limit", "2", "--json", *cursor, *WHERE)
        assert code == 0
        seen += [json.loads(line)["id"] for line in out.splitlines()]
        more = [line for line in err.splitlines() if line.startswith("more: --cursor ")]
        cursor = ["--cursor", more[0].split()[-1]] if more else []
    assert seen == ids[::-1] and cursor == []
    code, out, _ = cli(capsys, "sessions", "--limit", "2", "--all", "--oldest-first", *WHERE)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ids


def test_sessions_show_rollups_right_after_recording(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    code, out, _ = cli(capsys, "sessions", *WHERE)
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    # ID DATE TIME TOOK STATUS USER TURNS TOKENS NAME: two user turns, one llm call of 12+3
    assert code == 0 and [rows[sid][6:8] for sid in two] == [["2", "15"], ["2", "15"]]


def test_timeline_json_carries_the_current_rollup(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    code, out, _ = cli(capsys, "timeline", two[1], "--json", *WHERE)
    r = json.loads(out)["session"]["rollup"]
    assert code == 0 and (r["turns"], r["tool_calls"], r["errors"]) == (2, 1, 1)
    assert (r["tokens_in"], r["tokens_out"]) == (12, 3) and r["updated_at"] is not None


def test_timeline_nests_spans_with_tokens_and_errors(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    code, out, _ = cli(capsys, "timeline", two[1], *WHERE)
    assert code == 0 and "\033[" not in out  # not a terminal: no colour
    lines = out.splitlines()
    assert lines[0].startswith(f"session {two[1]} support user=bob status=success")
    step = next(i for i, line in enumerate(lines) if " step plan " in line)
    tool, llm = lines[step + 1], lines[step + 2]
    indent = len(lines[step]) - len(lines[step].lstrip())
    assert tool.startswith(" " * (indent + 2) + tool.lstrip()) and "✗ tool_call search_kb" in tool
    assert "KeyError" in tool and "no article" in tool
    assert llm.startswith(" " * (indent + 4)) and "tokens=15 (12 in, 3 out)" in llm
    assert sum("user: my password?" in line for line in lines) == 2


def test_timeline_colours_errors_on_request(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    code, out, _ = cli(capsys, "timeline", two[1], "--color", *WHERE)
    assert code == 0 and "\033[31m✗\033[0m" in out and "\033[32m✓\033[0m" in out


def test_timeline_json(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "timeline", two[0], "--json", *WHERE)
    doc = json.loads(out)
    kinds = [(i["kind"], i["type"]) for i in doc["items"]]
    assert code == 0 and doc["session"]["id"] == two[0]
    assert kinds == [("message", "user"), ("event", "step"), ("event", "tool_call"),
                     ("event", "llm_call"), ("message", "assistant"), ("message", "user"),
                     ("event", "compaction")]  # fmt: skip


def test_unknown_session_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], two: list[str]
) -> None:
    code, out, err = cli(capsys, "timeline", "no-such-session", *WHERE)
    assert (code, out) == (2, "")
    assert err == "agentlog: error: session 'no-such-session' not found\n"


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["sessions", "--limit", "0"], "--limit"),
        (["sessions", "--config", "novalue"], "key=value"),
        (["counts", "--bucket", "week"], "--bucket"),
        (["context", "x", "--before", "-1"], "--before"),
        (["tail", "--interval", "0"], "--interval"),
        (["sessions", "--cursor", "garbage"], "cursor"),
        (["sessions", "--limit", "201"], "limit"),
        (["frobnicate"], "frobnicate"),
        ([], "usage"),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(
    capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    Path(JSONL).parent.mkdir()
    Path(JSONL).touch()
    code, _, err = cli(capsys, *argv, *WHERE)
    assert code == 2 and names in err and "Traceback" not in err


def test_events_of_one_session_filtered(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "events", two[1], "--type", "tool_call", "--json", *WHERE)
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(e["type"], e["status"]) for e in events] == [("tool_call", "error")]
    code, out, _ = cli(capsys, "events", two[0], "--name", "plan", *WHERE)
    assert code == 0 and len(out.splitlines()) == 1 and "step plan" in out


def test_events_across_sessions_by_name_page_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    record([{"script": s} for s in ("uppu", "uuuuuuu", "puup", "p")])
    wanted = [e for e in _all_items() if e.get("name") == "search_kb"]
    got: list[str] = []
    cursor: list[str] = []
    while True:  # pages of 2 by name: every match exactly once, in timeline order
        code, out, err = cli(capsys, "events", "--name", "search_kb", "--limit", "2", "--json",
                             *cursor, *WHERE)  # fmt: skip
        assert code == 0 and len(out.splitlines()) <= 2
        got += [json.loads(line)["id"] for line in out.splitlines()]
        more = [line.split()[-1] for line in err.splitlines() if line.startswith("more:")]
        if not more:
            break
        cursor = ["--cursor", more[0]]
    assert got == [e["id"] for e in wanted] and len(got) == 5


def _all_items() -> list[dict[str, Any]]:
    with Client(jsonl=JSONL) as client:
        it = client.query.iterate_events(limit=1000)
        assert it.next_cursor is None
        return [i.model_dump(mode="json") for i in it.events]


def test_counts_per_session(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "counts", "--bucket", "session", "--type", "user", "--json", *WHERE)
    assert code == 0 and json.loads(out) == [{"bucket": two[0], "count": 2},
                                             {"bucket": two[1], "count": 2}]  # fmt: skip
    code, out, _ = cli(capsys, "counts", "--bucket", "day", "--name", "search_kb", *WHERE)
    assert code == 0 and out.splitlines()[-1].split() == ["total", "2"]


def test_markers_counts_user_turns_per_compaction(capsys: pytest.CaptureFixture[str]) -> None:
    record([{"script": "uucuuuc"}, {"script": "ucuu"}, {"script": "uu"}])
    code, out, _ = cli(capsys, "markers", "--json", *WHERE)
    stats = json.loads(out)
    assert code == 0 and [s["count"] for s in stats["distribution"]] == [2, 3, 1]
    assert stats["avg_per_marker"] == 2.0 and stats["trailing_events"] == 4
    code, out, _ = cli(capsys, "markers", *WHERE)
    assert "3 compaction markers" in out and "average 2.00 user per marker" in out


def test_context_around_an_event(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    items = [i for i in _all_items() if i["session_id"] == two[0]]
    target = next(i for i in items if i["type"] == "tool_call")
    code, out, _ = cli(capsys, "context", target["id"], "--before", "1", "--after", "1", *WHERE)
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"session {two[0]}" and len(lines) == 4
    assert "step plan" in lines[1] and lines[2].startswith("  > ") and "tool_call" in lines[2]
    assert "llm_call" in lines[3]
    code, out, _ = cli(capsys, "context", target["id"], "--json", *WHERE)
    assert json.loads(out)["target"]["id"] == target["id"]


def test_import_keeps_valid_records_and_names_bad_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ids = record([{"script": "up"}, {"script": "uc"}])
    source = Path(JSONL).read_text().splitlines()
    lines = [*source[:3], "{not json", '{"kind": "event", "id": "x"}', *source[3:]]
    Path("in.jsonl").write_text("\n".join(lines) + "\n")
    code, _, err = cli(capsys, "import", "in.jsonl", "--db", "other.db")
    assert code == 1
    assert "in.jsonl: line 4: not JSON" in err and "in.jsonl: line 5:" in err
    assert f"imported {len(source)} of {len(source) + 2} records" in err
    code, out, _ = cli(capsys, "sessions", "--json", "--db", "other.db")
    assert sorted(json.loads(line)["id"] for line in out.splitlines()) == sorted(ids)


def test_import_shows_progress(capsys: pytest.CaptureFixture[str]) -> None:
    record([{"script": "uuuuuuuuuu"} for _ in range(3)])
    total = len(Path(JSONL).read_text().splitlines())
    code, _, err = cli(capsys, "import", JSONL, "--db", "p.db", "--batch-size", "10",
                       "--progress")  # fmt: skip
    progress = [line for line in err.splitlines() if line.startswith("imported ") and "MB" in line]
    assert code == 0 and len(progress) == -(-total // 10)
    assert progress[-1].startswith(f"imported {total} records") and "(100%)" in progress[-1]


def test_import_of_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "import", "nope.jsonl")
    assert code == 2 and err == "agentlog: error: nope.jsonl: no such file\n"


def test_url_is_exclusive_with_db(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "sessions", "--url", "http://127.0.0.1:9", "--db", "x.db")
    assert code == 2 and "--url" in err and "--db" in err


def test_unreachable_postgres_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "sessions", "--db", "postgresql://postgres@127.0.0.1:9/test")
    assert code == 2 and err.startswith("agentlog: error: cannot connect to postgresql://")


def test_real_process_reads_what_the_sdk_recorded(two: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    run = [sys.executable, "-m", "agentlog.cli", *WHERE]
    ok = subprocess.run([*run, "sessions", "--user", "alice"], capture_output=True, text=True,
                        env=env, timeout=60)  # fmt: skip
    assert ok.returncode == 0 and two[0] in ok.stdout and two[1] not in ok.stdout
    bad = subprocess.run([*run, "context", "no-such-event"], capture_output=True, text=True,
                         env=env, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "agentlog: error: event 'no-such-event' not found\n"


class Lines:
    """A stdout for a command running in a thread: lines can be awaited with a deadline."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._buf = ""
        self._cond = threading.Condition()

    def write(self, text: str) -> int:
        with self._cond:
            self._buf += text
            *done, self._buf = self._buf.split("\n")
            self.lines += done
            self._cond.notify_all()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def wait_for(self, n: int, timeout: float = 30.0) -> list[str]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.lines) >= n, timeout), self.lines
            return list(self.lines)


def _tail_in_thread(
    monkeypatch: pytest.MonkeyPatch, *argv: str
) -> tuple[Lines, threading.Thread, list[int]]:
    out = Lines()
    monkeypatch.setattr(sys, "stdout", out)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(main(["tail", *argv])), daemon=True)
    thread.start()
    return out, thread, codes


def test_tail_follows_the_jsonl_as_the_sdk_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    record([{"script": "uuu"}])
    out, thread, codes = _tail_in_thread(monkeypatch, *WHERE, "-n", "2", "--max-events", "5",
                                         "--interval", "0.05", "--timeout", "60")  # fmt: skip
    assert [line.split()[-1] for line in out.wait_for(2)] == ["password?", "password?"]
    agentlog.init(path=JSONL)  # backlog printed: the tail has caught up, record more
    with agentlog.session("later"):
        agentlog.add_event(agentlog.TextEvent(text="first"))
        agentlog.track_decision("route", choice="billing", options=["billing", "tech"])
        agentlog.add_event(agentlog.TextEvent(text="third"))
    assert agentlog.flush(10.0)
    thread.join(30.0)
    assert codes == [0]
    new = out.wait_for(5)[2:]
    assert "text 'first'" in new[0] and "decision route choice='billing'" in new[1]
    assert "text 'third'" in new[2] and len(new) == 3


def test_tail_prints_late_arrivals_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with Client(db="t.db") as client:
        sid = client.sessions.create(user="u").id
        for i in range(3):
            client.sessions.add_event(sid, type="tick", data={"i": i},
                                      ts=f"2026-01-01T00:00:0{i + 5}.000000Z")  # fmt: skip
        out, thread, codes = _tail_in_thread(monkeypatch, "--db", "t.db", "-n", "1", "--json",
                                             "--max-events", "3", "--interval", "0.05",
                                             "--timeout", "60")  # fmt: skip
        assert json.loads(out.wait_for(1)[0])["data"] == {"i": 2}
        # Recorded now, stamped before everything seen: still printed, and only once.
        client.sessions.add_event(sid, type="tick", data={"i": -1},
                                  ts="2026-01-01T00:00:01.000000Z")  # fmt: skip
        client.sessions.add_event(sid, type="tick", data={"i": 3},
                                  ts="2026-01-01T00:00:09.000000Z")  # fmt: skip
        thread.join(30.0)
    assert codes == [0]
    assert [json.loads(line)["data"]["i"] for line in out.wait_for(3)] == [2, -1, 3]


def test_tail_stops_at_its_timeout(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, out, _ = cli(capsys, "tail", "--session", two[0], "-n", "1", "--timeout", "0.2",
                       "--interval", "0.05", *WHERE)  # fmt: skip
    assert code == 0 and len(out.splitlines()) == 1 and "compaction" in out


def test_tail_of_an_unknown_session(capsys: pytest.CaptureFixture[str], two: list[str]) -> None:
    code, _, err = cli(capsys, "tail", "--session", "nope", "--timeout", "1", *WHERE)
    assert code == 2 and "session 'nope' not found" in err


def _has_collector() -> bool:
    import importlib.util
    import inspect

    try:
        found = importlib.util.find_spec("agentlog.collector._cli") is not None
    except ModuleNotFoundError:
        found = False
    return found and "base_url" in inspect.signature(Client).parameters


@pytest.fixture
def collector(tmp_path: Path) -> Any:
    """``agentlog serve`` (the collector's command, reached through this CLI) in a subprocess."""
    if not _has_collector():
        pytest.skip("the collector (agentlog serve, Client(base_url=...)) is not installed")
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    env["AGENTLOG_API_KEYS"] = "cli-test-key-1:team"
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "agentlog.cli", "serve", "--db",
                                 str(tmp_path / "collector.db"), "--port", str(port)],
                                env=env, stdout=log, stderr=log)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    ready = threading.Event()
    for _ in range(400):
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        ready.wait(0.05)
    yield url
    proc.terminate()
    proc.wait(10.0)


def test_reads_and_imports_through_a_collector(
    capsys: pytest.CaptureFixture[str], collector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = record([{"user": "alice", "script": "upuc"}, {"user": "bob", "script": "uucuu"}])
    remote = ["--url", collector, "--api-key", "cli-test-key-1"]
    code, _, err = cli(capsys, "import", JSONL, *remote)
    assert code == 0 and "imported" in err
    monkeypatch.setenv("AGENTLOG_API_KEY", "cli-test-key-1")  # the key from the environment
    code, out, _ = cli(capsys, "sessions", "--url", collector, "--json")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ids[::-1]
    code, out, _ = cli(capsys, "timeline", ids[0], "--url", collector)
    assert code == 0 and "✓ tool_call search_kb" in out
    code, out, _ = cli(capsys, "markers", "--json", "--url", collector)
    assert code == 0 and json.loads(out)["avg_per_marker"] == 2.0
    code, _, err = cli(capsys, "timeline", "nope", "--url", collector)
    assert code == 2 and "session 'nope' not found" in err


def test_a_wrong_api_key_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], collector: str
) -> None:
    code, out, err = cli(capsys, "sessions", "--url", collector, "--api-key", "wrong-key-123")
    assert (code, out) == (2, "") and "401" in err and "Traceback" not in err


def test_tail_stops_on_ctrl_c(two: list[str]) -> None:
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    env["PYTHONFAULTHANDLER"] = "1"  # a SIGABRT prints every thread's stack
    # As from a terminal: SIGINT handled. A suite run as a background job of a shell without
    # job control inherits SIGINT ignored, and Python then leaves it ignored in the child.
    run = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
        " sys.argv[0] = 'agentlog'; runpy.run_module('agentlog.cli', run_name='__main__')"
    )
    proc = subprocess.Popen([sys.executable, "-c", run, "tail", "-n", "1", *WHERE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        assert b"user: my password?" in proc.stdout.readline()  # the backlog: following now
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # Still running: where it hangs is what to fix, so the failure shows it.
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"tail did not stop on Ctrl-C; its threads:\n{err.decode()}")
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 0 and err == b""


class _Terminal(Lines):
    def isatty(self) -> bool:
        return True


def test_colour_follows_the_terminal_and_no_color(
    monkeypatch: pytest.MonkeyPatch, two: list[str]
) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stdout", term)
    assert main(["timeline", two[1], *WHERE]) == 0
    assert any("\033[31m✗" in line for line in term.lines)
    monkeypatch.setenv("NO_COLOR", "1")
    term.lines.clear()
    assert main(["timeline", two[1], *WHERE]) == 0
    assert term.lines and not any("\033[" in line for line in term.lines)


def test_events_of_a_session_newest_first_across_pages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (sid,) = record([{"script": "ppp"}])
    code, out, err = cli(capsys, "events", sid, "--type", "step", "--newest-first", "--limit",
                         "1", "--all", "--json", *WHERE)  # fmt: skip
    stamps = [json.loads(line)["ts"] for line in out.splitlines()]
    assert code == 0 and len(stamps) == 3 and stamps == sorted(stamps, reverse=True)
    assert "more:" not in err
    code, _, err = cli(capsys, "events", "--newest-first", *WHERE)
    assert code == 2 and "SESSION" in err


def test_timeline_shows_message_text_of_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    agentlog.init(path=JSONL)
    with agentlog.session("formats") as s:
        agentlog.store_message({"role": "user", "content": [{"type": "text", "text": "hi"}]})
        agentlog.store_message({"role": "assistant", "content": [
            {"type": "text", "text": "let me look"},
            {"type": "tool_use", "id": "t1", "name": "search_kb", "input": {}},
        ]}, format="anthropic")  # fmt: skip
        agentlog.store_message({"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
        ]})  # fmt: skip
        agentlog.store_message("just text", format="raw")
    assert agentlog.flush(10.0)
    code, out, _ = cli(capsys, "timeline", s.id, *WHERE)
    lines = out.splitlines()
    assert lines[2] == "  turns=2 tokens=0 in, 0 out, tool_calls=0 errors=0"  # raw text: user
    texts = [line[: -len(" [") - 37].split(": ", 1)[1] for line in lines[3:]]
    assert code == 0 and texts == [
        "hi", "let me look [tool_use search_kb]", "[tool_calls lookup]", "just text",
    ]  # fmt: skip


def _without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where importing ``module`` fails, as when the extra
    that provides it is not installed."""
    prelude = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip


@pytest.mark.parametrize("argv", [["serve", "--port", "9"], ["keys", "create", "--project", "p"],
                                  ["serve", "--help"]])  # fmt: skip
def test_collector_commands_without_the_server_extra_name_it(argv: list[str]) -> None:
    done = _without("fastapi", f"from agentlog.cli import main; sys.exit(main({argv!r}))")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"agentlog: error: agentlog {argv[0]} needs the collector "
                                   "(missing module 'fastapi'): pip install 'agentlog[server]' "
                                   "(from a checkout: pip install '.[server]')")  # fmt: skip


def test_help_without_the_server_extra_lists_what_to_install() -> None:
    done = _without("fastapi", "from agentlog.cli import main; sys.exit(main(['--help']))")
    assert done.returncode == 0
    assert "serve" in done.stdout and "agentlog[server]" in done.stdout


def test_postgres_db_without_psycopg_names_the_extra() -> None:
    done = _without("psycopg", "from agentlog.cli import main; "
                    "sys.exit(main(['sessions', '--db', 'postgresql://u@127.0.0.1:1/x']))")  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pip install 'agentlog[postgres]' (from a checkout: pip install '.[postgres]')" in (
        done.stderr
    )
