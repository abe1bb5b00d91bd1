"""The ``Store`` interface: one contract, implemented by the SQLite and PostgreSQL backends.

Every operation takes ``project``: a collector maps API keys to projects and passes it through,
so data of one project is never visible from another. In-process users keep ``"default"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from ._models import (
    Event,
    EventContext,
    EventCount,
    EventsIteration,
    IngestResult,
    MarkerStats,
    Message,
    MessagesPage,
    ObservingStatus,
    Page,
    PruneResult,
    Session,
)

__all__ = ["DEFAULT_PROJECT", "Store"]

DEFAULT_PROJECT = "default"


@runtime_checkable
class Store(Protocol):
    # -- records -------------------------------------------------------------------------------
    def ingest(self, records: Sequence[Any], *, project: str = DEFAULT_PROJECT) -> IngestResult: ...

    # -- sessions ------------------------------------------------------------------------------
    def create_session(
        self, *, id: str | None = None, name: str | None = None, user: str | None = None,
        configs: dict[str, Any] | None = None, parent_session_id: str | None = None,
        started_at: str | None = None, project: str = DEFAULT_PROJECT,
    ) -> Session: ...  # fmt: skip

    def get_session(self, session_id: str, *, project: str = DEFAULT_PROJECT) -> Session: ...

    def list_sessions(
        self, *, user: str | None = None, filter_by_configs: dict[str, Any] | None = None,
        status: str | None = None, name: str | None = None, limit: int = 50,
        cursor: str | None = None, time_desc: bool = True, project: str = DEFAULT_PROJECT,
    ) -> Page[Session]: ...  # fmt: skip

    def delete_session(self, session_id: str, *, project: str = DEFAULT_PROJECT) -> None: ...

    def copy_session(self, session_id: str, *, project: str = DEFAULT_PROJECT) -> Session: ...

    def close_session(
        self, session_id: str, *, status: str = "success", summary: str | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> Session: ...  # fmt: skip

    def close_stale_sessions(
        self, *, auto_close_after: float | None = None, now: datetime | None = None,
        project: str | None = None,
    ) -> list[str]: ...  # fmt: skip

    # -- configs -------------------------------------------------------------------------------
    def get_configs(
        self, session_id: str, *, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any] | None: ...

    def update_configs(
        self, session_id: str, configs: dict[str, Any] | None, *, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any] | None: ...

    def patch_configs(
        self, session_id: str, patch: dict[str, Any], *, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any]: ...

    # -- events and messages -------------------------------------------------------------------
    def add_event(
        self, session_id: str, *, type: str, name: str | None = None,
        data: dict[str, Any] | None = None, ts: str | None = None, project: str = DEFAULT_PROJECT,
    ) -> Event: ...  # fmt: skip

    def get_events(
        self, session_id: str, *, limit: int = 50, cursor: str | None = None,
        time_desc: bool = False, type: str | Sequence[str] | None = None,
        name: str | None = None, project: str = DEFAULT_PROJECT,
    ) -> Page[Event]: ...  # fmt: skip

    def store_message(
        self, session_id: str, blob: Any, *, format: str = "openai", role: str | None = None,
        ts: str | None = None, project: str = DEFAULT_PROJECT,
    ) -> Message: ...  # fmt: skip

    def get_messages(
        self, session_id: str, *, limit: int = 50, cursor: str | None = None,
        time_desc: bool = False, with_events: bool = False, max_events: int = 1000,
        project: str = DEFAULT_PROJECT,
    ) -> MessagesPage: ...  # fmt: skip

    # -- processing ----------------------------------------------------------------------------
    def messages_observing_status(
        self, session_id: str, *, project: str = DEFAULT_PROJECT
    ) -> ObservingStatus: ...

    def flush(self, session_id: str, *, project: str = DEFAULT_PROJECT) -> ObservingStatus: ...

    # -- query primitives ----------------------------------------------------------------------
    def event_context(
        self, event_id: str, *, before: int = 5, after: int = 5, project: str = DEFAULT_PROJECT
    ) -> EventContext: ...

    def event_counts(
        self, *, days: float = 7, bucket: str = "hour", type: str | None = None,
        name: str | None = None, now: datetime | None = None, project: str = DEFAULT_PROJECT,
    ) -> list[EventCount]: ...  # fmt: skip

    def events_between_markers(
        self, *, marker_types: Sequence[str] = ("compaction",), count_type: str = "user",
        days: float = 7, now: datetime | None = None, project: str = DEFAULT_PROJECT,
    ) -> MarkerStats: ...  # fmt: skip

    def iterate_events(
        self, *, session_id: str | None = None, types: Sequence[str] | None = None,
        cursor: str | None = None, limit: int = 100, project: str = DEFAULT_PROJECT,
    ) -> EventsIteration: ...  # fmt: skip

    # -- retention -----------------------------------------------------------------------------
    def prune(
        self, older_than: float | timedelta | str, *, now: datetime | None = None,
        project: str | None = None, batch: int = 500,
    ) -> PruneResult: ...  # fmt: skip

    def close(self) -> None: ...
