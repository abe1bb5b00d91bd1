"""Sessions as agentlog records again: what ``agentlog export`` writes or replays.

Each session comes out as one session record (its merged state: the final status and both
times) followed by its events and messages in time order, every record with the id it is
stored under, so importing an export anywhere (``agentlog import``, ``/v1/ingest``) gives the
same sessions, and importing it twice stores nothing twice. The same store exported twice gives
the same bytes.

A local SQLite or PostgreSQL store is read with plain SQL in large chunks, the stored JSON text
spliced into the output unparsed (an export of millions of events is bound by the disk, not by
Python); any other source (a collector over HTTP) is read through the Client API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson

from ._ids import format_ts
from .store._keys import session_key

__all__ = ["SessionFilter", "encode", "export_records", "session_record"]

_PAGE = 200  # sessions per listing page (the API's maximum)
_CHUNK = 100  # sessions per SQL read


class SessionFilter:
    """Which sessions: named ids, or the listing filters of ``agentlog sessions``."""

    def __init__(self, *, ids: Sequence[str] = (), user: str | None = None,
                 status: str | None = None, name: str | None = None,
                 configs: dict[str, Any] | None = None, oldest_first: bool = True) -> None:  # fmt: skip
        self.ids = list(dict.fromkeys(ids))
        self.listing = {"user": user, "status": status, "name": name,
                        "filter_by_configs": configs or None}  # fmt: skip
        self.oldest_first = oldest_first

    def sessions(self, client: Any) -> Iterator[Any]:
        # A local store is asked directly: the Client would bring every listed session's
        # rollups up to date first, which an export does not need (it writes no rollups).
        store = _sql_store(client)
        get: Callable[[str], Any] = client.sessions.get
        list_: Callable[..., Any] = client.sessions.list
        if store is not None:
            get = functools.partial(store.get_session, project=client.transport.project)
            list_ = functools.partial(store.list_sessions, project=client.transport.project)
        if self.ids:
            for sid in self.ids:
                yield get(sid)
            return
        cursor = None
        while True:
            page = list_(limit=_PAGE, cursor=cursor, time_desc=not self.oldest_first,
                         **self.listing)  # fmt: skip
            yield from page.items
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor


def session_record(s: Any) -> dict[str, Any]:
    return {"v": 1, "kind": "session", "id": s.id, "name": s.name, "user": s.user,
            "configs": s.configs, "status": s.status, "summary": s.summary,
            "started_at": s.started_at, "ended_at": s.ended_at,
            "parent_session_id": s.parent_session_id,
            "tags": list(getattr(s, "tags", None) or ()) or None}  # fmt: skip


def encode(rec: dict[str, Any]) -> bytes:
    return orjson.dumps(rec)


def export_records(client: Any, which: SessionFilter) -> Iterator[tuple[int, list[bytes]]]:
    """``(sessions done so far, encoded records)`` chunk after chunk, in session order: each
    session's record, its events and messages in time order, then its scores."""
    store = _sql_store(client)
    scores: Callable[[str], Any] = client.sessions.get_scores
    if store is not None:
        scores = functools.partial(store.get_scores, project=client.transport.project)
    done = 0
    for chunk in _chunks(which.sessions(client), _CHUNK):
        items: dict[str, list[bytes]]
        if store is not None and store.dialect == "sqlite":
            items = _sqlite_chunk(store, client.transport.project, chunk)
        elif store is not None:
            items = _sql_chunk(store, client.transport.project, chunk)
        else:
            items = {s.id: list(_api_items(client, s.id)) for s in chunk}
        lines: list[bytes] = []
        for s in chunk:
            lines.append(encode(session_record(s)))
            lines.extend(items[s.id])
            lines.extend(encode({"v": 1, **sc.model_dump(mode="json")}) for sc in scores(s.id))
        done += len(chunk)
        yield done, lines


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _api_items(client: Any, sid: str) -> Iterator[bytes]:
    cursor = None
    while True:
        page = client.query.iterate_events(session_id=sid, cursor=cursor, limit=1000)
        for item in page.events:
            rec = item.model_dump(
                mode="json", exclude={"text"} if item.kind == "message" else set()
            )
            kind = rec.pop("kind")
            keys = _MESSAGE_KEYS if kind == "message" else _EVENT_KEYS
            yield encode({"v": 1, "kind": kind, **{k: rec.get(k) for k in keys}})
        if not page.next_cursor:
            return
        cursor = page.next_cursor


_EVENT_KEYS = ("id", "session_id", "parent_id", "type", "name", "ts", "end_ts", "duration_ms",
               "status", "partial", "data", "error", "trace_id", "span_id")  # fmt: skip
_MESSAGE_KEYS = ("id", "session_id", "ts", "role", "format", "blob")


# -- the fast path: a local SQL store ---------------------------------------------------------


def _sql_store(client: Any) -> Any:
    store = getattr(getattr(client, "transport", None), "store", None)
    if getattr(store, "dialect", "") in ("sqlite", "postgres") and hasattr(store, "_tx"):
        return store
    return None


