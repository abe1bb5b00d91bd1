"""Sessions and their configs, shared by both SQL backends."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any

import orjson

from .._errors import ConflictError, InvalidInputError, NotFoundError
from .._ids import format_uuid, new_id, new_id_str
from .._records import SessionRecord
from ._conn import Conn
from ._core import StoreCore
from ._cursor import check_limit, decode_cursor, encode_cursor
from ._keys import in_session
from ._models import Page, Session
from ._rollup import remove_session
from ._rows import (
    EVENT_COLS,
    MESSAGE_COLS,
    SESSION_COLS,
    check_status,
    dumps,
    merge_session,
    now_us,
    session_from_row,
    to_us,
    us_to_ts,
)
from ._scores import score_filter, tags_filter

__all__ = ["SessionsMixin"]

AUTO_CLOSE_AFTER = 24 * 3600.0


def _check_configs(configs: Any, what: str = "configs") -> dict[str, Any]:
    if not isinstance(configs, dict):
        raise InvalidInputError(f"{what}: must be a JSON object, got {type(configs).__name__}")
    try:
        return dict(orjson.loads(dumps(configs)))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what}: not JSON-serializable ({exc})") from None


class SessionsMixin(StoreCore):
    auto_close_after: float = AUTO_CLOSE_AFTER

    def _session(self, conn: Conn, session_id: str, project: str) -> Session:
        row = conn.one(f"SELECT {SESSION_COLS} FROM sessions WHERE id = ? AND project = ?",
                       (session_id, project))  # fmt: skip
        if row is None:
            raise NotFoundError(f"session {session_id!r} not found")
        return session_from_row(row)

    def get_session(self, session_id: str, *, project: str = "default") -> Session:
        with self._tx() as conn:
            return self._session(conn, session_id, project)

    def create_session(
        self, *, id: str | None = None, name: str | None = None, user: str | None = None,
        configs: dict[str, Any] | None = None, parent_session_id: str | None = None,
        started_at: str | None = None, tags: list[str] | None = None, project: str = "default",
    ) -> Session:  # fmt: skip
        if configs is not None:
            configs = _check_configs(configs)
        rec_id = id if id is not None else new_id_str()
        if not isinstance(rec_id, str) or not 1 <= len(rec_id) <= 200:
            raise InvalidInputError("id: must be a string of 1 to 200 characters")
        now = now_us()
        try:
            rec = SessionRecord(id=rec_id, name=name, user=user, configs=configs,
                                status="running", started_at=started_at or us_to_ts(now),
                                parent_session_id=parent_session_id, tags=tags)  # fmt: skip
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
        with self._tx(write=True) as conn:
            fresh, existing = self._claim_sessions(conn, project, [rec_id], now)
            if not fresh:
                if existing[rec_id]["project"] != project:
                    raise ConflictError(f"session id {rec_id!r} belongs to another project")
                return self._session(conn, rec_id, project)  # creating again is idempotent
            row = merge_session(None, rec, now)
            self._upsert_sessions(conn, project, {rec_id: row})
            return self._session(conn, rec_id, project)

    def list_sessions(
        self, *, user: str | None = None, filter_by_configs: dict[str, Any] | None = None,
        status: str | None = None, name: str | None = None, limit: int = 50,
        cursor: str | None = None, time_desc: bool = True, tags: list[str] | None = None,
        score: Any = None, order_by_score: str | None = None, project: str = "default",
    ) -> Page[Session]:  # fmt: skip
        """Sessions, newest first (``time_desc``); ``tags``: carrying all of them; ``score``:
        ``{"helpful": (">=", 4)}`` (or ``"helpful>=4"``) on the latest score of each name;
        ``order_by_score``: by that score, highest first with ``time_desc`` (sessions without
        it are left out)."""
        check_limit(limit)
        where, params = ["project = ?"], [project]
        if user is not None:
            where.append("user_id = ?")
            params.append(user)
        if status is not None:
            where.append("status = ?")
            params.append(check_status(status))
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if filter_by_configs is not None:
            wanted = _check_configs(filter_by_configs, "filter_by_configs")
            if wanted:  # {} means no filter at all
                sql, args = self._contains_filter(wanted)
                where.append(sql)
                params.extend(args)
        for conds, args in (tags_filter(self.dialect, tags) if tags else ([], []),
                            score_filter(score) if score else ([], [])):  # fmt: skip
            where += conds
            params += args
        if order_by_score is not None:
            return self._list_by_score(where, params, order_by_score, limit, cursor, time_desc)
        key = decode_cursor(cursor, "sessions")
        op, order = ("<", "DESC") if time_desc else (">", "ASC")
        if key is not None:
            where.append(f"(sort_us, id) {op} (?, ?)")
            params.extend(key)
        sql = (f"SELECT {SESSION_COLS} FROM sessions WHERE {' AND '.join(where)} "
               f"ORDER BY sort_us {order}, id {order} LIMIT ?")  # fmt: skip
        with self._tx() as conn:
            rows = conn.q(sql, [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor("sessions", [rows[-1][17], rows[-1][0]]) if more else None
        return Page[Session](items=[session_from_row(r) for r in rows], next_cursor=nxt,
                             has_more=more)  # fmt: skip

    def _list_by_score(
        self, where: list[str], params: list[Any], name: str, limit: int, cursor: str | None,
        desc: bool,
    ) -> Page[Session]:  # fmt: skip
        key = decode_cursor(cursor, "sessions_by_score")
        op, order = ("<", "DESC") if desc else (">", "ASC")
        outer = ["sk IS NOT NULL"]
        outer_params: list[Any] = []
        if key is not None:
            outer.append(f"(sk, sort_us, id) {op} (?, ?, ?)")
            outer_params.extend(key)
        sql = (f"SELECT * FROM (SELECT {SESSION_COLS}, (SELECT num FROM session_scores ss WHERE "
               "ss.project = sessions.project AND ss.session_id = sessions.id AND ss.name = ?) "
               f"AS sk FROM sessions WHERE {' AND '.join(where)}) t WHERE {' AND '.join(outer)} "
               f"ORDER BY sk {order}, sort_us {order}, id {order} LIMIT ?")  # fmt: skip
        with self._tx() as conn:
            rows = conn.q(sql, [name, *params, *outer_params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = (encode_cursor("sessions_by_score", [rows[-1][-1], rows[-1][17], rows[-1][0]])
               if more else None)  # fmt: skip
        return Page[Session](items=[session_from_row(r[:-1]) for r in rows], next_cursor=nxt,
                             has_more=more)  # fmt: skip

    @abstractmethod
    def _contains_filter(self, wanted: dict[str, Any]) -> tuple[str, list[Any]]:
        """SQL (and its parameters) true where ``configs @> wanted`` (PostgreSQL semantics)."""

    def delete_session(self, session_id: str, *, project: str = "default") -> None:
        with self._tx(write=True) as conn:
            self._require_session(conn, session_id, project)
            remove_session(conn, project, session_id)
            self._forget_session_extras(conn, project, session_id)
            for table in ("events", "messages"):
                cond, args = in_session(conn.dialect, table, project, session_id)
                conn.run(f"DELETE FROM {table} WHERE {cond}", args)
            conn.run("DELETE FROM sessions WHERE id = ?", (session_id,))

    def copy_session(self, session_id: str, *, project: str = "default") -> Session:
        """A new session with the same configs, events and messages and the same relative
        timing, shifted so that its last moment is now: nothing of the copy lies in the future,
        so every count and time window includes it the moment this returns."""
        now = now_us()
        new_sid = new_id_str()
        with self._tx(write=True) as conn:
            self._require_session(conn, session_id, project)
            cols = ("name, user_id, configs, status, summary, started_us, ended_us, "
                    "parent_session_id, rec_us, sort_us, last_activity_us, dirty_us, r_turns, "
                    "r_tokens_in, r_tokens_out, r_tool_calls, r_errors, r_last_us, r_updated_us, "
                    "tags")  # fmt: skip
            src = conn.one(f"SELECT {cols} FROM sessions WHERE id = ?", (session_id,))
            assert src is not None
            cond, args = in_session(conn.dialect, "events", project, session_id)
            events = conn.q(f"SELECT {EVENT_COLS} FROM events WHERE {cond} ORDER BY ts_us, id",
                            args)  # fmt: skip
            cond, args = in_session(conn.dialect, "messages", project, session_id)
            msgs = conn.q(f"SELECT {MESSAGE_COLS} FROM messages WHERE {cond} ORDER BY ts_us, id",
                          args)  # fmt: skip
            times = [src[5], src[6], src[9], *(e[6] for e in events), *(e[7] for e in events),
                     *(m[3] for m in msgs)]  # fmt: skip
            shift = now - max(t for t in times if t is not None)
            moved = [v + shift if v is not None and i in (5, 6, 8, 9, 10, 11, 17) else v
                     for i, v in enumerate(src)]  # fmt: skip
            marks = ", ".join(self.json_param if i in (2, 19) else "?" for i in range(len(src)))
            conn.run(f"INSERT INTO sessions (id, project, {cols}) VALUES (?, ?, {marks})",
                     [new_sid, project, *moved])  # fmt: skip
            id_map = {ev[1]: format_uuid(new_id((ev[6] + shift) * 1000)) for ev in events}
            rows = [(project, id_map[e[1]], new_sid, id_map.get(e[3], e[3]), e[4], e[5],
                     e[6] + shift, None if e[7] is None else e[7] + shift, *e[8:])
                    for e in events]  # fmt: skip
            if rows:
                events, priced = self._price_rows(rows)
                self._bulk_insert(conn, "events", EVENT_COLS, events)
                self._add_session_costs(conn, self._record_costs(conn, project, priced))
            mrows = [(project, format_uuid(new_id((m[3] + shift) * 1000)), new_sid, m[3] + shift,
                      m[4], m[5], m[6], m[7])
                     for m in msgs]  # fmt: skip
            if mrows:
                self._bulk_insert(conn, "messages", MESSAGE_COLS, mrows)
            if rows or mrows:
                self._apply_counts(conn)
            return self._session(conn, new_sid, project)

    def close_session(
        self, session_id: str, *, status: str = "success", summary: str | None = None,
        project: str = "default",
    ) -> Session:  # fmt: skip
        check_status(status, allow_running=False)
        now = now_us()
        with self._tx(write=True) as conn:
            self._require_session(conn, session_id, project)
            conn.run(
                "UPDATE sessions SET status = ?, summary = COALESCE(?, summary), ended_us = ?, "
                f"rec_us = ?, last_activity_us = {self._greatest('COALESCE(last_activity_us, 0)', '?')} "
                "WHERE id = ?", (status, summary, now, now, now, session_id),
            )  # fmt: skip
        self._on_session_end({session_id})
        return self.get_session(session_id, project=project)

    def close_stale_sessions(
        self, *, auto_close_after: float | None = None, now: datetime | None = None,
        project: str | None = None,
    ) -> list[str]:  # fmt: skip
        """Sessions still ``running`` with no activity for ``auto_close_after`` seconds become
        ``timeout``, ended at their last activity; returns their ids (all projects when None)."""
        after = self.auto_close_after if auto_close_after is None else auto_close_after
        cutoff = (to_us(now) if now is not None else now_us()) - int(after * 1_000_000)
        sql = ("UPDATE sessions SET status = 'timeout', ended_us = COALESCE(last_activity_us, "
               "sort_us), rec_us = COALESCE(last_activity_us, sort_us) WHERE status = 'running' "
               "AND COALESCE(last_activity_us, sort_us) < ?")  # fmt: skip
        params: list[Any] = [cutoff]
        if project is not None:
            sql += " AND project = ?"
            params.append(project)
        with self._tx(write=True) as conn:
            return sorted(r[0] for r in conn.q(sql + " RETURNING id", params))

    # -- configs -------------------------------------------------------------------------------
    def get_configs(self, session_id: str, *, project: str = "default") -> dict[str, Any] | None:
        return self.get_session(session_id, project=project).configs

    def update_configs(
        self, session_id: str, configs: dict[str, Any] | None, *, project: str = "default"
    ) -> dict[str, Any] | None:
        """Replace all configs (keys not given are gone; ``None`` clears them)."""
        text = None if configs is None else dumps(_check_configs(configs))
        with self._tx(write=True) as conn:
            self._require_session(conn, session_id, project)
            conn.run(f"UPDATE sessions SET configs = {self.json_param} WHERE id = ?",
                     (text, session_id))  # fmt: skip
            return self._session(conn, session_id, project).configs

    def patch_configs(
        self, session_id: str, patch: dict[str, Any], *, project: str = "default"
    ) -> dict[str, Any]:
        """Merge top-level keys, ``None`` deleting one; the read and write hold the row lock."""
        patch = _check_configs(patch, "patch")
        with self._tx(write=True) as conn:
            row = conn.one(f"SELECT project, configs FROM sessions WHERE id = ?{self._for_update}",
                           (session_id,))  # fmt: skip
            if row is None or row[0] != project:
                raise NotFoundError(f"session {session_id!r} not found")
            current = row[1]
            merged: dict[str, Any] = dict(
                (orjson.loads(current) if isinstance(current, str) else current) or {}
            )
            for key, value in patch.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            conn.run(f"UPDATE sessions SET configs = {self.json_param} WHERE id = ?",
                     (dumps(merged), session_id))  # fmt: skip
            return merged
