"""``agentlog.Client``: read and manage recorded sessions from Python.

The Client speaks to a transport (``Transport``): ``call(op, params)`` runs one store operation
(``op`` is a ``Store`` method name) and returns its result as a model or as plain JSON data;
the Client validates it into the same pydantic models either way. ``LocalTransport`` calls a
Store in this process; an HTTP transport (the collector) implements the same two methods.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter

from ._errors import InvalidInputError
from ._log import log
from ._record_stream import WRITE_OPS, append_records, records_for
from .store import (
    Event,
    EventContext,
    EventCount,
    EventsIteration,
    MarkerStats,
    Message,
    MessagesPage,
    ObservingStatus,
    Page,
    Session,
    Store,
    open_store,
)
from .store._judging_models import CompareReport, CostReport, Score

__all__ = ["Client", "LocalTransport", "QueryAPI", "SessionConfigs", "SessionsAPI", "Transport"]

T = TypeVar("T")
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
# Operations that answer with the session named by ``session_id``: its rollup is brought up to
# date first. ``list_sessions`` is handled on its own (its sessions are known only afterwards).
_RETURNS_SESSION = frozenset({"get_session", "close_session", "copy_session"})
# Where an id prefix is resolved to the full id: every operation but the one that makes an id.
_NEW_ID_OPS = frozenset({"create_session"})


class Transport(Protocol):
    def call(self, op: str, params: dict[str, Any]) -> Any: ...
    def close(self) -> None: ...


class LocalTransport:
    """Runs operations on a Store in this process, scoped to one project.

    With ``jsonl`` set (the local default), the JSONL file and its rotated siblings are indexed
    into the store before an operation whenever the file changed since the last look.

    Sessions it returns carry current rollups: their pending data is processed before the answer
    (the store's background processing waits for ``ttl_seconds`` of idleness, which suits a
    collector but would leave a local reader looking at zeros).
    """

    def __init__(self, store: Store, *, project: str = "default",
                 jsonl: str | os.PathLike[str] | None = None) -> None:  # fmt: skip
        self.store = store
        self.project = project
        self.jsonl = None if jsonl is None else Path(jsonl)
        self._seen: tuple[int, int, int] | None = None

    def refresh(self) -> None:
        if self.jsonl is None:
            return
        try:
            st = self.jsonl.stat()
            sig = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            sig = (0, 0, 0)
        if sig != self._seen:
            index = getattr(self.store, "index_jsonl", None)
            if index is not None:
                index(self.jsonl, project=self.project)
            self._seen = sig

    def _process(self, session_ids: list[str]) -> bool:
        """Process the pending data of these sessions; True when any had some."""
        process = getattr(self.store, "process_pending", None)
        if process is None or not session_ids:
            return False
        try:
            return bool(process(session_ids, project=self.project))
        except Exception as exc:  # e.g. a read-only database: answer with the rollups as stored
            log.warning("agentlog: session rollups may be out of date (processing failed: %s)",
                        exc)  # fmt: skip
            return False

    def call(self, op: str, params: dict[str, Any]) -> Any:
        self.refresh()
        params = self._resolve(op, params)
        if op == "event_counts" and "status" in params:
            from .store._lookup import status_counts

            return status_counts(self.store, **params, project=self.project)
        run = getattr(self.store, op)
        if op in _RETURNS_SESSION:
            self._process([params["session_id"]])
        result = run(**params, project=self.project)
        if op == "list_sessions" and self._process([s.id for s in result.items]):
            result = run(**params, project=self.project)  # the same page, rollups now current
        if self.jsonl is not None and op in WRITE_OPS:
            append_records(self.jsonl, records_for(op, params, result, self.store, self.project))
        return result

    def _resolve(self, op: str, params: dict[str, Any]) -> dict[str, Any]:
        """Ids given as a unique prefix (8 characters or more) become the full id."""
        from .store._lookup import resolve_id

        out = dict(params)
        if op not in _NEW_ID_OPS and isinstance(out.get("session_id"), str):
            out["session_id"] = resolve_id(self.store, out["session_id"], what="session",
                                           project=self.project)  # fmt: skip
        if isinstance(out.get("event_id"), str):
            out["event_id"] = resolve_id(self.store, out["event_id"], what="item",
                                         project=self.project)  # fmt: skip
        return out

    def close(self) -> None:
        self.store.close()


def _as(kind: Any, value: Any) -> Any:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter.validate_python(value)


class _API:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _call(self, kind: Any, op: str, **params: Any) -> Any:
        result = self._t.call(op, {k: v for k, v in params.items() if v is not _UNSET})
        return None if kind is None else _as(kind, result)


_UNSET: Any = object()


class SessionConfigs(BaseModel):
    """What ``get_configs`` answers: the session's configs, or None."""

    configs: dict[str, Any] | None = None


