"""examples/anthropic_agent.py runs end to end against its own local fake server."""

from __future__ import annotations

from pathlib import Path

from agentlog_testsupport import run_example


def test_example_runs_without_a_key(tmp_path: Path) -> None:
    done = run_example("anthropic_agent.py", cwd=tmp_path, env_key="ANTHROPIC_API_KEY")
    assert done.returncode == 0, done.stderr
    assert "agent: It is 18°C with light rain in Paris." in done.stdout
    timeline = done.stdout.split("session ", 1)[1]
    assert "status=success" in timeline
    assert timeline.count("llm_call anthropic.messages.stream") == 2
    assert timeline.count("tool_call get_weather") == 1
