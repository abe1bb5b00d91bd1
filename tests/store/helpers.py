"""Building records in bulk for the store tests."""

from __future__ import annotations

import itertools
from typing import Any

from agentlog._ids import format_ts, format_uuid, new_id

__all__ = ["BASE_NS", "event", "message", "session", "ts"]

BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
_seq = itertools.count(1)


def ts(seconds: float) -> str:
    return format_ts(BASE_NS + int(seconds * 1e9))


def _id(seconds: float) -> str:
    return format_uuid(new_id(BASE_NS + int(seconds * 1e9)))


def session(id: str, *, at: float = 0, **fields: Any) -> dict[str, Any]:
    return {"kind": "session", "id": id, "status": "running", "started_at": ts(at), **fields}


def event(sid: str | None, at: float, type: str = "step", **fields: Any) -> dict[str, Any]:
    rec = {"kind": "event", "id": _id(at), "session_id": sid, "type": type, "ts": ts(at),
           "data": {"n": next(_seq)}}  # fmt: skip
    rec.update(fields)
    return rec


def message(sid: str, at: float, role: str = "user", **fields: Any) -> dict[str, Any]:
    rec = {"kind": "message", "id": _id(at), "session_id": sid, "ts": ts(at), "role": role,
           "format": "openai", "blob": {"role": role, "content": f"m{next(_seq)}"}}  # fmt: skip
    rec.update(fields)
    return rec
