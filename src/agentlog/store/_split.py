"""A store that writes to a primary database and reads from a replica (``--read-db``).

Reads that a replica serves as well as the primary go there; everything else, writes and
processing included, goes to the primary. A replica lags its primary by its replication delay:
a read right after a write may not see it yet.
"""

from __future__ import annotations

from typing import Any

__all__ = ["READS", "ReadReplicaStore"]

READS = frozenset({
    "get_session", "list_sessions", "get_configs", "get_events", "get_messages",
    "event_context", "event_counts", "events_between_markers", "iterate_events",
    "messages_observing_status",
})  # fmt: skip


class ReadReplicaStore:
    """``Store`` over two stores: ``primary`` for writes, ``replica`` for the reads in
    ``READS``. Closing it closes the replica; the primary belongs to whoever opened it."""

    def __init__(self, primary: Any, replica: Any) -> None:
        self.primary = primary
        self.replica = replica

    def __getattr__(self, name: str) -> Any:
        return getattr(self.replica if name in READS else self.primary, name)

    def close(self) -> None:
        self.replica.close()
