"""Events and messages of one session: adding them and reading them page by page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._errors import InvalidInputError
from .._ids import format_uuid, new_id
from ._conn import Conn
from ._core import StoreCore
from ._cursor import after_key, check_limit, decode_cursor, encode_cursor
from ._keys import in_session
from ._models import Event, Message, MessagesPage, Page
from ._rows import EVENT_COLS, MESSAGE_COLS, event_from_row, message_from_row, now_us, us_to_ts

__all__ = ["TimelineMixin", "role_of", "types_list"]

_MAX_KEY = 2**62  # beyond any timestamp: the open end of the last page's event window


def types_list(value: str | Sequence[str] | None, what: str = "type") -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    if not items or not all(isinstance(t, str) and t for t in items):
        raise InvalidInputError(f"{what}: must be a non-empty string or list of strings")
    return items


def role_of(blob: Any, format: str, role: str | None) -> str:
    if role:
        return role
    found = blob.get("role") if isinstance(blob, dict) else None
    if isinstance(found, str) and found:
        return found
    if format == "raw":
        return "user"
    raise InvalidInputError(f"blob: no 'role' in this {format} message; pass role=...")


class TimelineMixin(StoreCore):
    def _add_one(
        self, session_id: str, fields: dict[str, Any], project: str, table: str, cols: str
    ) -> tuple[Any, ...]:
        """Record one event or message through ingest (same validation), then read it back."""
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
        now = now_us()
        record = {**fields, "id": format_uuid(new_id(now * 1000)), "session_id": session_id,
                  "ts": fields.get("ts") or us_to_ts(now)}  # fmt: skip
        result = self.ingest([record], project=project)
        if result.rejected:
            raise InvalidInputError(result.rejected[0].reason)
        with self._tx() as conn:
            row = conn.one(f"SELECT {cols} FROM {table} WHERE project = ? AND id = ?",
                           (project, record["id"]))  # fmt: skip
        assert row is not None
        return row

    def add_event(
        self, session_id: str, *, type: str, name: str | None = None,
        data: dict[str, Any] | None = None, ts: str | None = None, project: str = "default",
    ) -> Event:  # fmt: skip
        if data is not None and not isinstance(data, dict):
            raise InvalidInputError(f"data: must be a JSON object, got {data.__class__.__name__}")
        fields = {"kind": "event", "type": type, "name": name, "ts": ts, "data": data or {}}
        return event_from_row(self._add_one(session_id, fields, project, "events", EVENT_COLS))

    def get_events(
        self, session_id: str, *, limit: int = 50, cursor: str | None = None,
        time_desc: bool = False, type: str | Sequence[str] | None = None,
        name: str | None = None, project: str = "default",
    ) -> Page[Event]:  # fmt: skip
        check_limit(limit)
        types = types_list(type)
        key = decode_cursor(cursor, "events")
        mine, params = in_session(self.dialect, "events", project, session_id)
        where = [mine]
        if types:
            where.append(f"type IN ({','.join('?' * len(types))})")
            params.extend(types)
        if name is not None:
            where.append("name = ?")
            params.append(name)
        order = "DESC" if time_desc else "ASC"
        past, vals = after_key(key, time_desc)
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
            rows = conn.q(f"SELECT {EVENT_COLS} FROM events WHERE {' AND '.join(where)}{past} "
                          f"ORDER BY ts_us {order}, id {order} LIMIT ?",
                          [*params, *vals, limit + 1])  # fmt: skip
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor("events", [rows[-1][6], rows[-1][1]]) if more else None
        return Page[Event](items=[event_from_row(r) for r in rows], next_cursor=nxt, has_more=more)

    def store_message(
        self, session_id: str, blob: Any, *, format: str = "openai", role: str | None = None,
        ts: str | None = None, project: str = "default",
    ) -> Message:  # fmt: skip
        if format not in ("openai", "anthropic", "raw"):
            raise InvalidInputError(f"format: must be openai, anthropic or raw; got {format!r}")
        fields = {"kind": "message", "ts": ts, "role": role_of(blob, format, role),
                  "format": format, "blob": blob}  # fmt: skip
        return message_from_row(self._add_one(session_id, fields, project, "messages",
                                              MESSAGE_COLS))  # fmt: skip

    def get_messages(
        self, session_id: str, *, limit: int = 50, cursor: str | None = None,
        time_desc: bool = False, with_events: bool = False, max_events: int = 1000,
        project: str = "default",
    ) -> MessagesPage:  # fmt: skip
        """A page of messages; with ``with_events`` also the events of the page's window.

        Pages cut the session's timeline (ordered by time, then id) at keys: a page holds the
        messages after the previous cut up to its own cut, and with ``with_events`` every event
        in that same interval. The first page's interval is open at the start and the last
        page's at the end, so consecutive pages tile the timeline and every event appears on
        exactly one page, including events before the first and after the last message. A page
        ends early when its window would hold more than ``max_events`` events; a session with
        no messages therefore comes back as pages of events alone.
        """
        check_limit(limit)
        check_limit(max_events, high=10_000)
        key = decode_cursor(cursor, "messages")
        end_op = ">=" if time_desc else "<="
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
            msgs = self._window(conn, "messages", MESSAGE_COLS,
                                *in_session(self.dialect, "messages", project, session_id), key,
                                time_desc, limit + 1)  # fmt: skip
            more = len(msgs) > limit
            msgs = msgs[:limit]
            cut: list[Any] | None = [msgs[-1][3], msgs[-1][1]] if more else None
            events: list[tuple[Any, ...]] = []
            if with_events:
                cond, params = in_session(self.dialect, "events", project, session_id)
                if cut is not None:
                    cond += f" AND (ts_us, id) {end_op} (?, ?)"
                    params = [*params, *cut]
                events = self._window(conn, "events", EVENT_COLS, cond, params, key,
                                      time_desc, max_events + 1)  # fmt: skip
                if len(events) > max_events:
                    events = events[:max_events]
                    cut = [events[-1][6], events[-1][1]]
                    msgs = [m for m in msgs if _within((m[3], m[1]), cut, time_desc)]
                    more = True
        nxt = encode_cursor("messages", cut) if more and cut is not None else None
        return MessagesPage(items=[message_from_row(m) for m in msgs], next_cursor=nxt,
                            has_more=more, events=[event_from_row(e) for e in events])  # fmt: skip

    @staticmethod
    def _window(
        conn: Conn, table: str, cols: str, cond: str, params: list[Any],
        key: list[Any] | None, desc: bool, limit: int,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        order = "DESC" if desc else "ASC"
        past, vals = after_key(key, desc)
        return conn.q(f"SELECT {cols} FROM {table} WHERE {cond}{past} "
                      f"ORDER BY ts_us {order}, id {order} LIMIT ?", [*params, *vals, limit])  # fmt: skip


def _within(item: tuple[Any, Any], cut: list[Any], desc: bool) -> bool:
    return item >= tuple(cut) if desc else item <= tuple(cut)
