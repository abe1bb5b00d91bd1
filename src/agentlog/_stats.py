"""The pipeline's counters: what ``agentlog.status()`` reports, globally and per session."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ExporterStatus", "PipelineStatus", "Stats", "count_ids", "record_session_id"]

_MAX_TRACKED_SESSIONS = 10_000  # per-session counters kept for the most recent sessions only


_DELIVERY = ("observed", "dropped", "failed", "spooled")


@dataclass(frozen=True)
class ExporterStatus:
    """What one destination did with the records handed to it.

    ``in_process``: records waiting for, or inside, this exporter's export call (its lane, in a
    fan-out). ``dropped``: records its lane's queue had no room for.
    """

    in_process: int = 0
    observed: int = 0
    dropped: int = 0
    failed: int = 0
    spooled: int = 0

    @classmethod
    def of(cls, in_process: int, counts: dict[str, int]) -> ExporterStatus:
        """From a ``Stats`` tally; ``sampled_out`` happens before any exporter, so not here."""
        return cls(in_process=in_process, **{k: counts.get(k, 0) for k in _DELIVERY})


@dataclass(frozen=True)
class PipelineStatus:
    """Counts of records, for the whole process or one session.

    With several exporters, each record counts once in the global numbers, by the worst that
    happened to it anywhere: ``failed`` if a destination failed it, else ``dropped`` if a lane had
    no room for it, else ``spooled`` if a destination kept it on disk, else ``observed`` (every
    destination delivered it). ``exporters`` says what each destination did, by name (for the
    whole process only; empty for one session).
    """

    pending: int = 0
    in_process: int = 0
    observed: int = 0
    dropped: int = 0
    failed: int = 0
    spooled: int = 0
    sampled_out: int = 0  # records of sessions that sampling left out (not drops)
    updated_at: datetime | None = None
    exporters: Mapping[str, ExporterStatus] = field(default_factory=dict)


def record_session_id(rec: Any) -> str | None:
    if type(rec) is tuple:
        return rec[1]  # type: ignore[no-any-return]
    return rec.get("id") if rec.get("kind") == "session" else rec.get("session_id")  # type: ignore[no-any-return]


def count_ids(session_ids: list[str | None]) -> Mapping[str | None, int]:
    """Records per session id, in the order the ids first occur. A batch is mostly one session
    (or none) or a few: each of those counted by a ``list.count`` (an identity test a record)
    costs a tenth of what a ``Counter`` does."""
    if not session_ids:
        return {}
    first = session_ids[0]
    n = session_ids.count(first)
    if n == len(session_ids):
        return {first: n}
    distinct = dict.fromkeys(session_ids)
    if len(distinct) > 8:
        return Counter(session_ids)
    return {sid: session_ids.count(sid) for sid in distinct}


class Stats:
    """Counters for ``status()``, global and per session (the most recent sessions only)."""

    _FIELDS = ("observed", "dropped", "failed", "spooled", "sampled_out")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.totals = dict.fromkeys(self._FIELDS, 0)
        self.sessions: OrderedDict[str, dict[str, int]] = OrderedDict()
        self.updated_at: datetime | None = None

    def add(self, field: str, session_ids: list[str | None] | None, n: int = 0) -> None:
        if session_ids is None:
            with self._lock:
                self.totals[field] += n
                self.updated_at = datetime.now(timezone.utc)
            return
        self.add_counts(field, count_ids(session_ids))

    def add_counts(self, field: str, counts: Mapping[str | None, int]) -> None:
        """Add ``counts`` (records per session id; None for records of no session)."""
        with self._lock:
            for sid, count in counts.items():
                self.totals[field] += count
                if sid is None:
                    continue
                per = self.sessions.get(sid)
                if per is None:
                    per = self.sessions[sid] = dict.fromkeys(self._FIELDS, 0)
                    if len(self.sessions) > _MAX_TRACKED_SESSIONS:
                        self.sessions.popitem(last=False)
                else:
                    self.sessions.move_to_end(sid)
                per[field] += count
            self.updated_at = datetime.now(timezone.utc)

    def move(self, src: str, dst: str, session_ids: list[str | None]) -> None:
        """Spooled records delivered later move from ``spooled`` to ``observed`` (or failed)."""
        with self._lock:
            self.totals[src] -= len(session_ids)
            self.totals[dst] += len(session_ids)
            for sid in session_ids:
                per = self.sessions.get(sid) if sid is not None else None
                if per is not None:
                    per[src] -= 1
                    per[dst] += 1
            self.updated_at = datetime.now(timezone.utc)
