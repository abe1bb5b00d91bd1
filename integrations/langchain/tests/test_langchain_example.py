"""examples/langchain_agent.py runs end to end, offline, as a user would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "langchain_agent.py"


def test_example_runs_against_the_local_fake_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AGENTLOG_", "LANGCHAIN_", "LANGSMITH_"))}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "agent answered: It is sunny, 21 C (69.8 F) right now." in done.stdout
    timeline = done.stdout
    assert re.search(r"✓ agent weather_agent", timeline)
    assert len(re.findall(r"✓ llm_call ChatOpenAI .* model=gpt-4o-mini tokens=\d+", timeline)) == 3
    assert "✓ tool_call get_weather" in timeline
    assert "✓ tool_call celsius_to_fahrenheit" in timeline

    # The JSONL file it wrote where agentlog reads by default: every model call exactly once,
    # all in one session.
    path = tmp_path / ".agentlog" / "events.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    events = [r for r in records if r["kind"] == "event"]
    assert len([e for e in events if e["type"] == "llm_call"]) == 3
    assert len({e["session_id"] for e in events}) == 1
    assert all(e["data"]["time_to_first_token_ms"] is not None
               for e in events if e["type"] == "llm_call")  # fmt: skip
