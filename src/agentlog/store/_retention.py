"""Retention: ``prune(older_than)`` removes sessions that ended before a cut, in small steps.

Each step is its own short transaction that deletes at most ``batch`` rows and takes exactly
those rows out of the count tables, so ingest and reads never wait long on it, and counts stay
exact at every commit. A session's events and messages go first and its row last, with the row
locked: data that arrives for it meanwhile is removed with it, or (after the row is gone) makes
a new stub session, never an orphan. Sessions still ``running`` are kept, however old.
Sessionless events older than the cut go too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .._errors import InvalidInputError
from ._conn import Conn
from ._core import StoreCore
from ._models import PruneResult
from ._rollup import COUNTED, remove_counts
from ._times import now_us, to_us

__all__ = ["RetentionMixin", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 90m)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return seconds


@dataclass
class _Tally:
    sessions: int = 0
    events: int = 0
    messages: int = 0

    def add(self, table: str, n: int) -> None:
        setattr(self, table, getattr(self, table) + n)


class RetentionMixin(StoreCore):
    # Tables of rows that belong to a session, removed with it (a branch that adds a table of
    # per-session rows adds it here).
    session_tables: tuple[str, ...] = ("events", "messages")

    def prune(
        self, older_than: float | timedelta | str, *, now: datetime | None = None,
        project: str | None = None, batch: int = 500,
    ) -> PruneResult:  # fmt: skip
        """Remove sessions that ended more than ``older_than`` (seconds, a ``timedelta`` or
        ``"30d"``) ago, with their events and messages, and sessionless events older than that;
        every project's when ``project`` is None. Returns what was removed."""
        seconds = (parse_duration(older_than) if isinstance(older_than, str)
                   else older_than.total_seconds() if isinstance(older_than, timedelta)
                   else float(older_than))  # fmt: skip
        if not seconds > 0 or isinstance(batch, bool) or batch < 1:
            raise InvalidInputError("older_than must be a positive duration and batch >= 1")
        cut = (to_us(now) if now is not None else now_us()) - int(seconds * 1_000_000)
        tally = _Tally()
        scope, args = ("", []) if project is None else (" AND project = ?", [project])
        done: set[str] = set()
        while True:
            with self._tx() as conn:
                victims = conn.q(
                    "SELECT id, project FROM sessions WHERE status <> 'running' AND ended_us < ?"
                    f"{scope} ORDER BY ended_us, id LIMIT 100", [cut, *args])  # fmt: skip
            victims = [v for v in victims if v[0] not in done]
            if not victims:
                break
            for sid, proj in victims:
                self._prune_session(sid, proj, cut, batch, tally)
                done.add(sid)  # kept (it came back to life meanwhile) or gone: not again
        where = "session_id IS NULL AND ts_us < ?" + scope
        while True:
            with self._tx(write=True) as conn:
                n = self._delete_rows(conn, where, [cut, *args], batch, ("events",)).get(
                    "events", 0
                )
            tally.add("events", n)
            if n < batch:
                break
        return PruneResult(sessions=tally.sessions, events=tally.events, messages=tally.messages)

    def _prune_session(self, sid: str, project: str, cut: int, batch: int, tally: _Tally) -> None:
        while True:
            with self._tx(write=True) as conn:
                row = conn.one(f"SELECT status, ended_us FROM sessions WHERE id = ?"
                               f"{self._for_update}", (sid,))  # fmt: skip
                if row is None or row[0] == "running" or row[1] is None or row[1] >= cut:
                    return
                rows = self._delete_rows(conn, "project = ? AND session_id = ?", [project, sid],
                                         batch)  # fmt: skip
                for table, n in rows.items():
                    tally.add(table, n)
                if sum(rows.values()) < batch:  # nothing of it is left: the row goes too
                    self._forget_session_extras(conn, project, sid)
                    conn.run("DELETE FROM sessions WHERE id = ?", (sid,))
                    tally.sessions += 1
                    return

    def _delete_rows(
        self, conn: Conn, where: str, params: list[Any], limit: int,
        tables: tuple[str, ...] | None = None,
    ) -> dict[str, int]:  # fmt: skip
        """Delete up to ``limit`` rows matching ``where`` from the session tables (``tables``),
        taking them out of the count tables first; the rows are locked (PostgreSQL), so no
        other pruner counts them out too. Returns the rows deleted per table."""
        chosen: dict[str, tuple[str, list[Any]]] = {}
        room = limit
        for table in tables or self.session_tables:
            if not room:
                break
            ids = [r[0] for r in conn.q(f"SELECT id FROM {table} WHERE {where} ORDER BY id "
                                        f"LIMIT ?{self._for_update}", [*params, room])]  # fmt: skip
            if ids:
                chosen[table] = (f"{where} AND id IN ({','.join('?' * len(ids))})",
                                 [*params, *ids])  # fmt: skip
                room -= len(ids)
        remove_counts(conn, {t: c for t, c in chosen.items() if t in COUNTED})
        for table, (cond, args) in chosen.items():
            conn.run(f"DELETE FROM {table} WHERE {cond}", args)
        return {table: len(args) - len(params) for table, (_, args) in chosen.items()}
