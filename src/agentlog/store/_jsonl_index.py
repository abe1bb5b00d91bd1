"""Incremental indexing of the local JSONL files into the SQLite store.

Each file is known by its device and inode, so a rotation (a rename: the inode moves with the
data) does not make the indexer read anything twice, and by the first bytes it had when first
seen, so a new file that reuses a freed inode is read from the start. A torn last line is left
for the next pass (``iter_file`` never yields it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._jsonl import iter_file
from ..exporters.file import rotated_files
from ._core import StoreCore
from ._models import IndexResult, RejectedRecord

__all__ = ["DEFAULT_JSONL", "JsonlIndexMixin"]

DEFAULT_JSONL = ".agentlog/events.jsonl"
_HEAD = 64
_BATCH = 5000


class JsonlIndexMixin(StoreCore):
    def index_jsonl(
        self, path: str | os.PathLike[str] = DEFAULT_JSONL, *, project: str = "default"
    ) -> IndexResult:
        """Read what is new in ``path`` and its rotated siblings (oldest first) into the store."""
        files = [p for p in (*rotated_files(path), Path(path)) if p.is_file()]
        records = accepted = 0
        rejected: list[RejectedRecord] = []
        bad: list[str] = []
        for file in files:
            try:
                with open(file, "rb") as f:
                    st = os.fstat(f.fileno())
                    head = f.read(_HEAD).hex()
            except OSError as exc:
                bad.append(f"{file}: {exc}")
                continue
            offset = self._known_offset(st.st_dev, st.st_ino, head, st.st_size)
            if offset == st.st_size:
                continue
            batch: list[dict[str, Any]] = []
            end = offset
            for pos, rec, err in iter_file(file, offset):
                if err is not None:
                    bad.append(err)
                if rec is not None:
                    batch.append(rec)
                end = pos
                if len(batch) >= _BATCH:
                    accepted += self._index_batch(batch, records, rejected, project)
                    records += len(batch)
                    batch = []
                    self._save_offset(st.st_dev, st.st_ino, str(file), head, end)
            if batch:
                accepted += self._index_batch(batch, records, rejected, project)
                records += len(batch)
            self._save_offset(st.st_dev, st.st_ino, str(file), head, end)
        return IndexResult(files=len(files), records=records, accepted=accepted,
                           rejected=rejected, bad_lines=bad)  # fmt: skip

    def _index_batch(
        self, batch: list[dict[str, Any]], base: int, rejected: list[RejectedRecord], project: str
    ) -> int:
        result = self.ingest(batch, project=project)
        rejected.extend(r.model_copy(update={"index": base + r.index}) for r in result.rejected)
        return len(result.accepted)

    def _known_offset(self, dev: int, ino: int, head: str, size: int) -> int:
        with self._tx() as conn:
            row = conn.one("SELECT head, read_to FROM jsonl_files WHERE dev = ? AND ino = ?",
                           (dev, ino))  # fmt: skip
        if row is None:
            return 0
        known_head, read_to = row
        # Same inode but different first bytes, or shorter than what was read: another file.
        if not head.startswith(known_head) and not known_head.startswith(head):
            return 0
        return int(read_to) if read_to <= size else 0

    def _save_offset(self, dev: int, ino: int, path: str, head: str, read_to: int) -> None:
        with self._tx(write=True) as conn:
            conn.run(
                "INSERT INTO jsonl_files (dev, ino, path, head, read_to) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (dev, ino) DO UPDATE SET path = excluded.path, "
                "head = excluded.head, read_to = excluded.read_to",
                (dev, ino, path, head, read_to),
            )
