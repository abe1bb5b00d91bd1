"""Render a session's timeline as indented text: spans nested by ``parent_id``.

``format_item`` is the one-line form of an event or message that every listing shares (the
timeline, ``agentlog events``, ``context`` and ``tail``), so they all read the same.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from ._jsonl import merge_session, read_jsonl

__all__ = [
    "format_item",
    "jsonl_timelines",
    "message_text",
    "palette",
    "render_timeline",
    "took",
]

_COLORS = {
    "error": "\033[31m",
    "ok": "\033[32m",
    "warn": "\033[33m",
    "type": "\033[36m",
    "bold": "\033[1m",
    "dim": "\033[2m",
    "end": "\033[0m",
}
_PREVIEW = 80
_BUILTIN = {"llm_call", "decision", "text", "disk", "tool_call", "error", "step"}


def palette(color: bool) -> dict[str, str]:
    return _COLORS if color else dict.fromkeys(_COLORS, "")


def _fmt_duration(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return ""
    return f" {ms / 1000:.2f}s" if ms >= 1000 else f" {ms:.2f}ms"


def _short(text: str, width: int = _PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def message_text(blob: Any) -> str:
    """The readable text of a message blob in any of the formats (OpenAI, Anthropic, raw)."""
    if isinstance(blob, str):
        return blob
    if not isinstance(blob, dict):
        return "" if blob is None else str(blob)
    content = blob.get("content")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            if isinstance(text, str):
                parts.append(text)
            elif part.get("type") in ("tool_use", "tool_result"):
                parts.append(f"[{part['type']} {part.get('name') or part.get('tool_use_id', '')}]")
    if not parts and blob.get("tool_calls"):
        names = [
            (c.get("function") or {}).get("name") for c in blob["tool_calls"] if isinstance(c, dict)
        ]
        parts.append(f"[tool_calls {', '.join(str(n) for n in names)}]")
    return " ".join(parts)


def _tokens(usage: Any) -> str:
    if not isinstance(usage, dict):
        return ""
    i, o, t = usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens")
    if i is not None or o is not None:
        total = t if t is not None else (i or 0) + (o or 0)
        return f" tokens={total} ({i or 0} in, {o or 0} out)"
    return "" if t is None else f" tokens={t}"


def _requested(calls: Any) -> str:
    """The tool calls a model asked for: ``search(query="x"), lookup(...)``."""
    if not isinstance(calls, list) or not calls:
        return ""
    shown = []
    for call in calls:
        if isinstance(call, dict):
            args = call.get("arguments")
            text = "" if args in (None, {}, "") else _compact(args, 40)
            shown.append(f"{call.get('name')}({text})")
    return f" tool_calls=[{_short(', '.join(shown), 100)}]" if shown else ""


def _llm(data: dict[str, Any]) -> str:
    line = f" model={data.get('model') or data.get('request_model') or ''}"
    line += _tokens(data.get("usage"))
    if data.get("stream"):
        line += " streamed"
        ttft = data.get("time_to_first_token_ms")
        if isinstance(ttft, (int, float)):
            line += f" ttft={_fmt_duration(ttft).strip()}"
    return line + _requested(data.get("tool_calls"))


def _cost(cost: Any) -> str:
    if not isinstance(cost, dict):
        return ""
    total = cost.get("total_usd")
    return " cost=unpriced" if total is None else f" cost=${total}"


def _detail(ev: dict[str, Any]) -> str:
    data = ev.get("data") or {}
    typ = ev.get("type")
    if typ == "llm_call":
        return _llm(data) + _cost(data.get("cost"))
    if typ == "decision":
        reasoning = data.get("reasoning")
        why = f" reasoning={_short(str(reasoning), 60)!r}" if reasoning else ""
        return f" choice={data.get('choice')!r}{why}"
    if typ == "text":
        return f" {_short(str(data.get('text')))!r}"
    if typ == "disk":
        return f" {data.get('disk_id')}:{data.get('path')}"
    if typ == "tool_call":
        return f" input={_compact(data.get('input'))}" if "input" in data else ""
    if typ in _BUILTIN or not data:
        return ""
    return f" {_compact(data)}"


def _compact(value: Any, width: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:
        text = repr(value)
    return _short(text, width)


Short = Callable[[str], str]


def format_item(
    rec: dict[str, Any], *, color: bool = False, session: bool | Short = False,
    ids: bool = False,
) -> str:  # fmt: skip
    """One event or message (a record or a store model dumped to a dict) on one line;
    ``session`` adds the session id's start (or what the function it is makes of the id),
    ``ids`` the item's id at the end."""
    c = palette(color)
    line = _format_item(rec, c, session)
    return f"{line} {c['dim']}[{rec.get('id')}]{c['end']}" if ids else line


