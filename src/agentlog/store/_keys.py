"""The conditions that let a read of ``events`` reach its two secondary indexes.

On PostgreSQL ``events_session`` and ``events_type`` lead with 64-bit hashes of their text keys
(``hashtextextended``), not with the text: a B-tree descent then compares integers, and the
offset of every later column is cached, where a text first made each comparison walk the
tuple (the backend's CPU an ingested event a median 9 to 16% less, docs/scaling.md). The
planner uses such an index only for a condition on the same expression, so a read names the
hash beside the value; the text condition stays beside it, so two keys that share a hash
never mix. ``events_type`` carries ``project`` and ``type`` as included columns: the markers'
counts stay index-only.

SQLite keeps text-first indexes (its ingest is bound elsewhere, and it compares bytes), and
these conditions are empty there. ``messages`` keeps its own text-first indexes (the
benchmarks ingest events only, so a change there could not be measured). Each condition
comes with its leading `` AND `` and its values, as ``after_key``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["INDEXES", "in_session", "session_key", "type_key"]

_SESSION = "hashtextextended(session_id, 0)"
_PROJECT = "hashtextextended(project, 0)"
_TYPE = "hashtextextended(type, 0)"

# PostgreSQL's two indexes, as the migration that made them creates them.
INDEXES = (
    f"CREATE INDEX events_session ON events ({_SESSION}, ts_us, id)",
    f"CREATE INDEX events_type ON events ({_PROJECT}, {_TYPE}, ts_us, session_id, id) "
    "INCLUDE (project, type)",
)


def _hashes(n: int) -> str:
    return "= hashtextextended(?, 0)" if n == 1 else (
        f"IN ({','.join(['hashtextextended(?, 0)'] * n)})")  # fmt: skip


def session_key(dialect: str, table: str, ids: Sequence[str]) -> tuple[str, list[Any]]:
    """The hash condition for rows of ``table`` in the sessions ``ids`` (beside the caller's
    own ``session_id = ?`` or ``IN``)."""
    if dialect != "postgres" or table != "events" or not ids:
        return "", []
    return f" AND {_SESSION} {_hashes(len(ids))}", list(ids)


def in_session(dialect: str, table: str, project: str, session_id: str) -> tuple[str, list[Any]]:
    """The condition (without a leading `` AND ``) and values for one session's rows of
    ``table``, with its hash where the table's index needs it."""
    keyed, hashed = session_key(dialect, table, [session_id])
    return f"project = ? AND session_id = ?{keyed}", [project, session_id, *hashed]


def type_key(dialect: str, table: str, project: str, types: Sequence[str]) -> tuple[str, list[Any]]:
    """The hash condition for rows of ``table`` in ``project`` of the ``types`` given (beside
    the caller's own ``project = ?`` and ``type = ?`` or ``IN``)."""
    if dialect != "postgres" or table != "events" or not types:
        return "", []
    return f" AND {_PROJECT} = hashtextextended(?, 0) AND {_TYPE} {_hashes(len(types))}", [
        project, *types]  # fmt: skip
