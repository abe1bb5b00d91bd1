"""Processing (the message buffer): per-session rollups kept up to date in the background.

New messages of a session are ``pending`` (state 0). A session is processed when it holds
``max_turns`` pending messages, or when nothing new has arrived for it for ``ttl_seconds``
(``dirty_us`` is the arrival time of its newest unprocessed data, so every arrival restarts
its timer: a true idle timer). Processing marks the pending messages ``in_process`` (1),
recomputes the session's rollup from its events and messages, and marks them ``observed`` (2).
The same worker times out sessions left ``running`` for ``auto_close_after``.

In-process readers (``LocalTransport``) call ``process_pending`` for the sessions they are about
to return, so a local Client or the CLI never shows a rollup that lags behind the data.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .._log import log
from .._signals import quiet_thread
from ._conn import chunks
from ._core import StoreCore
from ._keys import in_session
from ._models import ObservingStatus
from ._rows import loads, now_us, us_to_ts

__all__ = ["ProcessingMixin"]


def _num(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


class ProcessingMixin(StoreCore):
    max_turns = 20
    ttl_seconds = 60.0
    auto_close_after = 24 * 3600.0

    def _start_processing(self, *, max_turns: int, ttl_seconds: float, run: bool) -> None:
        if max_turns < 1 or ttl_seconds <= 0:
            raise ValueError("max_turns must be >= 1 and ttl_seconds > 0")
        self.max_turns = max_turns
        self.ttl_seconds = ttl_seconds
        self._proc_lock = threading.Lock()  # one session processed at a time, worker or flush()
        self._cond = threading.Condition()
        self._due: set[str] = set()
        self._wake_at = 0  # when the sleeping worker plans its next pass (0: it is awake)
        self._poked = False  # data arrived during a pass: plan the next sleep anew
        self._stopping = False
        self._worker: threading.Thread | None = None
        if run:
            self._worker = quiet_thread(target=self._run, name="agentlog-store-processing",
                                        daemon=True)  # fmt: skip
            self._worker.start()

    def _stop_processing(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        worker.join(timeout=10.0)
        self._worker = None

    def _after_ingest(self, session_ids: set[str], talked: set[str]) -> None:
        if getattr(self, "_worker", None) is None or not session_ids:
            return
        # Only a message insert adds to a session's unprocessed turns: a batch without
        # messages (most of a collector's) costs no query and no transaction here.
        due = self._over_turns(talked) if talked else set()
        # The worker is woken only when it has work now, or when these sessions' idle timers
        # run out before the pass it planned: a wake-up per batch would cost a pass per batch.
        soon = now_us() + int(self.ttl_seconds * 1_000_000)
        with self._cond:
            if not self._wake_at:  # mid-pass: it may have read the timers before this batch
                self._poked = True
            if due or soon < self._wake_at:
                self._due |= due
                self._cond.notify_all()

    def _over_turns(self, session_ids: set[str]) -> set[str]:
        """Those of the sessions with ``max_turns`` unprocessed messages or more."""
        due: set[str] = set()
        with self._tx() as conn:
            for part in chunks(sorted(session_ids)):
                marks = ",".join("?" * len(part))
                due.update(r[0] for r in conn.q(
                    f"SELECT session_id FROM messages WHERE session_id IN ({marks}) AND "
                    "state = 0 GROUP BY session_id HAVING count(*) >= ?",
                    (*part, self.max_turns)))  # fmt: skip
        return due

    def _on_session_end(self, session_ids: set[str]) -> None:
        # A session that ended is read right away (lists, the UI, a collector's client): its
        # rollup is made current now, not when its idle TTL runs out. Only sessions with data
        # not rolled up yet (dirty) need it: a batch of finished sessions without new data
        # (an import) costs one query, not a processing pass per session.
        due: list[str] = []
        with self._tx() as conn:
            for part in chunks(sorted(session_ids)):
                marks = ",".join("?" * len(part))
                due += [r[0] for r in conn.q(f"SELECT id FROM sessions WHERE id IN ({marks}) "
                                             "AND dirty_us IS NOT NULL", part)]  # fmt: skip
        for sid in sorted(due):
            self._process(sid)

    def _run(self) -> None:
        next_close = 0.0
        retry: set[str] = set()  # the sessions due in a pass that failed: due in the next one
        while True:
            with self._cond:
                if self._stopping:
                    return
                due, self._due = self._due | retry, set()
            retry = set()
            ttl = int(self.ttl_seconds * 1_000_000)
            read_at = now_us()
            try:
                now = read_at
                with self._tx() as conn:
                    rows = conn.q("SELECT id FROM sessions WHERE dirty_us IS NOT NULL AND "
                                  "dirty_us <= ?", (now - ttl,))  # fmt: skip
                for sid in sorted(due | {r[0] for r in rows}):
                    self._process(sid)
                if now >= next_close:
                    self.close_stale_sessions(auto_close_after=self.auto_close_after)
                    next_close = now + min(60.0, self.auto_close_after / 4) * 1_000_000
                read_at = now_us()
                with self._tx() as conn:
                    row = conn.one("SELECT min(dirty_us) FROM sessions WHERE dirty_us IS NOT NULL")
                wake = min(next_close, row[0] + ttl if row and row[0] is not None else next_close)
                wait = max(0.0, (wake - now_us()) / 1_000_000)
            except Exception:  # a failing pass is logged and retried; the worker keeps going
                log.exception("agentlog store: processing pass failed")
                wait = 1.0
                # Ingest asks about max_turns once, after the batch that brought the messages:
                # the sessions it found due must not be lost with the pass.
                retry = due
            with self._cond:
                if self._poked:  # a session dirtied after the read above is due at the earliest
                    wait = min(wait, max(0.0, (read_at + ttl - now_us()) / 1_000_000))
                    self._poked = False
                if not self._stopping and not self._due:
                    self._wake_at = now_us() + int(wait * 1_000_000)
                    self._cond.wait(timeout=wait)
                    self._wake_at = 0

    def _process(self, session_id: str) -> None:
        with self._proc_lock:
            marked = now_us()
            with self._tx(write=True) as conn:
                row = conn.one("SELECT project FROM sessions WHERE id = ?", (session_id,))
                if row is None:
                    return
                project = row[0]
                marked_any = conn.run("UPDATE messages SET state = 1 WHERE session_id = ? AND "
                                      "state = 0", (session_id,)) > 0  # fmt: skip
            with self._tx(write=True) as conn:
                said, args = in_session(conn.dialect, "messages", project, session_id)
                turns, last_msg = conn.one(
                    "SELECT SUM(CASE WHEN role = 'user' THEN 1 ELSE 0 END), max(ts_us) FROM "
                    f"messages WHERE {said} AND state > 0", args) or (0, None)  # fmt: skip
                mine, args = in_session(conn.dialect, "events", project, session_id)
                tools, errors, last_ev = conn.one(
                    "SELECT SUM(CASE WHEN type = 'tool_call' THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN status = 'error' OR type = 'error' THEN 1 ELSE 0 END), "
                    f"max(COALESCE(end_ts_us, ts_us)) FROM events WHERE {mine}", args) or (0, 0, None)  # fmt: skip
                tokens_in = tokens_out = 0
                for (data,) in conn.q(f"SELECT data FROM events WHERE {mine} AND type = 'llm_call'",
                                      args):  # fmt: skip
                    usage = (loads(data) or {}).get("usage") or {}
                    if isinstance(usage, dict):
                        tokens_in += _num(usage.get("input_tokens", usage.get("prompt_tokens")))
                        tokens_out += _num(usage.get("output_tokens",
                                                     usage.get("completion_tokens")))  # fmt: skip
                last = max((x for x in (last_msg, last_ev) if x is not None), default=None)
                figures = (turns or 0, tokens_in, tokens_out, tools or 0, errors or 0, last)
                current = conn.one("SELECT r_turns, r_tokens_in, r_tokens_out, r_tool_calls, "
                                   "r_errors, r_last_us, r_updated_us FROM sessions WHERE id = ?",
                                   (session_id,))  # fmt: skip
                # Processing again what is already rolled up (a re-sent batch) changes nothing,
                # not even updated_at: ingest stays idempotent.
                changed = (marked_any or current is None or current[6] is None
                           or tuple(current[:6]) != figures)  # fmt: skip
                conn.run(
                    "UPDATE sessions SET r_turns = ?, r_tokens_in = ?, r_tokens_out = ?, "
                    "r_tool_calls = ?, r_errors = ?, r_last_us = ?, "
                    "r_updated_us = CASE WHEN ? THEN ? ELSE r_updated_us END, "
                    "dirty_us = CASE WHEN dirty_us <= ? THEN NULL ELSE dirty_us END WHERE id = ?",
                    (*figures, changed, now_us(), marked, session_id),
                )  # fmt: skip
                conn.run("UPDATE messages SET state = 2 WHERE session_id = ? AND state = 1",
                         (session_id,))  # fmt: skip

    def process_pending(
        self, session_ids: Sequence[str] | None = None, *, project: str = "default"
    ) -> list[str]:
        """Process now those of ``session_ids`` (every session of ``project`` when None) that
        have data not yet in their rollup; returns their ids. Unknown ids are ignored."""
        sql = "SELECT id FROM sessions WHERE project = ? AND dirty_us IS NOT NULL"
        due: list[str] = []
        with self._tx() as conn:
            if session_ids is None:
                due = [r[0] for r in conn.q(sql, (project,))]
            else:
                for part in chunks(sorted(set(session_ids))):
                    marks = ",".join("?" * len(part))
                    due += [r[0] for r in conn.q(f"{sql} AND id IN ({marks})", (project, *part))]
        for sid in sorted(due):
            self._process(sid)
        return sorted(due)

    def messages_observing_status(
        self, session_id: str, *, project: str = "default"
    ) -> ObservingStatus:
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
            counts = dict(conn.q("SELECT state, count(*) FROM messages WHERE project = ? AND "
                                 "session_id = ? GROUP BY state", (project, session_id)))  # fmt: skip
            row = conn.one("SELECT r_updated_us, dirty_us FROM sessions WHERE id = ?",
                           (session_id,))  # fmt: skip
        updated = max((x for x in (row or ()) if x is not None), default=None)
        return ObservingStatus(session_id=session_id, observed=counts.get(2, 0),
                               in_process=counts.get(1, 0), pending=counts.get(0, 0),
                               updated_at=us_to_ts(updated))  # fmt: skip

    def flush(self, session_id: str, *, project: str = "default") -> ObservingStatus:
        """Process the session's pending messages now and return once that is done."""
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
        self._process(session_id)
        return self.messages_observing_status(session_id, project=project)