def _format_item(rec: dict[str, Any], c: dict[str, str], session: bool | Short) -> str:
    ts = (rec.get("ts") or "")[11:23]
    sid = ""
    if session:
        raw = rec.get("session_id")
        shown = "-" if not raw else session(str(raw)) if callable(session) else str(raw)[:13]
        sid = f"{shown} "
    if rec.get("kind") == "message":
        text = _short(message_text(rec.get("blob")))
        return f"{c['dim']}{ts}{c['end']} {sid}{c['bold']}{rec.get('role')}{c['end']}: {text}"
    failed = rec.get("status") == "error"
    mark = f"{c['error']}✗{c['end']}" if failed else f"{c['ok']}✓{c['end']}"
    partial = f" {c['warn']}(partial){c['end']}" if rec.get("partial") else ""
    name = f" {rec['name']}" if rec.get("name") else ""
    line = (
        f"{c['dim']}{ts}{c['end']} {sid}{mark} {c['type']}{rec.get('type')}{c['end']}"
        f"{name}{_fmt_duration(rec.get('duration_ms'))}{_detail(rec)}{partial}"
    )
    err = rec.get("error")
    if isinstance(err, dict):
        line += f" {c['error']}{err.get('type')}: {err.get('message')}{c['end']}"
    return line


def took(start: Any, end: Any) -> str:
    """``12.3s`` / ``4.5m`` / ``2.0h`` between two RFC 3339 times; empty when one is missing."""
    if not isinstance(start, str) or not isinstance(end, str):
        return ""
    try:
        secs = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()  # fmt: skip
    except ValueError:
        return ""
    if secs < 120:
        return f"{secs:.1f}s"
    return f"{secs / 60:.1f}m" if secs < 7200 else f"{secs / 3600:.1f}h"


def _header(session: dict[str, Any], c: dict[str, str]) -> list[str]:
    status = session.get("status")
    tint = c["error"] if status in ("error", "timeout") else c["ok"] if status == "success" else ""
    lines = [
        f"{c['bold']}session {session.get('id')}{c['end']} {session.get('name') or ''} "
        f"user={session.get('user') or '-'} status={tint}{status}{c['end']}"
    ]
    span = f"  started {session.get('started_at')}"
    if session.get("ended_at"):
        span += f", ended {session.get('ended_at')}"
        duration = took(session.get("started_at"), session.get("ended_at"))
        span += f" (took {duration})" if duration else ""
    lines.append(span)
    if session.get("parent_session_id"):
        lines.append(f"  parent session {session['parent_session_id']}")
    for child in session.get("children") or []:
        user = child.get("user") or "-"
        lines.append(f"  child session {child.get('id')} {child.get('name') or ''} "
                     f"user={user} status={child.get('status')}")  # fmt: skip
    rollup = session.get("rollup") or {}
    if rollup.get("updated_at"):
        lines.append(
            f"  turns={rollup.get('turns')} tokens={rollup.get('tokens_in')} in, "
            f"{rollup.get('tokens_out')} out, tool_calls={rollup.get('tool_calls')} "
            f"errors={rollup.get('errors')}"
        )
    if Decimal(str(rollup.get("cost_usd") or 0)) or rollup.get("unpriced_calls"):
        unpriced = rollup.get("unpriced_calls") or 0
        lines.append(f"  cost ${rollup.get('cost_usd')}"
                     + (f" ({unpriced} unpriced call{'s' * (unpriced != 1)})" if unpriced else ""))  # fmt: skip
    if session.get("tags"):
        lines.append(f"  tags {', '.join(session['tags'])}")
    if session.get("scores"):
        lines.append("  scores " + ", ".join(f"{k}={v}" for k, v in session["scores"].items()))
    if session.get("configs"):
        lines.append(f"  configs {json.dumps(session['configs'], ensure_ascii=False)}")
    if session.get("summary"):
        lines.append(f"  summary {session['summary']}")
    return lines


def render_timeline(
    session: dict[str, Any] | None,
    items: Iterable[dict[str, Any]],
    *,
    color: bool = False,
    ids: bool = False,
) -> str:
    """``items`` are event and message records of one session, in any order."""
    c = palette(color)
    records = sorted(items, key=lambda r: (r.get("ts") or "", r.get("id") or ""))
    children: dict[str | None, list[dict[str, Any]]] = {}
    event_ids = {r.get("id") for r in records if r.get("kind") == "event"}
    for rec in records:
        parent = rec.get("parent_id") if rec.get("kind") == "event" else None
        children.setdefault(parent if parent in event_ids else None, []).append(rec)
    lines = _header(session, c) if session is not None else []

    def walk(parent: str | None, depth: int) -> None:
        for rec in children.get(parent, []):
            lines.append("  " * (depth + 1) + format_item(rec, color=color, ids=ids))
            if rec.get("kind") == "event":
                walk(rec.get("id"), depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def jsonl_timelines(
    path: str | os.PathLike[str], session_id: str | None = None, *, color: bool = False
) -> str:
    """Every session's timeline (or one's) straight from a JSONL file, for examples and demos."""
    records = read_jsonl(path).records
    sessions: dict[str, dict[str, Any]] = {}
    for rec in records:
        if rec.get("kind") == "session" and session_id in (None, rec.get("id")):
            sessions[rec["id"]] = merge_session(sessions.get(rec["id"]), rec)
    return "\n\n".join(
        render_timeline(
            session,
            [r for r in records if r.get("kind") != "session" and r.get("session_id") == sid],
            color=color,
        )
        for sid, session in sessions.items()
    )
