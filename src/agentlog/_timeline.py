"""Render a session's timeline as indented text: spans nested by ``parent_id``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["render_timeline"]

_COLORS = {"error": "\033[31m", "ok": "\033[32m", "dim": "\033[2m", "end": "\033[0m"}


def _fmt_duration(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return ""
    return f" {ms / 1000:.2f}s" if ms >= 1000 else f" {ms:.2f}ms"


def _detail(ev: dict[str, Any]) -> str:
    data = ev.get("data") or {}
    if ev.get("type") == "llm_call":
        usage = data.get("usage") or {}
        tokens = usage.get("total_tokens")
        model = data.get("model") or ""
        return f" model={model}" + (f" tokens={tokens}" if tokens is not None else "")
    if ev.get("type") == "decision":
        return f" choice={data.get('choice')!r}"
    if ev.get("type") == "text":
        return f" {data.get('text')!r}"
    return ""


def render_timeline(
    session: dict[str, Any] | None, items: Iterable[dict[str, Any]], *, color: bool = False
) -> str:
    """``items`` are event and message records of one session, in any order."""
    c = _COLORS if color else dict.fromkeys(_COLORS, "")
    records = sorted(items, key=lambda r: (r.get("ts") or "", r.get("id") or ""))
    children: dict[str | None, list[dict[str, Any]]] = {}
    ids = {r.get("id") for r in records if r.get("kind") == "event"}
    for rec in records:
        parent = rec.get("parent_id") if rec.get("kind") == "event" else None
        children.setdefault(parent if parent in ids else None, []).append(rec)
    lines = []
    if session is not None:
        lines.append(
            f"session {session.get('id')} {session.get('name') or ''} "
            f"user={session.get('user')} status={session.get('status')}"
        )
        if session.get("configs"):
            lines.append(f"  configs {session['configs']}")

    def walk(parent: str | None, depth: int) -> None:
        for rec in children.get(parent, []):
            pad = "  " * (depth + 1)
            ts = (rec.get("ts") or "")[11:23]
            if rec.get("kind") == "message":
                lines.append(f"{pad}{c['dim']}{ts}{c['end']} message {rec.get('role')}")
                continue
            err = rec.get("error")
            mark = (
                f"{c['error']}✗{c['end']}"
                if rec.get("status") == "error"
                else f"{c['ok']}✓{c['end']}"
            )
            partial = " (partial)" if rec.get("partial") else ""
            line = (
                f"{pad}{c['dim']}{ts}{c['end']} {mark} {rec.get('type')} {rec.get('name') or ''}"
                f"{_fmt_duration(rec.get('duration_ms'))}{_detail(rec)}{partial}"
            )
            if err:
                line += f" {c['error']}{err.get('type')}: {err.get('message')}{c['end']}"
            lines.append(line)
            walk(rec.get("id"), depth + 1)

    walk(None, 0)
    return "\n".join(lines)
