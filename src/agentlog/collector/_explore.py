"""``/v1/explore/...``: the reads the web UI needs beyond the Client's (``store._explore``).

Sessions by name substring, time range, parent and sorted by duration; one session with the
size of its timeline; events across sessions. Answered only by the SQL stores.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..store import Event, Page
from ..store._explore import SessionSummary, explore_events, explore_session, explore_sessions
from ._errors import ERROR_RESPONSES, ApiError
from ._routes import Cursor, Limit, P, S, Sid, _json_param

__all__ = ["router"]

router = APIRouter(prefix="/v1/explore", responses=ERROR_RESPONSES, tags=["explore"])
Time = Annotated[str | None, Query(max_length=64, description="RFC 3339 time")]


def _sql(store: object) -> object:
    if not hasattr(store, "_contains_filter"):
        raise ApiError(501, "not_implemented", "this store does not answer explore queries")
    return store


@router.get("/sessions", response_model=Page[SessionSummary])
def sessions(
    store: S, project: P, user: str | None = None, status: str | None = None,
    name: Annotated[str | None, Query(max_length=200,
                                      description="substring of the name, any case")] = None,
    configs: Annotated[str | None, Query(
        description="JSON object; sessions whose configs contain it (PostgreSQL @>)")] = None,
    since: Time = None, until: Time = None,
    parent: Annotated[str | None, Query(max_length=200,
                                        description="only children of this session")] = None,
    sort: Annotated[str, Query(pattern="^(start|duration)$")] = "start",
    time_desc: bool = True, limit: Limit = 50, cursor: Cursor = None,
) -> Page[SessionSummary]:  # fmt: skip
    """Sessions with their duration and LLM calls, filtered and sorted for a list view."""
    return explore_sessions(_sql(store), user=user, status=status, name=name,  # type: ignore[arg-type]
                            configs=_json_param(configs, "configs"), since=since, until=until,
                            parent=parent, sort=sort, time_desc=time_desc, limit=limit,
                            cursor=cursor, project=project)  # fmt: skip


@router.get("/sessions/{session_id}", response_model=SessionSummary)
def session(store: S, project: P, session_id: Sid) -> SessionSummary:
    """One session with its duration, LLM calls, timeline size and number of child sessions."""
    return explore_session(_sql(store), session_id, project=project)  # type: ignore[arg-type]


@router.get("/events", response_model=Page[Event])
def events(
    store: S, project: P, type: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
    status: Annotated[str | None, Query(pattern="^(ok|error)$")] = None,
    since: Time = None, until: Time = None, session_id: str | None = None,
    time_desc: bool = True, limit: Limit = 50, cursor: Cursor = None,
) -> Page[Event]:  # fmt: skip
    """Events of every session, newest first, by type, name, status and time."""
    return explore_events(_sql(store), type=type or None, name=name, status=status,  # type: ignore[arg-type]
                          since=since, until=until, session_id=session_id,
                          time_desc=time_desc, limit=limit, cursor=cursor, project=project)  # fmt: skip
