"""Reading agentlog JSONL files back: tolerant of a torn last line, aware of rotation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .exporters.file import rotated_files

__all__ = ["JsonlRead", "iter_file", "merge_session", "read_jsonl"]


def iter_file(
    path: str | os.PathLike[str], offset: int = 0, *, chunk: int = 1 << 20
) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(offset_after_line, record, error)`` for each complete line from ``offset``.

    An unterminated last line is not yielded (it may still be being written): the offset of
    the last yielded line is where a later read should resume.
    """
    with open(path, "rb") as f:
        f.seek(offset)
        pos = offset
        rest = b""
        while True:
            block = f.read(chunk)
            if not block:
                return
            data = rest + block
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    break
                line = data[start:nl]
                pos += nl - start + 1
                start = nl + 1
                if not line.strip():
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield pos, None, f"{path}: bad line ending at byte {pos}: {exc}"
                    continue
                if not isinstance(rec, dict):
                    yield pos, None, f"{path}: line ending at byte {pos} is not a JSON object"
                    continue
                yield pos, rec, None
            rest = data[start:]


@dataclass
class JsonlRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    partial_tail: bool = False


def read_jsonl(path: str | os.PathLike[str]) -> JsonlRead:
    """All records of ``path`` and its rotated predecessors, oldest first; bad lines reported."""
    out = JsonlRead()
    files = [*rotated_files(path), Path(path)]
    for file in files:
        if not file.exists():
            continue
        end = 0
        for pos, rec, err in iter_file(file):
            end = pos
            if rec is not None:
                out.records.append(rec)
            elif err is not None:
                out.errors.append(err)
        if os.path.getsize(file) > end:
            out.partial_tail = True
            out.errors.append(f"{file}: unterminated last line skipped (a writer was interrupted)")
    return out


def merge_session(into: dict[str, Any] | None, rec: dict[str, Any]) -> dict[str, Any]:
    """Fold a session record into what is known: later non-null fields win; start is kept."""
    if into is None:
        return dict(rec)
    merged = dict(into)
    for key, value in rec.items():
        if value is None:
            continue
        if key == "started_at" and merged.get("started_at"):
            continue
        merged[key] = value
    return merged
