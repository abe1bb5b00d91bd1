"""Keeps exported records in memory: for tests and for ``agentlog.testing``."""

from __future__ import annotations

import threading
from typing import Any

from ._base import ExportResult, RecordBatch

__all__ = ["MemoryExporter"]


class MemoryExporter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def export(self, batch: RecordBatch) -> ExportResult:
        records = batch.records
        with self._lock:
            self._records.extend(records)
        return ExportResult()

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def force_flush(self, timeout: float = 5.0) -> bool:
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        return None
