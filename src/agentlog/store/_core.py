"""What both SQL backends share: the connection seam, session lookups and batch ingest.

Queries are written once with ``?`` placeholders; a backend supplies a connection wrapper
(``Conn``) and the few dialect pieces that differ (JSON containment, bulk insert).
"""

from __future__ import annotations

import bisect
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .._errors import NotFoundError
from ._conn import Conn, chunks
from ._ingest import Parsed, PriceFn, parse_batch, session_ids
from ._models import IngestResult, RejectedRecord
from ._rows import EVENT_COLS, MESSAGE_COLS, TERMINAL, dumps, loads, merge_session, now_us
from ._schema import SCHEMA_VERSION, migrations
from ._screen import screen, with_refused

__all__ = ["ParsedBatch", "SessionCosts", "StoreCore"]


_ROW_FIELDS = ("name", "user_id", "configs", "status", "summary", "started_us", "ended_us",
               "parent_session_id", "rec_us", "sort_us", "last_activity_us", "tags")  # fmt: skip
_JSON_FIELDS = ("configs", "tags")
_SESSION_FIELDS = ("id", "project", *_ROW_FIELDS)
_SESSION_COLS = ", ".join(_SESSION_FIELDS)


def _session_row(row: Sequence[Any]) -> dict[str, Any]:
    """A row of ``_SESSION_COLS`` as ingest merges it, its JSON fields parsed."""
    d = dict(zip(_SESSION_FIELDS, row, strict=True))
    for name in _JSON_FIELDS:
        d[name] = loads(d[name])
    return d


# Per session: the cost of its calls just stored (picodollars) and how many were unpriced.
SessionCosts = dict[str, tuple[int, int]]
_NO_COST = (0, 0)  # a session's cost sums when none of its calls was stored now
# Records checked per step of a streamed ingest (``StoreCore._streams``): a batch of more
# goes to the server a part at a time while the next part is checked.
STREAM_PART = 256


@dataclass
class _Batch:
    """What one ingest call knows across its chunks."""

    project: str
    now: int = field(default_factory=now_us)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    activity: dict[str, int] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)  # ended sessions that got records here
    talked: set[str] = field(default_factory=set)  # sessions that got messages here


@dataclass
class _Rows:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)
    priced: list[tuple[tuple[Any, ...], Any]] = field(default_factory=list)  # (row, Priced)


def _foreign(index: int, rid: str, sid: str) -> RejectedRecord:
    return RejectedRecord(index=index, id=rid, status=409,
                          reason=f"session_id: session {sid!r} belongs to another project")  # fmt: skip


@dataclass(frozen=True)
class ParsedBatch:
    """A batch checked and built (``StoreCore.parse_ingest``), not stored yet."""

    project: str
    size: int  # records in the batch as sent: the next batch of a group is numbered on from it
    parsed: list[Parsed]
    rejected: list[RejectedRecord]


def _shifted(parsed: list[Parsed], base: int) -> list[Parsed]:
    """``parsed`` with each record's index moved on by ``base``."""
    return [(i + base, *rest) for i, *rest in parsed]


def _give_back(
    rejected: list[RejectedRecord], accepted: list[tuple[int, str]], starts: list[int],
    batches: list[int], rejected_by: list[list[RejectedRecord]], accepted_by: list[list[str]],
) -> None:  # fmt: skip
    """Hand the rejections and acceptances of a project's merged batches back to each batch
    (``batches[k]`` starts at record ``starts[k]`` of the merged numbering)."""
    for r in rejected:
        k = bisect.bisect_right(starts, r.index) - 1
        rejected_by[batches[k]].append(r.model_copy(update={"index": r.index - starts[k]})
                                       if starts[k] else r)  # fmt: skip
    for i, rid in accepted:
        accepted_by[batches[bisect.bisect_right(starts, i) - 1]].append(rid)


