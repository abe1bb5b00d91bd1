"""Retention: ``prune(older_than)`` removes sessions that ended before a cut, in small steps.

Each step is its own short transaction that deletes a bounded number of rows, from one or more
sessions, and takes exactly those rows out of the count tables, so counts stay exact at every
commit. The number of rows per step adapts so that a step holds its locks for about 20 ms
(never more than ``batch`` rows); on SQLite, whose one write lock every writer queues for, the
lock is then left free for a moment, so that ingest waiting for it gets it (issue 13: no call
held up for more than 100 ms; ``benchmarks/retention.py`` measures it).

A session's events and messages go first and its row last, with the row locked: data that
arrives for it meanwhile is removed with it, or (after the row is gone) makes a new stub
session, never an orphan. Sessions still ``running`` are kept, however old. Sessionless events
older than the cut go too. A session's scores and costs go with its row, an event's priced
call with the event.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .._errors import InvalidInputError
from ._conn import Conn
from ._core import StoreCore
from ._keys import in_session, session_key
from ._models import PruneResult
from ._rollup import COUNTED, MINUTE_US, remove_counts
from ._times import now_us, to_us

__all__ = ["RetentionMixin", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
# How long one step should hold its locks: on SQLite, the database's one write lock, that
# ingest queues for; on PostgreSQL, only the rows it removes and their count rows.
_STEP_S = {"sqlite": 0.02, "postgres": 0.05}
# A step's size: at first, and at least (a step has a fixed cost, a dozen statements, that
# fewer rows would not shrink: below this, steps only get more numerous).
_MIN_ROWS = 50
# SQLite's busy handler retries a waiting writer after 1, 2, 5, 10, 15, 20, 25, 25, 25 ms...:
# the write lock left free this long after a step reaches a writer that began waiting during it.
_SQLITE_GAP_S = 0.025


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


class _Pace:
    """Rows per step, sized from how long the last step held its locks; and the pause after
    each step on a database with a single write lock."""

    def __init__(self, limit: int, target: float, gap: float) -> None:
        self.limit = limit
        self.target = target
        self.least = min(limit, _MIN_ROWS)
        self.rows = self.least
        self.gap = gap
        self.longest = 0.0  # seconds: the longest step so far

    def done(self, started: float) -> None:
        """A step that took the write lock at ``started`` has committed."""
        took = max(time.perf_counter() - started, 1e-4)
        self.longest = max(self.longest, took)
        # At most halving or doubling per step: one step says little about the next.
        scale = min(2.0, max(0.5, self.target / took))
        self.rows = max(self.least, min(self.limit, int(self.rows * scale)))
        if self.gap:
            time.sleep(self.gap)


class RetentionMixin(StoreCore):
    # Tables of rows that belong to a session, removed with it (a branch that adds a table of
    # per-session rows adds it here).
    session_tables: tuple[str, ...] = ("events", "messages")
    # Tables of rows keyed by (project, event_id) that go with their event: the priced calls.
    event_tables: tuple[str, ...] = ("llm_costs",)

    def prune(
        self, older_than: float | timedelta | str, *, now: datetime | None = None,
        project: str | None = None, batch: int = 500,
    ) -> PruneResult:  # fmt: skip
        """Remove sessions that ended more than ``older_than`` (seconds, a ``timedelta`` or
        ``"30d"``) ago, with their events and messages, and sessionless events older than that;
        every project's when ``project`` is None. At most ``batch`` rows go per transaction.
        Returns what was removed."""
        seconds = (parse_duration(older_than) if isinstance(older_than, str)
                   else older_than.total_seconds() if isinstance(older_than, timedelta)
                   else float(older_than))  # fmt: skip
        if not seconds > 0 or isinstance(batch, bool) or batch < 1:
            raise InvalidInputError("older_than must be a positive duration and batch >= 1")
        cut = (to_us(now) if now is not None else now_us()) - int(seconds * 1_000_000)
        tally = _Tally()
        sqlite = self.dialect == "sqlite"
        pace = _Pace(batch, _STEP_S[self.dialect], _SQLITE_GAP_S if sqlite else 0.0)
        scope, args = ("", []) if project is None else (" AND project = ?", [project])
        done: set[str] = set()
        while True:
            with self._tx() as conn:
                victims = conn.q(
                    "SELECT id, project FROM sessions WHERE status <> 'running' AND ended_us < ?"
                    f"{scope} ORDER BY ended_us, id LIMIT 100", [cut, *args])  # fmt: skip
            by_project: dict[str, list[str]] = {}
            for sid, proj in victims:
                if sid not in done:
                    by_project.setdefault(proj, []).append(sid)
            if not by_project:
                break
            for proj, sids in by_project.items():
                self._prune_sessions(proj, sids, cut, pace, tally)
                done.update(sids)  # kept (they came back to life meanwhile) or gone: not again
        if project is not None:
            projects = [project]
        else:  # with the project in the condition, the session index serves it, not a scan
            with self._tx() as conn:
                projects = [r[0] for r in conn.q("SELECT DISTINCT project FROM minute_totals "
                                                 "WHERE minute <= ?", [cut // MINUTE_US])]  # fmt: skip
        for proj in projects:
            more = True
            while more:
                with self._tx(write=True) as conn:
                    started, rows = time.perf_counter(), pace.rows
                    picked = self._pick(conn, "events", "project = ? AND session_id IS NULL AND "
                                        "ts_us < ?", [proj, cut], rows)  # fmt: skip
                    self._delete(conn, proj, ("session_id IS NULL", []), {"events": picked})
                pace.done(started)
                tally.add("events", len(picked))
                more = len(picked) == rows
        return PruneResult(sessions=tally.sessions, events=tally.events, messages=tally.messages,
                           longest_step_ms=round(pace.longest * 1000, 3))  # fmt: skip

    def _prune_sessions(
        self, project: str, sids: list[str], cut: int, pace: _Pace, tally: _Tally
    ) -> None:
        """Remove these sessions of ``project`` with their rows, ``pace.rows`` rows a step: a
        step fills up from the sessions in id order, and the sessions it empties go in it."""
        left = sorted(sids)
        while left:
            with self._tx(write=True) as conn:
                started = time.perf_counter()
                marks = ",".join("?" * len(left))
                # Locked, in id order as ingest locks them; one that came back to life (or that
                # another pruner removed) drops out.
                left = [r[0] for r in conn.q(
                    f"SELECT id FROM sessions WHERE id IN ({marks}) AND status <> 'running' AND "
                    f"ended_us < ? ORDER BY id{self._for_update}", [*left, cut])]  # fmt: skip
                taken: dict[str, list[tuple[str, int]]] = {t: [] for t in self.session_tables}
                touched: list[str] = []
                emptied: list[str] = []
                room = pace.rows
                for sid in left:
                    touched.append(sid)
                    for table in self.session_tables:
                        picked = self._pick(conn, table,
                                            *in_session(conn.dialect, table, project, sid), room)  # fmt: skip
                        taken[table] += picked
                        room -= len(picked)
                        if not room:  # the step is full: this session may have more rows
                            break
                    else:
                        emptied.append(sid)
                        continue
                    break
                marks = ",".join("?" * len(touched))
                self._delete(conn, project, (f"session_id IN ({marks})", touched), taken)
                for sid in emptied:
                    self._forget_session_extras(conn, project, sid)
                if emptied:
                    conn.run(f"DELETE FROM sessions WHERE id IN ({','.join('?' * len(emptied))})",
                             emptied)  # fmt: skip
            pace.done(started)
            for table, rows in taken.items():
                tally.add(table, len(rows))
            tally.sessions += len(emptied)
            left = left[len(emptied) :]

    def _pick(
        self, conn: Conn, table: str, where: str, params: list[Any], limit: int
    ) -> list[tuple[str, int]]:
        """Up to ``limit`` rows (id, ts_us) of ``table`` matching ``where``, locked (PostgreSQL),
        so that no other pruner counts them out too. In (ts_us, id) order: the order of the
        (project, session_id, ts_us, id) index, so no sort and no walk of the primary key
        (``ORDER BY id`` walked the whole project's), and one order for every pruner."""
        rows = conn.q(f"SELECT id, ts_us FROM {table} WHERE {where} ORDER BY ts_us, id "
                      f"LIMIT ?{self._for_update}", [*params, limit])  # fmt: skip
        return [(r[0], r[1]) for r in rows]

    def _delete(
        self, conn: Conn, project: str, scope: tuple[str, list[Any]],
        taken: dict[str, list[tuple[str, int]]],
    ) -> None:  # fmt: skip
        """Delete these rows (id, ts_us) of ``project`` per table, all within ``scope`` (their
        sessions), taking them out of the count tables first, and the priced calls of the
        events among them."""
        chosen: dict[str, tuple[str, list[Any]]] = {}
        ids: dict[str, tuple[str, list[Any]]] = {}
        for table, rows in taken.items():
            if rows:
                marks = ",".join("?" * len(rows))
                ids[table] = (marks, [project, *(r[0] for r in rows)])
                # The session and time range keep the planners on the session index's few
                # entries: on ids alone, SQLite walks a covering index over the whole project
                # and PostgreSQL without statistics a bitmap of it.
                times = [r[1] for r in rows]
                keyed, hashed = session_key(conn.dialect, table, scope[1])
                chosen[table] = (
                    f"project = ? AND {scope[0]}{keyed} AND ts_us >= ? AND ts_us <= ? AND id IN "
                    f"({marks})", [project, *scope[1], *hashed, min(times), max(times),
                                   *ids[table][1][1:]],
                )  # fmt: skip
        remove_counts(conn, {t: c for t, c in chosen.items() if t in COUNTED})
        if "events" in ids:
            marks, args = ids["events"]
            for table in self.event_tables:
                conn.run(f"DELETE FROM {table} WHERE project = ? AND event_id IN ({marks})", args)
        for table, (cond, args) in chosen.items():
            conn.run(f"DELETE FROM {table} WHERE {cond}", args)
