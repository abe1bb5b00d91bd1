"""The reading commands on what a new user records first: timeline details, counts by outcome,
markers, id prefixes and the short ids the CLI prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import agentlog

from .test_cli import JSONL, WHERE, cli, record

Capsys = pytest.CaptureFixture[str]


@agentlog.decision
def route(ticket: str, options: tuple[str, ...] = ("billing", "account")) -> dict[str, object]:
    return {"choice": "account", "reasoning": "the ticket mentions a password"}


def _agent() -> tuple[str, str]:
    """A parent session (no user) with a streamed LLM call asking for a tool and a decision,
    and one child session."""
    agentlog.init(path=JSONL)
    with agentlog.session("parent") as parent:
        agentlog.track_llm_call(model="gpt-4o", stream=True, time_to_first_token_ms=120.0,
                                usage={"input_tokens": 5, "output_tokens": 2},
                                tool_calls=[{"id": "c1", "name": "search",
                                             "arguments": {"query": "reset"}}])  # fmt: skip
        route("password")
        with agentlog.session("child", user="bob") as child:
            agentlog.track_tool_call("search", input={"query": "reset"}, output=["kb1"])
    assert agentlog.flush(10.0)
    return parent.id, child.id


def test_timeline_shows_what_happened(capsys: Capsys) -> None:
    parent, child = _agent()
    code, out, _ = cli(capsys, "timeline", parent, *WHERE)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"session {parent} parent user=- status=success")
    assert re.search(r"ended \S+ \(took \d+\.\ds\)$", lines[1])
    assert any(f"child session {child} child user=bob status=success" in x for x in lines)
    llm = next(x for x in lines if "llm_call" in x)
    assert "streamed ttft=120.00ms" in llm and 'tool_calls=[search({"query":"reset"})]' in llm
    decision = next(x for x in lines if "decision" in x)
    assert (
        "choice='account'" in decision and "reasoning='the ticket mentions a password'" in decision
    )
    code, out, _ = cli(capsys, "timeline", child, *WHERE)
    assert code == 0 and f"parent session {parent}" in out
    code, out, _ = cli(capsys, "timeline", parent, "--json", *WHERE)
    assert [c["id"] for c in json.loads(out)["session"]["children"]] == [child]


def test_counts_status_error_counts_failed_spans(capsys: Capsys) -> None:
    ids = record([{"script": "pf"}, {"script": "f"}])  # each f: a failed tool call
    code, out, _ = cli(capsys, "counts", "--status", "error", "--bucket", "session", "--json",
                       *WHERE)  # fmt: skip
    counts = {r["bucket"]: r["count"] for r in json.loads(out)}
    assert code == 0 and counts == {ids[0]: 1, ids[1]: 1}
    # --type error keeps meaning the event type: nothing recorded an error event.
    code, out, _ = cli(capsys, "counts", "--type", "error", "--json", *WHERE)
    assert code == 0 and json.loads(out) == []
    code, out, _ = cli(capsys, "counts", "--help")
    assert "--status" in out and "for every failure use --status" in " ".join(out.split())


def test_markers_never_put_markerless_sessions_after_a_marker(capsys: Capsys) -> None:
    record([{"script": "ucu"}, {"script": "uuu"}])  # the second session has no marker
    code, out, _ = cli(capsys, "markers", *WHERE)
    assert code == 0 and "after the last marker of their session" not in out
    assert "4 user items before no marker" in out and "in a session without one" in out


def test_import_twice_says_what_was_already_there(capsys: Capsys) -> None:
    record([{"script": "upuc"}])
    total = len(Path(JSONL).read_text().splitlines())
    code, _, err = cli(capsys, "import", JSONL, "--db", "i.db")
    assert code == 0 and f": {total} new, 0 already present" in err
    code, _, err = cli(capsys, "import", JSONL, "--db", "i.db")
    assert code == 0 and f"imported {total} of {total} records" in err
    assert f": 0 new, {total} already present" in err


def test_id_prefixes_on_the_command_line(capsys: Capsys) -> None:
    ids = record([{"user": "alice", "script": "up"}])
    code, out, _ = cli(capsys, "timeline", ids[0][:8], *WHERE)
    assert code == 0 and out.startswith(f"session {ids[0]}")
    item_ids = re.findall(r"\[([0-9a-f-]{36})\]", out)
    event_id = item_ids[1]
    # Ids of one batch differ in their last digits: the shortest prefix no other id shares.
    width = next(n for n in range(8, 37)
                 if not any(i.startswith(event_id[:n]) for i in item_ids if i != event_id))  # fmt: skip
    code, out, err = cli(capsys, "context", event_id[:width], "--json", *WHERE)
    assert code == 0 and json.loads(out)["target"]["id"] == event_id, err
    code, out, _ = cli(capsys, "events", ids[0][:9], "--json", *WHERE)
    assert code == 0 and {json.loads(x)["session_id"] for x in out.splitlines()} == {ids[0]}


def test_an_ambiguous_prefix_lists_the_matches(capsys: Capsys) -> None:
    agentlog.init(path=JSONL)
    for sid in ("0190aaaa-bbbb-7000-8000-000000000001", "0190aaaa-bbbb-7000-8000-000000000002"):
        with agentlog.session("s", id=sid):
            agentlog.add_event(agentlog.TextEvent(text=sid))
    assert agentlog.flush(10.0)
    code, out, err = cli(capsys, "timeline", "0190aaaa-bbbb", *WHERE)
    assert (code, out) == (2, "") and "ambiguous" in err
    assert "0190aaaa-bbbb-7000-8000-000000000001" in err and "000000000002" in err
    # The short ids printed across sessions are unique prefixes: here, longer than usual.
    code, out, _ = cli(capsys, "events", *WHERE)
    shown = {line.split()[1] for line in out.splitlines()}
    assert code == 0 and shown == {"0190aaaa-bbbb-7000-8000-000000000001",
                                   "0190aaaa-bbbb-7000-8000-000000000002"}  # fmt: skip
    for short in shown:
        code, out, _ = cli(capsys, "timeline", short, *WHERE)
        assert code == 0


def test_short_session_ids_are_prefixes_that_resolve(capsys: Capsys) -> None:
    ids = record([{"script": "u"}, {"script": "u"}])
    code, out, _ = cli(capsys, "events", *WHERE)
    shown = [line.split()[1] for line in out.splitlines()]
    # 13 characters, more when two sessions started in the same millisecond
    assert code == 0 and all(len(s) >= 13 for s in shown)
    for short, full in zip(shown, ids, strict=True):
        assert full.startswith(short)
        code, out, _ = cli(capsys, "timeline", short, *WHERE)
        assert code == 0 and out.startswith(f"session {full}")


def test_tail_follows_a_session_given_by_prefix(capsys: Capsys) -> None:
    ids = record([{"script": "ua"}])
    code, out, _ = cli(capsys, "tail", "--session", ids[0][:8], "-n", "5", "--max-events", "2",
                       "--json", *WHERE)  # fmt: skip
    assert code == 0 and [json.loads(x)["session_id"] for x in out.splitlines()] == ids * 2
