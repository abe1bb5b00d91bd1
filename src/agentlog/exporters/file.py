"""The default exporter: JSON Lines on local disk, one ``write`` per batch, size-based rotation.

Each batch is written with a single ``os.write`` on an ``O_APPEND`` descriptor, so processes
sharing the file (a parent and its forked child) never interleave inside a line. A process
killed mid-write can leave one unterminated line; the next writer terminates it first, so the
damage stays one line that readers skip and report.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

from ._base import ExportResult, RecordBatch

__all__ = ["FileExporter", "rotated_files"]

log = logging.getLogger("agentlog")


def rotated_files(path: str | os.PathLike[str]) -> list[Path]:
    """The rotated siblings of ``path``, oldest first (``events.000001.jsonl``, ...)."""
    p = Path(path)
    pattern = re.compile(re.escape(p.stem) + r"\.(\d{6,})" + re.escape(p.suffix) + "$")
    found = []
    if p.parent.is_dir():
        for child in p.parent.iterdir():
            m = pattern.match(child.name)
            if m:
                found.append((int(m.group(1)), child))
    return [c for _, c in sorted(found)]


class FileExporter:
    def __init__(
        self, path: str | os.PathLike[str] = ".agentlog/events.jsonl", *,
        rotate_bytes: int = 100 * 1024 * 1024,
    ) -> None:  # fmt: skip
        self.path = Path(path)
        self.rotate_bytes = rotate_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._size = 0

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._fd = None  # the child opens its own descriptor

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(fd).st_size
            if size:
                with open(self.path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":  # a writer died mid-line: close that line off
                        os.write(fd, b"\n")
                        size += 1
            self._fd, self._size = fd, size
        return self._fd

    def _rotate(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        existing = rotated_files(self.path)
        nxt = (int(existing[-1].name.split(".")[-2]) + 1) if existing else 1
        target = self.path.with_name(f"{self.path.stem}.{nxt:06d}{self.path.suffix}")
        try:
            os.replace(self.path, target)
        except FileNotFoundError:
            pass

    def export(self, batch: RecordBatch) -> ExportResult:
        if not len(batch):
            return ExportResult()
        data = b"\n".join(batch.lines) + b"\n"
        try:
            with self._lock:
                fd = self._open()
                if self._size and self._size + len(data) > self.rotate_bytes:
                    self._rotate()
                    fd = self._open()
                written = 0
                view = memoryview(data)
                while written < len(data):
                    written += os.write(fd, view[written:])
                self._size += written
            return ExportResult()
        except OSError as exc:
            log.warning("agentlog: cannot write %s: %s", self.path, exc)
            return ExportResult.failure(str(exc))

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            if self._fd is not None:
                try:
                    os.close(self._fd)
                except OSError:
                    pass
                self._fd = None
