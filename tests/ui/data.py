"""Generated sessions for the UI's browser tests, screenshots and benchmark.

Deterministic: session ``i`` starts ``i`` minutes before ``now`` (newest first), with a user
and configs from small cycles, a root span holding a tool call and an LLM call, messages, and
every seventh session an error with a stack trace. The newest session carries the XSS payloads
in every recorded field the UI shows, and has a child session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from agentlog._ids import format_ts, format_uuid, new_id

__all__ = ["IMG", "SCRIPT", "Generated", "generate", "iso", "session_records", "uid"]

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('xss')</script>"
USERS = ("alice", "bob", "carol", "dave", "erin")


def iso(t: datetime) -> str:
    return format_ts(int(t.timestamp() * 1e9))


def uid(t: datetime, salt: int = 0) -> str:
    return format_uuid(new_id(int(t.timestamp() * 1e9) + salt))


@dataclass
class Generated:
    records: list[dict[str, Any]] = field(default_factory=list)
    xss_session: str = ""
    child_session: str = ""
    error_event: str = ""
    span_event: str = ""


def session_records(
    i: int, start: datetime, *, name: str | None = None, user: str | None = None,
    configs: dict[str, Any] | None = None, parent: str | None = None, running: bool = False,
    tool_output: Any = None, response: str | None = None, error: bool | None = None,
) -> tuple[str, list[dict[str, Any]], dict[str, str]]:  # fmt: skip
    """One session's records; returns its id, the records and the ids of its root span and
    error event (when it has one)."""
    sid = uid(start, i)
    err = (i % 7 == 3) if error is None else error
    t = start
    ms = timedelta(milliseconds=1)
    root = uid(t, 1)
    tool = uid(t + 20 * ms, 2)
    llm = uid(t + 200 * ms, 3)
    recs: list[dict[str, Any]] = [{
        "v": 1, "kind": "session", "id": sid, "name": name or f"Support ticket {i}",
        "user": user or USERS[i % len(USERS)],
        "configs": configs if configs is not None else
        {"agent": f"bot{i % 4}", "env": "prod" if i % 2 else "staging", "version": i % 3},
        "status": "running", "started_at": iso(t), "parent_session_id": parent,
    }, {
        "v": 1, "kind": "message", "id": uid(t + 5 * ms, 4), "session_id": sid,
        "ts": iso(t + 5 * ms), "role": "user", "format": "openai",
        "blob": {"role": "user", "content": f"Question number {i}: how do I reset my password?"},
    }, {
        "v": 1, "kind": "event", "id": tool, "session_id": sid, "parent_id": root,
        "type": "tool_call", "name": "search_kb", "ts": iso(t + 20 * ms),
        "end_ts": iso(t + 150 * ms), "duration_ms": 130.0, "status": "ok",
        "data": {"input": {"query": "reset password"},
                 "output": tool_output if tool_output is not None else ["Use the reset link."]},
    }, {
        "v": 1, "kind": "event", "id": llm, "session_id": sid, "parent_id": root,
        "type": "llm_call", "name": "answer", "ts": iso(t + 200 * ms),
        "end_ts": iso(t + 1400 * ms), "duration_ms": 1200.0, "status": "ok",
        "data": {"provider": "openai", "request_model": "gpt-4o", "model": "gpt-4o-2024-08-06",
                 "messages": [{"role": "system", "content": "You are helpful."},
                              {"role": "user", "content": "How do I reset my password?"}],
                 "response": response if response is not None else "Click 'Forgot password'.",
                 "tool_calls": [{"id": "call_1", "name": "search_kb",
                                 "arguments": {"query": "reset"}}],
                 "usage": {"input_tokens": 120 + i, "output_tokens": 40, "total_tokens": 160 + i},
                 "stream": True, "time_to_first_token_ms": 310.5},
    }, {
        "v": 1, "kind": "message", "id": uid(t + 1500 * ms, 5), "session_id": sid,
        "ts": iso(t + 1500 * ms), "role": "assistant", "format": "openai",
        "blob": {"role": "assistant", "content": response or "Click 'Forgot password'."},
    }]  # fmt: skip
    ids = {"root": root}
    end = t + 1800 * ms
    if err:
        eid = uid(t + 1600 * ms, 6)
        ids["error"] = eid
        recs.append({"v": 1, "kind": "event", "id": eid, "session_id": sid, "parent_id": root,
                     "type": "error", "name": "ValueError", "ts": iso(t + 1600 * ms),
                     "status": "error", "data": {},
                     "error": {"type": "ValueError", "message": f"ticket {i} has no account",
                               "stacktrace": "Traceback (most recent call last):\n  File "
                               f"\"agent.py\", line {40 + i}, in handle\nValueError: "
                               f"ticket {i} has no account"}})  # fmt: skip
    recs.append({"v": 1, "kind": "event", "id": root, "session_id": sid, "parent_id": None,
                 "type": "step", "name": "handle ticket", "ts": iso(t), "end_ts": iso(end),
                 "duration_ms": 1800.0, "status": "error" if err else "ok", "data": {}})  # fmt: skip
    if not running:
        recs.append({"v": 1, "kind": "session", "id": sid, "status": "error" if err else "success",
                     "ended_at": iso(end), "summary": f"Handled ticket {i}"})  # fmt: skip
    return sid, recs, ids


def generate(n: int = 500, now: datetime | None = None) -> Generated:
    now = now or datetime.now(timezone.utc)
    out = Generated()
    for i in range(n):
        start = now - timedelta(minutes=i + 1)
        if i == 0:
            sid, recs, ids = session_records(
                i, start, name=f"XSS {IMG} {SCRIPT}", user="mallory",
                configs={"agent": SCRIPT, "note": IMG}, tool_output={"html": SCRIPT, "img": IMG},
                response=f"Sure! {IMG} {SCRIPT}", error=True,
            )  # fmt: skip
            out.xss_session = sid
            out.error_event = ids["error"]
            out.span_event = ids["root"]
        else:
            sid, recs, ids = session_records(i, start)
        out.records.extend(recs)
    child_start = now - timedelta(seconds=30)
    child, recs, _ = session_records(n, child_start, name="Child: escalate", user="mallory",
                                     parent=out.xss_session, error=False)  # fmt: skip
    out.child_session = child
    out.records.extend(recs)
    return out
