from __future__ import annotations

import agentlog


def test_jsonl_timelines_renders_each_session_from_the_file(tmp_path: object) -> None:
    from pathlib import Path

    from agentlog._timeline import jsonl_timelines

    path = Path(str(tmp_path)) / "events.jsonl"
    agentlog.init(path=str(path))
    with agentlog.session("one", id="s-one"):
        agentlog.track_tool_call("search_kb")
    with agentlog.session("two", id="s-two"):
        agentlog.track_error("boom")
    assert agentlog.flush()
    both = jsonl_timelines(path)
    assert "s-one" in both and "s-two" in both and "search_kb" in both
    only = jsonl_timelines(path, "s-two")
    assert "s-one" not in only and "boom" in only