class SessionsAPI(_API):
    def create(self, *, id: str | None = None, name: str | None = None, user: str | None = None,
               configs: dict[str, Any] | None = None,
               parent_session_id: str | None = None, tags: list[str] | None = None) -> Session:  # fmt: skip
        return self._call(Session, "create_session", id=id, name=name, user=user,  # type: ignore[no-any-return]
                          configs=configs, parent_session_id=parent_session_id,
                          tags=_UNSET if tags is None else list(tags))  # fmt: skip

    def get(self, session_id: str) -> Session:
        return self._call(Session, "get_session", session_id=session_id)  # type: ignore[no-any-return]

    def list(self, *, user: str | None = None, filter_by_configs: dict[str, Any] | None = None,
             status: str | None = None, name: str | None = None, limit: int = 50,
             cursor: str | None = None, time_desc: bool = True,
             tags: Sequence[str] | None = None, score: Any = None,
             order_by_score: str | None = None) -> Page[Session]:  # fmt: skip
        """``tags``: sessions carrying all of them. ``score``: ``{"helpful": (">=", 4)}``,
        ``{"label": "good"}`` or ``"helpful>=4"``, on each session's latest score of the name.
        ``order_by_score="helpful"``: by that score (highest first with ``time_desc``)."""
        return self._call(Page[Session], "list_sessions", user=user,  # type: ignore[no-any-return]
                          filter_by_configs=filter_by_configs, status=status, name=name,
                          limit=limit, cursor=cursor, time_desc=time_desc,
                          tags=_UNSET if not tags else list(tags),
                          score=_UNSET if not score else score,
                          order_by_score=_UNSET if order_by_score is None else order_by_score)  # fmt: skip

    def delete(self, session_id: str) -> None:
        self._call(None, "delete_session", session_id=session_id)

    def copy(self, session_id: str) -> Session:
        return self._call(Session, "copy_session", session_id=session_id)  # type: ignore[no-any-return]

    def close(self, session_id: str, *, status: str = "success",
              summary: str | None = None) -> Session:  # fmt: skip
        return self._call(Session, "close_session", session_id=session_id,  # type: ignore[no-any-return]
                          status=status, summary=summary)  # fmt: skip

    def add_event(self, session_id: str, event: Any = None, *, type: str | None = None,
                  name: str | None = None, data: dict[str, Any] | None = None,
                  ts: str | None = None) -> Event:  # fmt: skip
        """Add an event: ``add_event(id, TextEvent(text=...))`` (or ``DiskEvent``, ``Event``),
        or ``add_event(id, type=..., name=..., data=...)``."""
        if event is not None:
            if type is not None or data is not None:
                raise InvalidInputError("add_event: give an event object or type=/data=, not both")
            to_data = getattr(event, "to_data", None)
            if not callable(to_data) or not isinstance(getattr(event, "type", None), str):
                raise InvalidInputError(f"add_event: expected a TextEvent, DiskEvent or Event, "
                                        f"got {event!r}")  # fmt: skip
            type, data = event.type, to_data()
            name = name if name is not None else getattr(event, "name", None)
        if type is None:
            raise InvalidInputError("add_event: type is required (or pass an event object)")
        return self._call(Event, "add_event", session_id=session_id, type=type,  # type: ignore[no-any-return]
                          name=name, data=data, ts=ts)  # fmt: skip

    def get_events(self, session_id: str, *, limit: int = 50, cursor: str | None = None,
                   time_desc: bool = False, type: str | Sequence[str] | None = None,
                   name: str | None = None) -> Page[Event]:  # fmt: skip
        return self._call(Page[Event], "get_events", session_id=session_id,  # type: ignore[no-any-return]
                          limit=limit, cursor=cursor, time_desc=time_desc, type=type,
                          name=name)  # fmt: skip

    def store_message(self, session_id: str, blob: Any, *, format: str = "openai",
                      role: str | None = None, ts: str | None = None) -> Message:  # fmt: skip
        return self._call(Message, "store_message", session_id=session_id, blob=blob,  # type: ignore[no-any-return]
                          format=format, role=role, ts=ts)  # fmt: skip

    def get_messages(self, session_id: str, *, limit: int = 50, cursor: str | None = None,
                     time_desc: bool = False, with_events: bool = False,
                     max_events: int = 1000) -> MessagesPage:  # fmt: skip
        return self._call(MessagesPage, "get_messages", session_id=session_id,  # type: ignore[no-any-return]
                          limit=limit, cursor=cursor, time_desc=time_desc,
                          with_events=with_events, max_events=max_events)  # fmt: skip

    def get_configs(self, session_id: str) -> SessionConfigs:
        """The session's configs, as ``.configs`` (None when it has none)."""
        configs = self._call(dict[str, Any] | None, "get_configs", session_id=session_id)
        return SessionConfigs(configs=configs)

    def update_configs(self, session_id: str,
                       configs: dict[str, Any] | None) -> dict[str, Any] | None:  # fmt: skip
        """Replace every key: the session's configs become ``configs``."""
        return self._call(dict[str, Any] | None, "update_configs",  # type: ignore[no-any-return]
                          session_id=session_id, configs=configs)  # fmt: skip

    def patch_configs(self, session_id: str, patch: dict[str, Any] | None = None, *,
                      configs: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """Merge top-level keys (``None`` deletes one); returns the updated configs. The
        changes come as ``patch`` or, in the seed's spelling, ``configs=``."""
        if (patch is None) == (configs is None):
            raise InvalidInputError("patch_configs: give the changes once, as patch or configs=")
        changes = patch if patch is not None else configs
        return self._call(dict[str, Any], "patch_configs", session_id=session_id,  # type: ignore[no-any-return]
                          patch=changes)  # fmt: skip

    def score(self, session_id: str, name: str, value: bool | float | str, *,
              comment: str | None = None, event_id: str | None = None) -> Score:  # fmt: skip
        """Score a session (or one of its events): a number, a bool or a short string. It is a
        ``score`` record, as durable as the rest of the session."""
        return self._call(Score, "add_score", session_id=session_id, name=name, value=value,  # type: ignore[no-any-return]
                          comment=comment, event_id=event_id)  # fmt: skip

    def get_scores(self, session_id: str, *, name: str | None = None) -> builtins.list[Score]:
        """The session's scores (its events' too), oldest first."""
        return self._call(builtins.list[Score], "get_scores", session_id=session_id, name=name)  # type: ignore[no-any-return]

    def messages_observing_status(self, session_id: str) -> ObservingStatus:
        return self._call(ObservingStatus, "messages_observing_status", session_id=session_id)  # type: ignore[no-any-return]

    def flush(self, session_id: str) -> ObservingStatus:
        """Process the session's pending messages now; returns when they are observed."""
        return self._call(ObservingStatus, "flush", session_id=session_id)  # type: ignore[no-any-return]


class QueryAPI(_API):
    def event_context(self, event_id: str, *, before: int = 5, after: int = 5) -> EventContext:
        return self._call(EventContext, "event_context", event_id=event_id, before=before,  # type: ignore[no-any-return]
                          after=after)  # fmt: skip

    def event_counts(self, *, days: float = 7, bucket: str = "hour", type: str | None = None,
                     name: str | None = None, status: str | None = None) -> list[EventCount]:  # fmt: skip
        """Items per bucket. ``status="error"`` counts failed items as the session rollups do
        (error events and failed spans, whatever their type); ``"ok"`` the others."""
        return self._call(list[EventCount], "event_counts", days=days, bucket=bucket,  # type: ignore[no-any-return]
                          type=type, name=name, status=_UNSET if status is None else status)  # fmt: skip

    def events_between_markers(self, *, marker_types: Sequence[str] = ("compaction",),
                               count_type: str = "user", days: float = 7) -> MarkerStats:  # fmt: skip
        return self._call(MarkerStats, "events_between_markers",  # type: ignore[no-any-return]
                          marker_types=list(marker_types), count_type=count_type, days=days)  # fmt: skip

    def iterate_events(self, *, session_id: str | None = None, types: Sequence[str] | None = None,
                       cursor: str | None = None, limit: int = 100) -> EventsIteration:  # fmt: skip
        return self._call(EventsIteration, "iterate_events", session_id=session_id,  # type: ignore[no-any-return]
                          types=None if types is None else list(types), cursor=cursor,
                          limit=limit)  # fmt: skip

    def cost(self, *, days: float = 7, bucket: str = "day",
             filter_by_configs: dict[str, Any] | None = None) -> CostReport:  # fmt: skip
        """Cost of the last ``days`` days per ``bucket``: ``day``, ``hour``, ``session``,
        ``model``, ``user`` or ``config:KEY``; exact USD decimals; unpriced calls counted."""
        return self._call(CostReport, "cost", days=days, bucket=bucket,  # type: ignore[no-any-return]
                          filter_by_configs=filter_by_configs)  # fmt: skip

    def compare(self, *, config_key: str, scores: Sequence[str] | None = None,
                days: float | None = None,
                filter_by_configs: dict[str, Any] | None = None) -> CompareReport:  # fmt: skip
        """Per value of ``configs[config_key]``: sessions, error rate, avg and median of each
        score, cost per session and latency percentiles."""
        return self._call(CompareReport, "compare", config_key=config_key,  # type: ignore[no-any-return]
                          scores=None if scores is None else list(scores), days=days,
                          filter_by_configs=filter_by_configs)  # fmt: skip


class Client:
    """``Client()``: the local store (``./.agentlog/agentlog.db``, indexing
    ``./.agentlog/events.jsonl`` first); ``Client(db="postgresql://...")`` or any store URL;
    ``Client(base_url="http://host:8029", api_key=...)`` for a collector (the key's project;
    ``$AGENTLOG_API_KEY`` when ``api_key`` is not given);
    ``Client(transport=...)`` for a custom transport. ``project`` scopes every local operation."""

    def __init__(self, *, db: str | os.PathLike[str] | None = None, project: str = "default",
                 jsonl: str | os.PathLike[str] | None = None,
                 transport: Transport | None = None, base_url: str | None = None,
                 api_key: str | None = None, timeout: float = 30.0,
                 **store_options: Any) -> None:  # fmt: skip
        if base_url is not None:
            if transport is not None or db is not None or jsonl is not None or store_options:
                raise ValueError("base_url: a remote Client takes no db, jsonl, transport or "
                                 "store options")  # fmt: skip
            from ._http_transport import HttpTransport

            key = api_key if api_key is not None else os.environ.get("AGENTLOG_API_KEY")
            transport = HttpTransport(base_url, api_key=key, timeout=timeout)
        elif api_key is not None:
            raise ValueError("api_key: only used with base_url='http://...'")
        if transport is None:
            if db is None and jsonl is None:
                jsonl = ".agentlog/events.jsonl"
            transport = LocalTransport(open_store(db, **store_options), project=project,
                                       jsonl=jsonl)  # fmt: skip
        self.transport = transport
        self.sessions = SessionsAPI(transport)
        self.query = QueryAPI(transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
