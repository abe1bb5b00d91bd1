"""docs/testing.md stays true: its example passes under pytest, and the failure message it
shows is the one a real failure prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


def _pytest(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTLOG_", "PYTEST_"))}
    # Its own pytest.ini: warnings are errors there too, and no plugin of this repository's
    # configuration (e.g. asyncio's) is in the way.
    (path.parent / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:asyncio", str(path)], capture_output=True, text=True,
                          cwd=path.parent, env=env, timeout=120)  # fmt: skip


def _shape(text: str) -> list[str]:
    """Lines with ids, times and durations (which differ from run to run) blanked out."""
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "ID", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "TIME", text)
    text = re.sub(r"\d\d:\d\d:\d\d\.\d{3}", "HH", text)
    return [re.sub(r"\d+\.\d+(ms|s)", "D", line).rstrip() for line in text.splitlines()]


def test_the_worked_example_passes_and_a_failure_reports_the_timeline(tmp_path: Path) -> None:
    (example,) = _blocks("python")
    path = tmp_path / "test_example.py"
    path.write_text(
        example
        + """

def test_plain_assert(agentlog_capture):
    run_agent("I forgot my password")
    assert agentlog_capture.tool_calls("send_email")
"""
    )
    done = _pytest(path)
    out = done.stdout
    assert done.returncode == 1 and "1 failed, 2 passed" in out, out + done.stderr
    # A plain assert in a test with the fixture: the report carries the timeline.
    assert "agentlog: captured timeline" in out and "tool_call search_kb" in out


def test_the_failure_message_is_the_documented_one() -> None:
    (example,) = _blocks("python")
    (shown,) = _blocks("text")
    scope: dict[str, Any] = {"__name__": "docs_testing_example"}
    exec(compile(example, str(DOC), "exec"), scope)
    with scope["capture"]() as cap:
        scope["run_agent"]("I forgot my password")
    with pytest.raises(AssertionError) as failed:
        cap.assert_tool_call("send_email")
    assert _shape(str(failed.value)) == _shape(shown.rstrip("\n"))
