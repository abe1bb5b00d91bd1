"""What a local Client writes, appended to the JSONL record stream as well as to the store.

The JSONL files are the source of truth (DESIGN §2): the SQLite store is an index that can be
deleted and rebuilt from them. So a write through ``Client()`` (a session created or closed,
configs replaced or patched, an event or message added, a score) becomes a record, appended
after the store accepted the write, in one ``os.write`` on an ``O_APPEND`` descriptor (whole
lines, safe beside the SDK's file exporter). Reading the file back into the store changes
nothing: records are idempotent by id, and session records merge.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ._ids import format_ts, now_ns
from ._log import log

__all__ = ["WRITE_OPS", "append_records", "records_for"]

WRITE_OPS = frozenset({
    "create_session", "close_session", "update_configs", "patch_configs", "add_event",
    "store_message", "add_score", "copy_session",
})  # fmt: skip


def _dump(model: Any, *, exclude: set[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"v": 1, **model.model_dump(mode="json", exclude=exclude)}
    return out


def _item_record(item: Any) -> dict[str, Any]:
    if item.kind == "message":
        return _dump(item, exclude={"type"})
    rec = _dump(item)
    if isinstance(rec.get("data"), dict):
        rec["data"].pop("cost", None)  # computed by the store that reads it
    return rec


def records_for(
    op: str, params: dict[str, Any], result: Any, store: Any = None, project: str = "default"
) -> list[dict[str, Any]]:
    """The records that say what ``op`` did (``result`` is what the store answered; a copy
    reads the copied items back from ``store``)."""
    if op == "copy_session":
        out = records_for("create_session", params, result)
        out[0]["ended_at"] = result.ended_at
        cursor = None
        while True:
            page = store.iterate_events(session_id=result.id, cursor=cursor, limit=1000,
                                        project=project)  # fmt: skip
            out += [_item_record(i) for i in page.events]
            cursor = page.next_cursor
            if cursor is None:
                return out
    if op in ("create_session", "close_session"):
        s = result
        return [{"v": 1, "kind": "session", "id": s.id, "name": s.name, "user": s.user,
                 "configs": s.configs, "status": s.status, "summary": s.summary,
                 "started_at": s.started_at, "ended_at": s.ended_at,
                 "parent_session_id": s.parent_session_id, "tags": s.tags or None}]  # fmt: skip
    if op in ("update_configs", "patch_configs"):
        # updated_at makes this the later record, so the configs win on a rebuild; an explicit
        # null clears them.
        return [{"v": 1, "kind": "session", "id": params["session_id"], "configs": result,
                 "updated_at": format_ts(now_ns())}]  # fmt: skip
    if op in ("add_event", "store_message"):
        return [_item_record(result)]
    if op == "add_score":
        return [_dump(result)]
    return []


def append_records(path: Path, records: list[dict[str, Any]]) -> None:
    """Append whole lines; a failure is logged (the store already has the write)."""
    if not records:
        return
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        log.warning("agentlog: could not append to the record stream %s: %s", path, exc)
