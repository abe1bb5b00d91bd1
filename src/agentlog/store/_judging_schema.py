"""Tables of scores, tags and cost (one migration), and the row form of a score record.

Kept apart from the mixins that use them, so the schema can be imported by ``_core``.
"""

from __future__ import annotations

from typing import Any

from .._records import ScoreRecord
from ._rows import dumps, to_us

__all__ = ["COST_MIGRATION", "SCORE_COLS", "SCORE_MIGRATION", "score_row"]

SCORE_COLS = "project, id, session_id, ts_us, event_id, name, value, num, comment, source"

SCORE_MIGRATION: list[Any] = [
    "ALTER TABLE sessions ADD COLUMN tags {json}",
    "ALTER TABLE sessions ADD COLUMN scores {json}",
    """CREATE TABLE scores (
        project TEXT NOT NULL,
        id {key} NOT NULL,
        session_id {key} NOT NULL,
        ts_us {int} NOT NULL,
        event_id TEXT,
        name TEXT NOT NULL,
        value {json} NOT NULL,
        num {float},
        comment TEXT,
        source TEXT NOT NULL,
        PRIMARY KEY (project, id)
    )""",
    "CREATE INDEX scores_session ON scores (project, session_id, ts_us, id)",
    """CREATE TABLE session_scores (
        project TEXT NOT NULL,
        session_id {key} NOT NULL,
        name TEXT NOT NULL,
        ts_us {int} NOT NULL,
        score_id {key} NOT NULL,
        value {json} NOT NULL,
        num {float},
        text TEXT,
        PRIMARY KEY (project, session_id, name)
    )""",
    "CREATE INDEX session_scores_name ON session_scores (project, name, num)",
]

SCORE_COLS = "project, id, session_id, ts_us, event_id, name, value, num, comment, source"


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (bool, int, float)) else None


def score_row(rec: ScoreRecord, project: str) -> tuple[Any, ...]:
    """A ``scores`` row; like event and message rows, id at 1 and session_id at 2 (ts at 3)."""
    return (project, rec.id, rec.session_id, to_us(rec.ts), rec.event_id, rec.name,
            dumps(rec.value), _num(rec.value), rec.comment, rec.source)  # fmt: skip


def _reprice_step(conn: Any, store: Any) -> None:
    store._reprice(conn, project=None)


COST_MIGRATION: list[Any] = [
    "ALTER TABLE sessions ADD COLUMN r_cost_p {int} NOT NULL DEFAULT 0",
    "ALTER TABLE sessions ADD COLUMN r_unpriced {int} NOT NULL DEFAULT 0",
    """CREATE TABLE llm_costs (
        project TEXT NOT NULL,
        event_id {key} NOT NULL,
        session_id {key},
        ts_us {int} NOT NULL,
        provider TEXT,
        model TEXT,
        input_tokens {int} NOT NULL,
        output_tokens {int} NOT NULL,
        input_p {int},
        output_p {int},
        total_p {int},
        source TEXT NOT NULL,
        PRIMARY KEY (project, event_id)
    )""",
    # No index beyond the key: every insert pays for each one, and the reads that need time or
    # session go through the events table's indexes to the key.
    """CREATE TABLE cost_hours (
        project TEXT NOT NULL,
        hour {int} NOT NULL,
        session_id {key} NOT NULL,
        model TEXT NOT NULL,
        calls {int} NOT NULL,
        unpriced {int} NOT NULL,
        input_tokens {int} NOT NULL,
        output_tokens {int} NOT NULL,
        input_p {int} NOT NULL,
        output_p {int} NOT NULL,
        total_p {int} NOT NULL,
        PRIMARY KEY (project, hour, session_id, model)
    )""",
    # Existing stores: price the calls already stored (a Python step, run in the same
    # transaction as the tables above).
    _reprice_step,
]
