"""The exporter plug-in point: a Protocol, the batch it receives and the result it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

__all__ = ["ExportResult", "Exporter", "RecordBatch", "exporter_name"]


class RecordBatch:
    """Encoded records on their way out.

    ``lines`` are the JSON objects as bytes (no newline) exactly as they go on the wire; the
    decoded ``records`` are built only if an exporter asks for them. ``jsonl()`` is the same
    lines as one buffer, each followed by a newline, as a file holds them.
    """

    __slots__ = ("_jsonl", "_lines", "_records", "session_ids")

    def __init__(self, lines: Sequence[bytes], session_ids: Sequence[str | None]) -> None:
        self._lines: list[bytes] | None = list(lines)
        self._jsonl: bytes | None = None
        self.session_ids = list(session_ids)
        self._records: list[dict[str, Any]] | None = None

    @classmethod
    def from_jsonl(cls, jsonl: bytes, session_ids: Sequence[str | None]) -> RecordBatch:
        """A batch already joined: one line per session id, each ending in a newline, none
        inside a line (JSON as orjson writes it never holds a raw newline)."""
        batch = cls((), session_ids)
        batch._lines = None  # split off only if an exporter asks for the lines
        batch._jsonl = jsonl
        return batch

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]]) -> RecordBatch:
        sids = [r.get("id") if r.get("kind") == "session" else r.get("session_id") for r in records]
        batch = cls([orjson.dumps(r) for r in records], sids)
        batch._records = [dict(r) for r in records]
        return batch

    @property
    def lines(self) -> list[bytes]:
        if self._lines is None:
            self._lines = (self._jsonl or b"").split(b"\n")[: len(self.session_ids)]
        return self._lines

    def jsonl(self) -> bytes:
        """The lines joined, each followed by a newline (empty for an empty batch)."""
        if self._jsonl is None:
            # One copy: a trailing empty line gives the last newline without a second buffer.
            self._jsonl = b"\n".join([*self.lines, b""]) if self.lines else b""
        return self._jsonl

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            self._records = [orjson.loads(line) for line in self.lines]
        return self._records

    def __len__(self) -> int:
        return len(self._lines) if self._lines is not None else len(self.session_ids)

    def subset(self, indices: Sequence[int]) -> RecordBatch:
        return RecordBatch([self.lines[i] for i in indices], [self.session_ids[i] for i in indices])


@dataclass(frozen=True)
class ExportResult:
    """What became of a batch.

    ``ok``: delivered, except the records at ``rejected`` (refused for good, counted failed).
    ``spooled``: not delivered now, but kept on disk to be re-sent later.
    Neither: the whole batch failed.
    """

    ok: bool = True
    rejected: tuple[int, ...] = ()
    spooled: bool = False
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failure(cls, reason: str) -> ExportResult:
        return cls(ok=False, reason=reason)


@runtime_checkable
class Exporter(Protocol):
    """Sends batches somewhere. Implementations never raise out of these methods.

    ``force_flush(timeout)`` waits up to ``timeout`` for everything this exporter was given to
    reach its destination and returns True only if it did (records only spooled to disk, or
    failed, make it False): ``agentlog.flush()`` returns what it says.

    Optional: ``spool(batch) -> bool`` keeps a batch on disk at shutdown; ``bind_stats(stats)``
    lets an exporter count what happens later (a spooled batch delivered); ``counts_itself =
    True`` says the exporter counts every outcome in those stats itself (a fan-out, whose lanes
    finish after ``export`` returns), so the pipeline does not count its results;
    ``counts_spooled = True`` says the exporter adds the records it spools (a ``spooled`` result,
    or ``spool()`` returning True) to ``spooled`` in those stats itself, before anything can
    re-send them: counted by the caller after the call returns, the move from ``spooled`` to
    ``observed`` of a batch re-sent meanwhile would come first.
    """

    def export(self, batch: RecordBatch) -> ExportResult: ...

    def force_flush(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds for what was handed to ``export()`` to be delivered.

        True only when every record handed to ``export()`` since the previous call reached its
        destination: none in flight, none waiting in a spool (spooled is not delivered), none
        failed, rejected or dropped. False otherwise, or when ``timeout`` passed first.
        """
        ...

    def shutdown(self, timeout: float = 5.0) -> None: ...


def exporter_name(exporter: object) -> str:
    """``FileExporter`` -> ``file``, ``HttpExporter`` -> ``http``; an exporter's ``name`` wins."""
    name = getattr(exporter, "name", None)
    if isinstance(name, str) and name:
        return name
    cls = type(exporter).__name__
    return (
        cls[: -len("Exporter")] if cls.endswith("Exporter") and cls != "Exporter" else cls
    ).lower()
