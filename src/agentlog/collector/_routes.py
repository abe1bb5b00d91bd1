"""The Store's operations as REST: ``/v1/sessions...``, ``/v1/events...``, ``/v1/query/...``.

Each route is a thin mapping onto one Store method, called with the project of the caller's
key; the Store's errors become 404 / 409 / 400 in ``_errors``. Sync handlers run in FastAPI's
thread pool, since the Store is blocking.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..store import (
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
)
from ..store._lookup import resolve_id, status_counts
from ..store._screen import find_nul
from ._errors import ERROR_RESPONSES, ApiError

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2000)]
Days = Annotated[float, Query(gt=0, le=36500, description="How many days back")]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def project_of(request: Request) -> str:
    project: str = request.state.project  # set by the Gate from the API key
    return project


S = Annotated[Store, Depends(store_of)]
P = Annotated[str, Depends(project_of)]
_PREFIX = ", or a unique prefix of it (8 characters or more)"


def _session_id(store: S, project: P, session_id: Annotated[
    str, Path(min_length=1, max_length=200, description="A session id" + _PREFIX)
]) -> str:  # fmt: skip
    return resolve_id(store, session_id, what="session", project=project)


def _event_id(store: S, project: P, event_id: Annotated[
    str, Path(min_length=1, max_length=200, description="An event or message id" + _PREFIX)
]) -> str:  # fmt: skip
    return resolve_id(store, event_id, what="item", project=project)


Sid = Annotated[str, Depends(_session_id)]
Eid = Annotated[str, Depends(_event_id)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        where = find_nul(value)
        if where is not None:
            raise ValueError(f"{where}: contains a NUL character (\\u0000), which cannot be stored")
        return value


class CreateSession(_Body):
    id: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = None
    user: str | None = None
    configs: dict[str, Any] | None = None
    parent_session_id: str | None = None
    tags: list[str] | None = None


class CloseSession(_Body):
    status: str = "success"
    summary: str | None = None


class AddEvent(_Body):
    type: str = Field(min_length=1)
    name: str | None = None
    data: dict[str, Any] | None = None
    ts: str | None = None


class StoreMessage(_Body):
    blob: Any = Field(description="The message as the provider's format has it")
    format: str = "openai"
    role: str | None = None
    ts: str | None = None


class Configs(_Body):
    configs: dict[str, Any] | None


class ConfigsPatch(_Body):
    configs: dict[str, Any] = Field(description="Top-level keys to set; null deletes a key")


def _json_param(text: str | None, name: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "bad_request", f"{name}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ApiError(400, "bad_request", f"{name}: must be a JSON object")
    return value


# -- sessions ----------------------------------------------------------------------------------


@router.post("/sessions", response_model=Session, tags=["sessions"])
def create_session(store: S, project: P, body: CreateSession) -> Session:
    """Create a session; creating an existing id of this project again returns it unchanged."""
    return store.create_session(**body.model_dump(), project=project)


@router.get("/sessions", response_model=Page[Session], tags=["sessions"])
def list_sessions(
    store: S, project: P, user: str | None = None, status: str | None = None,
    name: str | None = None,
    filter_by_configs: Annotated[str | None, Query(
        description='JSON object; sessions whose configs contain it (PostgreSQL @>)')] = None,
    limit: Limit = 50, cursor: Cursor = None, time_desc: bool = True,
    tags: Annotated[list[str] | None, Query(description="sessions carrying all of them")] = None,
    score: Annotated[list[str] | None, Query(description="e.g. helpful>=4 (latest score)")] = None,
    order_by_score: str | None = None,
) -> Page[Session]:  # fmt: skip
    extra: dict[str, Any] = {"tags": tags, "score": score} if tags or score else {}
    if order_by_score is not None:
        extra["order_by_score"] = order_by_score
    return store.list_sessions(user=user, status=status, name=name,
                               filter_by_configs=_json_param(filter_by_configs,
                                                             "filter_by_configs"),
                               limit=limit, cursor=cursor, time_desc=time_desc, project=project,
                               **extra)  # fmt: skip


@router.get("/sessions/{session_id}", response_model=Session, tags=["sessions"])
def get_session(store: S, project: P, session_id: Sid) -> Session:
    return store.get_session(session_id, project=project)


@router.delete("/sessions/{session_id}", status_code=204, tags=["sessions"])
def delete_session(store: S, project: P, session_id: Sid) -> Response:
    """Delete a session with its events and messages."""
    store.delete_session(session_id, project=project)
    return Response(status_code=204)


@router.post("/sessions/{session_id}/copy", response_model=Session, tags=["sessions"])
def copy_session(store: S, project: P, session_id: Sid) -> Session:
    return store.copy_session(session_id, project=project)


@router.post("/sessions/{session_id}/close", response_model=Session, tags=["sessions"])
def close_session(store: S, project: P, session_id: Sid,
                  body: CloseSession | None = None) -> Session:  # fmt: skip
    body = body or CloseSession()
    return store.close_session(session_id, status=body.status, summary=body.summary,
                               project=project)  # fmt: skip


@router.get("/sessions/{session_id}/configs", response_model=Configs, tags=["configs"])
def get_configs(store: S, project: P, session_id: Sid) -> Configs:
    return Configs(configs=store.get_configs(session_id, project=project))


@router.put("/sessions/{session_id}/configs", response_model=Configs, tags=["configs"])
def update_configs(store: S, project: P, session_id: Sid, body: Configs) -> Configs:
    """Replace all configs (null clears them)."""
    return Configs(configs=store.update_configs(session_id, body.configs, project=project))


@router.patch("/sessions/{session_id}/configs", response_model=Configs, tags=["configs"])
def patch_configs(store: S, project: P, session_id: Sid, body: ConfigsPatch) -> Configs:
    """Merge top-level keys (null deletes one), atomically; returns the updated configs."""
    return Configs(configs=store.patch_configs(session_id, body.configs, project=project))


# -- a session's timeline ----------------------------------------------------------------------


@router.post("/sessions/{session_id}/events", response_model=Event, tags=["timeline"])
def add_event(store: S, project: P, session_id: Sid, body: AddEvent) -> Event:
    return store.add_event(session_id, type=body.type, name=body.name, data=body.data,
                           ts=body.ts, project=project)  # fmt: skip


@router.get("/sessions/{session_id}/events", response_model=Page[Event], tags=["timeline"])
def get_events(
    store: S, project: P, session_id: Sid, limit: Limit = 50, cursor: Cursor = None,
    time_desc: bool = False, type: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
) -> Page[Event]:  # fmt: skip
    return store.get_events(session_id, limit=limit, cursor=cursor, time_desc=time_desc,
                            type=type or None, name=name, project=project)  # fmt: skip


@router.post("/sessions/{session_id}/messages", response_model=Message, tags=["timeline"])
def store_message(store: S, project: P, session_id: Sid, body: StoreMessage) -> Message:
    return store.store_message(session_id, body.blob, format=body.format, role=body.role,
                               ts=body.ts, project=project)  # fmt: skip


@router.get("/sessions/{session_id}/messages", response_model=MessagesPage, tags=["timeline"])
def get_messages(
    store: S, project: P, session_id: Sid, limit: Limit = 50, cursor: Cursor = None,
    time_desc: bool = False, with_events: bool = False,
    max_events: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> MessagesPage:  # fmt: skip
    return store.get_messages(session_id, limit=limit, cursor=cursor, time_desc=time_desc,
                              with_events=with_events, max_events=max_events, project=project)  # fmt: skip


@router.get("/sessions/{session_id}/messages/status", response_model=ObservingStatus,
            tags=["processing"])  # fmt: skip
def messages_observing_status(store: S, project: P, session_id: Sid) -> ObservingStatus:
    return store.messages_observing_status(session_id, project=project)


@router.post("/sessions/{session_id}/flush", response_model=ObservingStatus, tags=["processing"])
def flush(store: S, project: P, session_id: Sid) -> ObservingStatus:
    """Process the session's pending messages now."""
    return store.flush(session_id, project=project)