def _json(value: Any) -> Any:
    """Stored JSON text goes out as it is; a decoded value (a driver that parses) re-encoded."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return orjson.Fragment(value)
    return value


def _ts(us: int | None) -> str | None:
    return None if us is None else format_ts(us * 1000)


def _sql_chunk(store: Any, project: str, sessions: list[Any]) -> dict[str, list[bytes]]:
    ids = [s.id for s in sessions]
    marks = ",".join("?" * len(ids))
    items: dict[str, list[tuple[int, str, bytes]]] = {sid: [] for sid in ids}
    dumps = orjson.dumps
    frag = orjson.Fragment
    keyed, hashed = session_key(store.dialect, "events", ids)
    with store._tx() as conn:
        for (rid, sid, parent, etype, name, ts, end, dur, status, partial, data, err, tid,
             spid) in conn.q(
                "SELECT id, session_id, parent_id, type, name, ts_us, end_ts_us, duration_ms, "
                "status, partial, data, error, trace_id, span_id FROM events "
                f"WHERE project = ? AND session_id IN ({marks}){keyed}",
                [project, *ids, *hashed]):  # fmt: skip
            rec = {"v": 1, "kind": "event", "id": rid, "session_id": sid, "parent_id": parent,
                   "type": etype, "name": name, "ts": format_ts(ts * 1000),
                   "end_ts": None if end is None else format_ts(end * 1000),
                   "duration_ms": dur, "status": status, "partial": bool(partial),
                   "data": frag(data) if isinstance(data, str) else data, "error": _json(err),
                   "trace_id": tid, "span_id": spid}  # fmt: skip
            items[sid].append((ts, rid, dumps(rec)))
        for rid, sid, ts, role, fmt, blob in conn.q(
                "SELECT id, session_id, ts_us, role, format, blob FROM messages "
                f"WHERE project = ? AND session_id IN ({marks})", [project, *ids]):  # fmt: skip
            rec = {"v": 1, "kind": "message", "id": rid, "session_id": sid,
                   "ts": format_ts(ts * 1000), "role": role, "format": fmt, "blob": _json(blob)}  # fmt: skip
            items[sid].append((ts, rid, dumps(rec)))
    # time order, ties by id: the order every read uses
    return {sid: [line for _, _, line in sorted(mine)] for sid, mine in items.items()}


# SQLite writes most of each line (json_quote and the stored JSON text, in C); Python adds the
# times (format_ts caches the date part per second, where strftime costs microseconds a row)
# and duration_ms (SQLite prints a REAL with 15 digits: this float is formatted here, exactly).
_Q = "json_quote"
_SQLITE_ITEMS = f"""
SELECT session_id, ts_us, id,
    '{{"v":1,"kind":"event","id":' || {_Q}(id) || ',"session_id":' || {_Q}(session_id) ||
    ',"parent_id":' || {_Q}(parent_id) || ',"type":' || {_Q}(type) || ',"name":' || {_Q}(name),
    end_ts_us, duration_ms,
    ',"status":' || {_Q}(status) || ',"partial":' || CASE WHEN partial THEN 'true' ELSE 'false' END
    || ',"data":' || data || ',"error":' || COALESCE(error, 'null') || ',"trace_id":' ||
    {_Q}(trace_id) || ',"span_id":' || {_Q}(span_id) || '}}'
FROM events WHERE project = ? AND session_id IN (MARKS)
UNION ALL
SELECT session_id, ts_us, id,
    '{{"v":1,"kind":"message","id":' || {_Q}(id) || ',"session_id":' || {_Q}(session_id),
    NULL, NULL, ',"role":' || {_Q}(role) || ',"format":' || {_Q}(format) || ',"blob":' ||
    blob || '}}'
FROM messages WHERE project = ? AND session_id IN (MARKS)
ORDER BY 1, 2, 3"""


def _sqlite_chunk(store: Any, project: str, sessions: list[Any]) -> dict[str, list[bytes]]:
    ids = [s.id for s in sessions]
    sql = _SQLITE_ITEMS.replace("MARKS", ",".join("?" * len(ids)))
    items: dict[str, list[str]] = {sid: [] for sid in ids}
    with store._tx() as conn:
        rows = conn.q(sql, [project, *ids, project, *ids])
    last, prefix = -1, ""  # the date and seconds, formatted once per second of timeline
    for sid, ts, _id, head, end, dur, tail in rows:
        sec, us = divmod(ts, 1_000_000)
        if sec != last:
            last, prefix = sec, format_ts(sec * 1_000_000_000)[:19]
        if end is None:  # a point event, or a message (which has neither end nor duration)
            if tail.startswith(',"role"'):
                items[sid].append(f'{head},"ts":"{prefix}.{us:06d}Z"{tail}')
                continue
            e = "null"
        else:
            esec, eus = divmod(end, 1_000_000)
            e = f'"{prefix}.{eus:06d}Z"' if esec == sec else f'"{format_ts(end * 1000)}"'
        # repr is the shortest form that reads back as the same float, as orjson's is
        d = "null" if dur is None else repr(dur)
        items[sid].append(f'{head},"ts":"{prefix}.{us:06d}Z","end_ts":{e},"duration_ms":{d}{tail}')
    return {sid: [x.encode() for x in mine] for sid, mine in items.items()}
