"""examples/anthropic_agent.py runs end to end against its own local fake server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "anthropic_agent.py"


def test_example_runs_without_a_key(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "ANTHROPIC_API_KEY" and not k.startswith("AGENTLOG_")
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "agent: It is 18°C with light rain in Paris." in done.stdout
    timeline = done.stdout.split("session ", 1)[1]
    assert "status=success" in timeline
    assert timeline.count("llm_call anthropic.messages.stream") == 2
    assert timeline.count("tool_call get_weather") == 1