# -- events and query primitives ---------------------------------------------------------------


@router.get("/events/{event_id}/context", response_model=EventContext, tags=["query"])
def event_context(
    store: S, project: P, event_id: Eid,
    before: Annotated[int, Query(ge=0, le=1000)] = 5,
    after: Annotated[int, Query(ge=0, le=1000)] = 5,
) -> EventContext:  # fmt: skip
    """The event (or message) with the items just before and after it on its timeline."""
    return store.event_context(event_id, before=before, after=after, project=project)


@router.get("/query/event_counts", response_model=list[EventCount], tags=["query"])
def event_counts(
    store: S, project: P, days: Days = 7,
    bucket: Annotated[str, Query(pattern="^(minute|hour|day|session)$")] = "hour",
    type: str | None = None, name: str | None = None,
    status: Annotated[str | None, Query(pattern="^(ok|error)$", description=(
        "error: only failed items (error events and failed spans, as the rollups count "
        "them); ok: only the others"))] = None,
) -> list[EventCount]:  # fmt: skip
    if status is not None:
        return status_counts(store, status=status, days=days, bucket=bucket, type=type,
                             name=name, project=project)  # fmt: skip
    return store.event_counts(days=days, bucket=bucket, type=type, name=name, project=project)


@router.get("/query/events_between_markers", response_model=MarkerStats, tags=["query"])
def events_between_markers(
    store: S, project: P,
    marker_types: Annotated[list[str], Query(min_length=1)] = ["compaction"],  # noqa: B006
    count_type: Annotated[str, Query(min_length=1)] = "user", days: Days = 7,
) -> MarkerStats:  # fmt: skip
    return store.events_between_markers(marker_types=marker_types, count_type=count_type,
                                        days=days, project=project)  # fmt: skip


@router.get("/query/iterate_events", response_model=EventsIteration, tags=["query"])
def iterate_events(
    store: S, project: P, session_id: str | None = None,
    types: Annotated[list[str] | None, Query()] = None, cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventsIteration:  # fmt: skip
    if session_id is not None:
        session_id = resolve_id(store, session_id, what="session", project=project)
    return store.iterate_events(session_id=session_id, types=types or None, cursor=cursor,
                                limit=limit, project=project)  # fmt: skip
