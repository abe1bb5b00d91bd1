"""The default exporter: JSON Lines on local disk, one ``write`` per batch, size-based rotation.

Each batch is written with a single ``os.write`` on an ``O_APPEND`` descriptor while holding an
exclusive ``flock`` on the file, so processes sharing the file (a parent and its children, or
unrelated processes) never interleave inside a line, and each writer sees a stable end of file:

- a process killed mid-write can leave one unterminated line; the next writer, holding the lock,
  sees it and terminates it first, so the damage stays one line that readers skip and report
  (and no writer adds an empty line because it looked at a tail still being written);
- a write that fails part-way (a full disk, ``RLIMIT_FSIZE``) is cut back to the last complete
  record: the file always ends at a record boundary, the records written are counted observed
  and the rest failed, so ``status()`` matches the file.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

from .._log import warn_once
from ._base import ExportResult, RecordBatch

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one writer per file is the rule there
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileExporter", "rotated_files"]

_LOCK_WAIT = 2.0  # seconds a batch waits for another writer's lock before writing anyway


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
        self._readable = False

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        # The child opens its own descriptor. Its copy of the parent's is closed, so the file
        # lock (held by the open file, shared across fork) never outlives the parent.
        self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:  # read access: the tail check reads the last byte through this descriptor
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                self._readable = True
            except PermissionError:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self._readable = False
            self._fd = fd
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

    def _locked_end(self, fd: int) -> int:
        """Lock the file for this batch; its size (stable while the lock is held).

        The wait is bounded: a lock held for good (a process of another program, a writer
        frozen by a debugger) delays a batch by ``_LOCK_WAIT`` seconds, never stops exporting.
        """
        if fcntl is not None:
            deadline = time.monotonic() + _LOCK_WAIT
            pause = 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        warn_once(f"file-lock:{self.path}", "agentlog: %s stays locked by "
                                  "another process; writing without the lock", self.path,
                                  exc_info=False)  # fmt: skip
                        break
                    time.sleep(pause)  # another writer's batch takes about a millisecond
                    pause = min(pause * 2, 0.02)
        return os.fstat(fd).st_size

    @staticmethod
    def _unlock(fd: int) -> None:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError:
                pass

    def export(self, batch: RecordBatch) -> ExportResult:
        n = len(batch)
        if not n:
            return ExportResult()
        data = batch.jsonl()
        with self._lock:
            try:
                fd = self._open()
                end = self._locked_end(fd)
                if end and end + len(data) > self.rotate_bytes:
                    self._rotate()  # closing the descriptor released the lock
                    fd = self._open()
                    end = self._locked_end(fd)
            except OSError as exc:
                return self._failed(exc, 0, n)
            try:
                if end and self._readable and os.pread(fd, 1, end - 1) != b"\n":
                    data = b"\n" + data  # a writer died mid-line: close that line off first
                return self._write(fd, end, data, n)
            finally:
                self._unlock(fd)

    def _write(self, fd: int, end: int, data: bytes, n: int) -> ExportResult:
        written = 0
        view = memoryview(data)
        try:
            while written < len(data):
                written += os.write(fd, view[written:])
        except OSError as exc:
            # Cut back to the last complete record, so the next batch starts on a new line.
            keep = data.rfind(b"\n", 0, written) + 1
            try:
                os.ftruncate(fd, end + keep)
            except OSError:
                pass  # the next writer's tail check closes the torn line instead
            complete = data.count(b"\n", 0, keep) - (1 if data[:1] == b"\n" and keep else 0)
            return self._failed(exc, complete, n)
        return ExportResult()

    def _failed(self, exc: OSError, complete: int, n: int) -> ExportResult:
        warn_once(
            f"file-write:{self.path}", "agentlog: cannot write %s: %s (logged once; records not "
            "written are counted as failed in agentlog.status())", self.path, exc, exc_info=False,
        )  # fmt: skip
        if complete <= 0:
            return ExportResult.failure(str(exc))
        return ExportResult(rejected=tuple(range(complete, n)), reason=str(exc))

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._close_fd()
