"""Exporters: where recorded batches go. Pass one (or a list) to ``agentlog.init(exporter=...)``."""

from __future__ import annotations

from ._base import Exporter, ExportResult, RecordBatch
from .console import ConsoleExporter
from .fanout import FanoutExporter
from .file import FileExporter
from .memory import MemoryExporter

__all__ = [
    "ConsoleExporter",
    "ExportResult",
    "Exporter",
    "FanoutExporter",
    "FileExporter",
    "MemoryExporter",
    "RecordBatch",
]