class StoreCore(ABC):
    """The seam the mixins build on; a backend implements the abstract methods."""

    dialect = ""
    json_param = "?"  # how a JSON text parameter is written in SQL (PostgreSQL casts it)

    @abstractmethod
    def _tx(self, *, write: bool = False) -> AbstractContextManager[Conn]:
        """A connection in a transaction (a write one when ``write``)."""

    @abstractmethod
    def _bulk_insert(self, conn: Conn, table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows, skipping those whose primary key exists (idempotent ingest), and group
        the rows really inserted for ``_apply_counts``."""

    @abstractmethod
    def _apply_counts(self, conn: Conn) -> None:
        """Sum what ``_bulk_insert`` grouped in this transaction into the count tables."""

    @abstractmethod
    def _greatest(self, a: str, b: str) -> str:
        """SQL for the larger of two expressions in this dialect."""

    @abstractmethod
    def close_stale_sessions(
        self, *, auto_close_after: float | None = None, now: datetime | None = None,
        project: str | None = None,
    ) -> list[str]:  # fmt: skip
        """End sessions left running with no activity for ``auto_close_after`` as timeout."""

    # Whether ``ingest`` checks a batch of more than ``STREAM_PART`` records inside its
    # transaction, a part at a time, each part's events sent to the server while the next is
    # checked (``_ingest_streamed``). For a backend whose database works in a process of its
    # own (PostgreSQL): there the server stores a part meanwhile. SQLite does its writing in
    # this thread, and checks a batch before it takes the write lock.
    _streams = False

    def _stream_events(self, conn: Conn, parts: Iterator[list[tuple[Any, ...]]]) -> None:
        """``_bulk_insert`` of the event rows ``parts`` gives; a streaming backend overrides it
        to send each part as it comes."""
        self._bulk_insert(conn, "events", EVENT_COLS, [row for part in parts for row in part])

    # Cost and score hooks (``_costs``, ``_scores``): ingest calls them for the rows it writes.
    def _pricing(self) -> PriceFn | None:
        """What prices an llm_call as its record is checked (``parse_batch``); None: nothing."""
        return None

    @abstractmethod
    def _price_rows(self, rows: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[Any]]:
        """Stored event rows with each llm_call priced again (a copied session, a reprice),
        and what ``_record_costs`` needs."""

    @abstractmethod
    def _record_costs(self, conn: Conn, project: str, priced: list[Any]) -> SessionCosts:
        """Cost rows and hourly sums for the llm_calls really inserted; their sums per session
        (picodollars, unpriced calls), for the caller to add to the sessions."""

    @abstractmethod
    def _add_session_costs(self, conn: Conn, costs: SessionCosts) -> None:
        """Add sums from ``_record_costs`` to their sessions."""

    @abstractmethod
    def _record_scores(self, conn: Conn, project: str, rows: list[tuple[Any, ...]]) -> None:
        """Store score rows and the sessions' latest scores."""

    def _forget_session_extras(self, conn: Conn, project: str, session_id: str) -> None:
        """Hook: rows of other tables that go with a deleted or pruned session."""
        return None  # a store with no such tables has nothing more to remove

    def _after_ingest(self, session_ids: set[str], talked: set[str]) -> None:
        """Hook: processing wakes up for sessions that received new data (``talked``: those
        of them that received messages)."""
        return None  # optional: a store without background processing has nothing to wake

    def _on_session_end(self, session_ids: set[str]) -> None:
        """Hook: bring the rollups of these ended sessions up to date before ingest returns."""
        return None  # optional: a store without rollups has nothing to bring up to date

    def _migrate(self, conn: Conn) -> None:
        """Apply the migrations this database has not seen yet, in the caller's transaction."""
        conn.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.one("SELECT max(version) FROM schema_version")
        current = row[0] if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise RuntimeError(f"database schema version {current} is newer than this agentlog "
                               f"({SCHEMA_VERSION}): upgrade agentlog")  # fmt: skip
        for version, steps in enumerate(migrations(self.dialect), start=1):
            if version > current:
                for stmt in steps:
                    if callable(stmt):
                        stmt(conn, self)
                    else:
                        conn.run(stmt)
                conn.run("INSERT INTO schema_version (version) VALUES (?)", (version,))

    # -- shared lookups ------------------------------------------------------------------------
    def _claim_sessions(
        self, conn: Conn, project: str, ids: Iterable[str], now: int
    ) -> tuple[set[str], dict[str, dict[str, Any]]]:  # fmt: skip
        """Claim the new ids among ``ids`` for ``project`` and lock the rows of the others.

        Returns the ids claimed here and the locked rows of the ids that already existed (of
        any project). Claiming is an insert that skips existing ids: of two transactions
        claiming one new id, the second waits on the first's insert and then sees its row, so
        an id belongs to the one project that inserted it first, under any interleaving. Ids
        are taken in sorted order, so two batches never wait on each other in a cycle.
        """
        ordered = sorted(set(ids))
        if not ordered:
            return set(), {}
        # The inserts, then every id's row read and locked (those just inserted too, and left
        # out below): one round trip for all, where reading only the ids found stored would
        # wait for the inserts' answers first.
        parts = list(chunks(ordered))
        statements: list[tuple[str, Sequence[Any]]] = []
        for part in parts:
            marks = ", ".join(["(?, ?, ?)"] * len(part))
            statements.append((f"INSERT INTO sessions (id, project, sort_us) VALUES {marks} "
                               "ON CONFLICT (id) DO NOTHING RETURNING id",
                               [v for sid in part for v in (sid, project, now)]))  # fmt: skip
        statements += [self._session_rows_sql(part, lock=True) for part in parts]
        results = conn.q_each(statements)
        fresh = {r[0] for rows in results[: len(parts)] for r in rows}
        existing: dict[str, dict[str, Any]] = {}
        for rows in results[len(parts) :]:
            for row in rows:
                if row[0] not in fresh:
                    existing[row[0]] = _session_row(row)
        return fresh, existing

    def _require_session(self, conn: Conn, session_id: str, project: str) -> None:
        row = conn.one("SELECT project FROM sessions WHERE id = ?", (session_id,))
        if row is None or row[0] != project:
            raise NotFoundError(f"session {session_id!r} not found")

    _for_update = ""  # a backend with row locks locks what a write transaction reads

    def _session_rows_sql(
        self, ids: Sequence[str], *, lock: bool = False
    ) -> tuple[str, Sequence[str]]:
        """The statement reading the rows of ``ids`` (at most ``chunks``' size), locked in id
        order when ``lock``; ``_session_row`` makes each row a dict."""
        tail = f" ORDER BY id{self._for_update}" if lock else ""
        marks = ",".join("?" * len(ids))
        return f"SELECT {_SESSION_COLS} FROM sessions WHERE id IN ({marks}){tail}", ids

    def _session_rows(
        self, conn: Conn, ids: Sequence[str], *, lock: bool = False
    ) -> dict[str, dict[str, Any]]:
        out = {}
        for part in chunks(sorted(set(ids))):
            for row in conn.q(*self._session_rows_sql(part, lock=lock)):
                out[row[0]] = _session_row(row)
        return out

    def _upsert_sessions(
        self, conn: Conn, project: str, rows: dict[str, dict[str, Any]],
        dirty: dict[str, int] | None = None, costs: SessionCosts | None = None,
    ) -> None:  # fmt: skip
        """Write these session rows; those in ``dirty`` (id: time) are marked for the rollups
        then, the others keep their mark. ``costs`` (from ``_record_costs``) of these
        sessions are added to their sums and taken out of ``costs``."""
        if not rows:
            return
        dirty = dirty or {}
        costs = {} if costs is None else costs
        cols = (*_SESSION_FIELDS, "dirty_us", "r_cost_p", "r_unpriced")
        marks = ", ".join(self.json_param if c in _JSON_FIELDS else "?" for c in cols)
        sets = ", ".join(f"{c} = excluded.{c}" for c in _ROW_FIELDS)
        # The project condition keeps a row with its project whatever a caller computed.
        sql = (f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({marks}) "
               f"ON CONFLICT (id) DO UPDATE SET {sets}, "
               "dirty_us = COALESCE(excluded.dirty_us, sessions.dirty_us), "
               "r_cost_p = sessions.r_cost_p + excluded.r_cost_p, "
               "r_unpriced = sessions.r_unpriced + excluded.r_unpriced "
               "WHERE sessions.project = excluded.project")  # fmt: skip
        conn.many(sql, [
            (sid, project, *[dumps(r[c]) if c in _JSON_FIELDS and r[c] is not None else r[c]
                             for c in _ROW_FIELDS], dirty.get(sid), *costs.pop(sid, _NO_COST))
            for sid, r in rows.items()
        ])  # fmt: skip

    # -- ingest --------------------------------------------------------------------------------
    # Whether the database refuses a NUL character in a string (``_screen``).
    _refuses_nul = False

    def ingest(self, records: Sequence[Any], *, project: str = "default") -> IngestResult:
        """Validate each record on its own; store the valid ones in one transaction."""
        return self.ingest_group([(records, project)])[0]

    def _ingest_batches(self, batches: Sequence[tuple[Sequence[Any], str]]) -> list[IngestResult]:
        if len(batches) == 1:
            records, project = batches[0]
            if self._streams and len(records) > STREAM_PART:
                return [self._ingest_streamed(records, project)]
        return self.ingest_parsed([self.parse_ingest(records, project)
                                   for records, project in batches])  # fmt: skip

    def _ingest_streamed(self, records: Sequence[Any], project: str) -> IngestResult:
        """``ingest`` with the records checked and built inside the transaction, a part at a
        time: each part's events go to the server while the next part is checked, so the
        server stores them meanwhile instead of after (``_streams``). The sessions are
        claimed first, as ``ingest_parsed`` does (writers lock them in one order), from the
        ids the records name before they are checked; one that only rejected records named is
        removed again before the commit. The answer is the one ``ingest_group`` gives."""
        timed, price = self._timed, self._pricing()
        rejected: list[RejectedRecord] = []
        ok: list[tuple[int, str]] = []
        state, rows = _Batch(project), _Rows()

        def parts() -> Iterator[list[tuple[Any, ...]]]:
            for start in range(0, len(records), STREAM_PART):
                with timed("in copy"):  # inside "insert+indexes": the bench takes it out
                    with timed("parse+build"), timed("parse in tx"):
                        parsed = parse_batch(records[start : start + STREAM_PART], project,
                                             rejected, start, price)  # fmt: skip
                    first = len(rows.events)
                    with timed("sessions"):
                        self._build(parsed, state, rows, rejected, ok)
                yield rows.events[first:]

        with timed("commit"), self._tx(write=True) as conn:
            with timed("sessions"):
                fresh = self._claim(conn, state, session_ids(records))
            self._write(conn, state, rows, parts())
            unused = fresh - rows.sessions.keys()
            if unused:
                self._unclaim(conn, unused)
        self._after_write([state])
        rejected.sort(key=lambda r: r.index)
        return IngestResult(accepted=[rid for _, rid in ok], rejected=rejected)

    def ingest_group(self, batches: Sequence[tuple[Sequence[Any], str]]) -> list[IngestResult]:
        """Several batches (``(records, project)``) in one transaction, one result each: what
        a collector under load does with the batches that wait while it writes (group commit).
        The result of each is what ``ingest`` of it alone would answer, batches taken in turn;
        the transaction, its session claims, count tables and commit are paid once.

        A record the database cannot store (a NUL character on PostgreSQL, a lone surrogate
        anywhere) would fail the transaction: when it does, the batches are walked for such
        records (``_screen``), those are refused on their own and the rest stored. Walking
        only after a failure keeps the common case free of it."""
        try:
            return self._ingest_batches(batches)
        except Exception:
            screened = [screen(records, nul=self._refuses_nul) for records, _ in batches]
            if not any(refused for _, refused in screened):
                raise
        results = self._ingest_batches([([records[i] for i in kept], project) for
                                        (records, project), (kept, _) in zip(batches, screened,
                                                                              strict=True)])  # fmt: skip
        return [with_refused(result, kept, refused)
                for result, (kept, refused) in zip(results, screened, strict=True)]  # fmt: skip

    def parse_ingest(self, records: Sequence[Any], project: str = "default") -> ParsedBatch:
        """The first half of ingest, which needs no database: each record checked and turned
        into its row. A collector runs it for the next batches while the store writes."""
        rejected: list[RejectedRecord] = []
        with self._timed("parse+build"):
            parsed = parse_batch(records, project, rejected, price=self._pricing())
        return ParsedBatch(project, len(records), parsed, rejected)

    def ingest_parsed(self, batches: Sequence[ParsedBatch]) -> list[IngestResult]:
        """The second half: the parsed batches stored in one transaction (``ingest_group``)."""
        timed = self._timed
        rejected = [list(b.rejected) for b in batches]
        accepted: list[list[str]] = [[] for _ in batches]
        # The batches of one project are stored as one: their records numbered on from each
        # other's (``starts``), the rejections and acceptances given back to their own batch.
        groups: dict[str, tuple[list[Parsed], list[int], list[int]]] = {}
        for n, batch in enumerate(batches):
            parsed, starts, members = groups.setdefault(batch.project, ([], [], []))
            base = starts[-1] + batches[members[-1]].size if members else 0
            starts.append(base)
            members.append(n)
            parsed.extend(_shifted(batch.parsed, base) if base else batch.parsed)
        states: list[_Batch] = []
        if any(parsed for parsed, _, _ in groups.values()):
            with timed("commit"), self._tx(write=True) as conn:
                for project, (parsed, starts, members) in groups.items():
                    if not parsed:
                        continue
                    state = _Batch(project)
                    got: list[RejectedRecord] = []
                    ok: list[tuple[int, str]] = []
                    rows = _Rows()
                    with timed("sessions"):
                        self._claim(conn, state, {p[1].id if len(p) == 2 else p[2][2]
                                                  for p in parsed})  # fmt: skip
                        self._build(parsed, state, rows, got, ok)
                    self._write(conn, state, rows)
                    states.append(state)
                    _give_back(got, ok, starts, members, rejected, accepted)
        self._after_write(states)
        out = []
        for acc, rej in zip(accepted, rejected, strict=True):
            rej.sort(key=lambda r: r.index)
            out.append(IngestResult(accepted=acc, rejected=rej))
        return out

    # Where ingest spends its time, per phase, when a caller (benchmarks/store_bench.py
    # --phases) sets a dict here; phases nest (commit holds the others), so the caller
    # subtracts. None: no clock is read.
    phase_times: dict[str, float] | None = None

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        times = self.phase_times
        if times is None:
            yield
            return
        t = time.perf_counter()
        try:
            yield
        finally:
            times[phase] = times.get(phase, 0.0) + time.perf_counter() - t

    def _after_write(self, states: list[_Batch]) -> None:
        """The hooks of what was just committed: rollups of the ended sessions, processing of
        the others that got data."""
        with self._timed("rollups"):
            for state in states:
                if state.ended:
                    self._on_session_end(state.ended)
                if state.activity:
                    self._after_ingest(
                        set(state.activity) - state.ended, state.talked - state.ended
                    )

    def _claim(self, conn: Conn, state: _Batch, sids: Iterable[str | None]) -> set[str]:
        """Claim the session ids (``_claim_sessions``) not known to ``state`` yet; the rows of
        those that existed join ``state.stored``. Returns the ids claimed here (new)."""
        stored = state.stored
        fresh, existing = self._claim_sessions(
            conn, state.project, [s for s in sids if s is not None and s not in stored], state.now
        )
        stored.update(existing)  # a claimed id is new: built as if it were not there
        return fresh

    def _unclaim(self, conn: Conn, ids: set[str]) -> None:
        """Remove the session rows claimed in this transaction that nothing was stored for."""
        for part in chunks(sorted(ids)):
            conn.run(f"DELETE FROM sessions WHERE id IN ({','.join('?' * len(part))})", part)

    def _build(
        self, parsed: list[Parsed], state: _Batch, rows: _Rows, rejected: list[RejectedRecord],
        accepted: list[tuple[int, str]],
    ) -> None:  # fmt: skip
        """Add the parsed records' rows to ``rows`` (their sessions claimed by now): merge
        session records, track activity, make stub sessions, reject another project's."""
        project, stored = state.project, state.stored
        # Row columns: id at 1, session_id at 2 (events and messages alike).
        events, messages, activity = rows.events, rows.messages, state.activity
        priced = rows.priced
        for item in parsed:
            if len(item) == 2:
                i, rec = item
                if stored.get(rec.id, {}).get("project", project) != project:
                    rejected.append(_foreign(i, rec.id, rec.id))
                    continue
                row = merge_session(stored.get(rec.id), rec, state.now)
                row["project"] = project
                stored[rec.id] = rows.sessions[rec.id] = row
                if row["status"] in TERMINAL:
                    state.ended.add(rec.id)
                accepted.append((i, rec.id))
                continue
            i, kind, row_t = item[0], item[1], item[2]
            sid = row_t[2]
            known = stored.get(sid) if sid is not None else None
            if known is not None and known.get("project", project) != project:
                rejected.append(_foreign(i, row_t[1], sid))
                continue
            if kind == "e":
                events.append(row_t)
                if len(item) == 4:  # a priced llm_call
                    priced.append((row_t, item[3]))
                ts = max(row_t[6], row_t[7] or 0)
            elif kind == "s":  # a score: its session must exist, but it is no activity
                rows.scores.append(row_t)
                ts = row_t[3]
            else:
                messages.append(row_t)
                state.talked.add(sid)
                ts = row_t[3]
            if sid is not None:
                if kind != "s":
                    activity[sid] = max(activity.get(sid, ts), ts)
                if known is None:  # data before its session record: a stub session
                    known = stored[sid] = {
                        "project": project, "status": "running", "started_us": None,
                        "sort_us": ts, "rec_us": None, "last_activity_us": ts,
                        **dict.fromkeys(("name", "user_id", "configs", "summary",
                                         "ended_us", "parent_session_id", "tags")),
                    }  # fmt: skip
                    rows.sessions[sid] = known
                elif known.get("status") in TERMINAL:
                    state.ended.add(sid)  # late data of an ended session
                elif known["started_us"] is None and ts < known["sort_us"]:
                    known["sort_us"] = ts  # a stub starts at its earliest item
                    rows.sessions[sid] = known
            accepted.append((i, row_t[1]))

    def _write(
        self, conn: Conn, state: _Batch, rows: _Rows,
        parts: Iterator[list[tuple[Any, ...]]] | None = None,
    ) -> None:  # fmt: skip
        """Store ``rows``; with ``parts``, the events as it gives them, building ``rows`` (the
        rest of it is complete once they are all in)."""
        costs: SessionCosts = {}
        if parts is not None:
            self._stream_events(conn, parts)
        elif rows.events:
            self._bulk_insert(conn, "events", EVENT_COLS, rows.events)
        if rows.priced:
            with self._timed("pricing"):
                costs = self._record_costs(conn, state.project, rows.priced)
        if rows.scores:
            self._record_scores(conn, state.project, rows.scores)
        if rows.messages:
            self._bulk_insert(conn, "messages", MESSAGE_COLS, rows.messages)
        # Sessions next (their rows were locked when claimed): each session of the batch takes
        # its new activity and the cost of its new calls in one row version. A session
        # written here anyway takes them in its upsert (its row is locked, so what was read
        # of it is current); the others in one update each. A separate cost update would
        # write each session's row once more, through every index of ``sessions``.
        activity, dirty = dict(state.activity), {}
        for sid, row in rows.sessions.items():
            at = activity.pop(sid, None)
            if at is not None:
                row["last_activity_us"] = max(row["last_activity_us"] or 0, at)
                dirty[sid] = state.now
        # The writes from here to the commit need no answer: sent as one round trip.
        with conn.pipelined() as pipe:
            self._write_tail(conn, state, rows, activity, dirty, costs)
            if pipe is not None and self.phase_times is not None:
                # Measuring (--phases): the server's time for them, apart from the commit's.
                # Not otherwise: the block's end syncs anyway, and a sync is a round trip.
                with self._timed("pipeline"):
                    pipe.sync()

    def _write_tail(
        self, conn: Conn, state: _Batch, rows: _Rows, activity: dict[str, int],
        dirty: dict[str, int], costs: SessionCosts,
    ) -> None:  # fmt: skip
        """The sessions of the batch, then its counts."""
        with self._timed("sessions"):
            self._upsert_sessions(conn, state.project, rows.sessions, dirty, costs)
            if activity:
                conn.many(
                    "UPDATE sessions SET last_activity_us = "
                    f"{self._greatest('COALESCE(last_activity_us, 0)', '?')}, dirty_us = ?, "
                    "r_cost_p = r_cost_p + ?, r_unpriced = r_unpriced + ? WHERE id = ?",
                    [(ts, state.now, *costs.pop(sid, _NO_COST), sid)
                     for sid, ts in sorted(activity.items())],
                )  # fmt: skip
            if costs:  # calls of sessions not written above (none that ingest makes)
                self._add_session_costs(conn, costs)
        # The count tables last, just before the commit: their rows are shared by every
        # writer of a project (a minute, a type), so another transaction that needs one waits
        # from here to the commit; the session rows above are this batch's own.
        if rows.events or rows.messages:
            self._apply_counts(conn)
