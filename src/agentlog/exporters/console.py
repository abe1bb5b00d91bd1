"""Readable one-line-per-record output for development."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from ._base import ExportResult, RecordBatch

__all__ = ["ConsoleExporter", "format_record"]


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_record(rec: dict[str, Any]) -> str:
    kind = rec.get("kind")
    sid = (rec.get("session_id") or rec.get("id") or "-")[-8:]
    if kind == "session":
        return f"[agentlog] session {sid} {rec.get('name') or ''} status={rec.get('status')}"
    if kind == "message":
        return f"[agentlog] {sid} message {rec.get('role')}: {_short(rec.get('blob'))}"
    if kind == "score":
        return f"[agentlog] {sid} score {rec.get('name')}={_short(rec.get('value'), 40)}"
    dur = rec.get("duration_ms")
    dur_s = f" {dur:.2f}ms" if isinstance(dur, (int, float)) else ""
    err = rec.get("error") or {}
    err_s = f" ! {err.get('type')}: {_short(err.get('message'), 60)}" if err else ""
    return f"[agentlog] {sid} {rec.get('type')} {rec.get('name') or ''}{dur_s}{err_s}"


class ConsoleExporter:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def export(self, batch: RecordBatch) -> ExportResult:
        stream = self._stream or sys.stderr
        text = "".join(format_record(r) + "\n" for r in batch.records)
        try:
            with self._lock:
                stream.write(text)
                stream.flush()
        except (OSError, ValueError) as exc:
            return ExportResult.failure(str(exc))
        return ExportResult()

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        return None
