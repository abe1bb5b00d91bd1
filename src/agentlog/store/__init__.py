"""The store: sessions, events, messages and configs on SQLite or PostgreSQL.

``open_store(url)`` opens one: ``sqlite:///path/to.db``, a bare path, or ``postgresql://...``.
Every backend implements the ``Store`` Protocol and returns the models of this package.
"""

from __future__ import annotations

import os
from typing import Any

from ._models import (
    Event,
    EventContext,
    EventCount,
    EventsIteration,
    IndexResult,
    IngestResult,
    Item,
    MarkerSegment,
    MarkerStats,
    Message,
    MessagesPage,
    ObservingStatus,
    Page,
    PruneResult,
    RejectedRecord,
    Rollup,
    Session,
)
from ._protocol import DEFAULT_PROJECT, Store
from ._retention import parse_duration

__all__ = [
    "DEFAULT_PROJECT",
    "Event",
    "EventContext",
    "EventCount",
    "EventsIteration",
    "IndexResult",
    "IngestResult",
    "Item",
    "MarkerSegment",
    "MarkerStats",
    "Message",
    "MessagesPage",
    "ObservingStatus",
    "Page",
    "PruneResult",
    "RejectedRecord",
    "Rollup",
    "Session",
    "Store",
    "open_store",
    "parse_duration",
]


def open_store(url: str | os.PathLike[str] | None = None, **options: Any) -> Store:
    """Open (creating and migrating as needed) the store at ``url``; the local SQLite file
    ``./.agentlog/agentlog.db`` when None. Options: ``auto_close_after``, ``max_turns``,
    ``ttl_seconds``, ``processing`` (run the background processing worker)."""
    text = os.fspath(url) if url is not None else None
    if text is not None and text.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("psycopg"):
                raise
            from .._hints import install_hint

            raise ModuleNotFoundError(
                f"a PostgreSQL store needs the postgres extra (missing module {exc.name!r}): "
                f"{install_hint('postgres')}", name=exc.name,
            ) from None  # fmt: skip
        return PostgresStore(text, **options)
    from .sqlite import DEFAULT_DB, SqliteStore

    if text is None:
        return SqliteStore(DEFAULT_DB, **options)
    if text.startswith("sqlite://"):
        text = text[len("sqlite://") :]
        text = text[1:] if text.startswith("/") else text  # sqlite:///rel, sqlite:////abs
        if not text:
            raise ValueError("sqlite URL names no file: use sqlite:///path/to/agentlog.db")
    return SqliteStore(text, **options)
