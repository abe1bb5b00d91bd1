"""Exporters: where recorded batches go. Pass one (or a list) to ``agentlog.init(exporter=...)``.

``HttpExporter`` and ``OtlpExporter`` load on first use, so ``import agentlog`` never imports
their HTTP clients or OpenTelemetry's exporter packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Exporter, ExportResult, RecordBatch
from .console import ConsoleExporter
from .fanout import FanoutExporter
from .file import FileExporter
from .memory import MemoryExporter

if TYPE_CHECKING:
    from .http import HttpExporter
    from .otlp import OtlpExporter

__all__ = [
    "ConsoleExporter",
    "ExportResult",
    "Exporter",
    "FanoutExporter",
    "FileExporter",
    "HttpExporter",
    "MemoryExporter",
    "OtlpExporter",
    "RecordBatch",
]

_LAZY = {"HttpExporter": ".http", "OtlpExporter": ".otlp"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
