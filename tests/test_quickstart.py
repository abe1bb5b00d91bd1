"""``make demo`` (examples/quickstart.py): it records where ``agentlog`` reads by default, the
command it prints shows its session, it leaves nothing behind outside ./.agentlog, and it uses
only the public API."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def _run(argv: list[str], cwd: Path, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_printed_commands_show_the_demo_session(tmp_path: Path) -> None:
    work, temp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temp.mkdir()
    done = _run([sys.executable, str(QUICKSTART)], work, temp)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in work.iterdir()) == [".agentlog"]
    assert (work / ".agentlog" / "events.jsonl").is_file()
    assert list(temp.iterdir()) == []  # no temporary directory per run
    found = re.search(r"^  (\S+) timeline (\S+)   #", done.stdout, flags=re.M)
    assert found is not None, done.stdout
    command, session_id = found.groups()
    assert Path(command).name == "agentlog" and Path(command).is_file()
    shown = _run([command, "timeline", session_id], work)
    assert shown.returncode == 0 and shown.stdout.startswith(f"session {session_id} Support")
    assert "✗ tool_call send_email" in shown.stdout
    listed = _run([command, "sessions"], work)
    assert listed.returncode == 0 and session_id in listed.stdout
    assert f"  {command} sessions   #" in done.stdout


def test_the_quickstart_uses_only_the_public_api() -> None:
    tree = ast.parse(QUICKSTART.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    agentlog_modules = {m for m in modules if m and m.split(".")[0] == "agentlog"}
    assert agentlog_modules == {"agentlog"}
    private = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
               and isinstance(n.value, ast.Name) and n.value.id == "agentlog"
               and n.attr.startswith("_")}  # fmt: skip
    assert private == set()
