"""Tables and indexes of both backends, created and migrated by the store itself.

Times are stored as integer microseconds since the epoch: both backends sort, compare and bucket
them with plain integer arithmetic, and one query text serves both (PostgreSQL's reads of
``events`` add the hash conditions of ``_keys``, which its two hashed indexes need). The
``schema_version`` table holds the number of migrations applied; a store applies the missing
ones when it opens.
"""

from __future__ import annotations

from typing import Any

from ._judging_schema import COST_MIGRATION, SCORE_MIGRATION
from ._keys import INDEXES
from ._rollup import ROLLUPS, select_counts

__all__ = ["MIGRATIONS", "PG_ONLY", "SCHEMA_VERSION", "migrations"]

PG_ONLY = "/* postgres */ "  # a statement that SQLite skips (its JSON is always kept as text)


def _count_table(table: str) -> str:
    cols = [c.strip() for c in ROLLUPS[table][0].split(",")]
    defs = ", ".join(f"{c} {{int}} NOT NULL" if c in ("minute", "hour") else f"{c} TEXT NOT NULL"
                     for c in cols)  # fmt: skip
    return f"CREATE TABLE {table} ({defs}, n {{int}} NOT NULL, PRIMARY KEY ({', '.join(cols)}))"


# Each migration is a list of statements; {json}, {bool}, {float}, {int}, {key} are the
# dialect's types. A callable step runs Python (``step(conn, store)``) in the same transaction.
MIGRATIONS: list[list[Any]] = [
    [
        """CREATE TABLE sessions (
            id {key} PRIMARY KEY,
            project TEXT NOT NULL,
            name TEXT,
            user_id TEXT,
            configs {json},
            status TEXT NOT NULL DEFAULT 'running',
            summary TEXT,
            started_us {int},
            ended_us {int},
            parent_session_id TEXT,
            rec_us {int},
            sort_us {int} NOT NULL,
            last_activity_us {int},
            dirty_us {int},
            r_turns {int} NOT NULL DEFAULT 0,
            r_tokens_in {int} NOT NULL DEFAULT 0,
            r_tokens_out {int} NOT NULL DEFAULT 0,
            r_tool_calls {int} NOT NULL DEFAULT 0,
            r_errors {int} NOT NULL DEFAULT 0,
            r_last_us {int},
            r_updated_us {int}
        )""",
        "CREATE INDEX sessions_list ON sessions (project, sort_us, id)",
        "CREATE INDEX sessions_user ON sessions (project, user_id, sort_us, id)",
        "CREATE INDEX sessions_dirty ON sessions (dirty_us) WHERE dirty_us IS NOT NULL",
        "CREATE INDEX sessions_running ON sessions (last_activity_us) WHERE status = 'running'",
        """CREATE TABLE events (
            project TEXT NOT NULL,
            id {key} NOT NULL,
            session_id {key},
            parent_id TEXT,
            type TEXT NOT NULL,
            name TEXT,
            ts_us {int} NOT NULL,
            end_ts_us {int},
            duration_ms {float},
            status TEXT NOT NULL,
            partial {bool} NOT NULL,
            data {json} NOT NULL,
            error {json},
            trace_id TEXT,
            span_id TEXT,
            PRIMARY KEY (project, id)
        )""",
        "CREATE INDEX events_session ON events (project, session_id, ts_us, id)",
        "CREATE INDEX events_time ON events (project, ts_us, id)",
        "CREATE INDEX events_type ON events (project, type, ts_us, session_id, id)",
        """CREATE TABLE messages (
            project TEXT NOT NULL,
            id {key} NOT NULL,
            session_id {key} NOT NULL,
            ts_us {int} NOT NULL,
            role TEXT NOT NULL,
            format TEXT NOT NULL,
            blob {json},
            state SMALLINT NOT NULL DEFAULT 0,
            PRIMARY KEY (project, id)
        )""",
        "CREATE INDEX messages_session ON messages (project, session_id, ts_us, id)",
        "CREATE INDEX messages_time ON messages (project, ts_us, id)",
        "CREATE INDEX messages_role ON messages (project, role, ts_us, session_id, id)",
        "CREATE INDEX messages_state ON messages (session_id, state)",
        # The SQLite store's JSONL indexer: how far each file (by device and inode) was read.
        """CREATE TABLE jsonl_files (
            dev {int} NOT NULL,
            ino {int} NOT NULL,
            path TEXT NOT NULL,
            head TEXT NOT NULL,
            read_to {int} NOT NULL,
            PRIMARY KEY (dev, ino)
        )""",
        # PostgreSQL only (dropped from SQLite's list below): containment through the GIN index.
        "CREATE INDEX sessions_configs ON sessions USING GIN (configs jsonb_path_ops)",
    ],
    [
        # The count tables of _rollup, filled from what is already stored.
        *(_count_table(table) for table in ROLLUPS),
        "CREATE INDEX event_minutes_type ON event_minutes (project, type, minute)",
        "CREATE INDEX session_hours_type ON session_hours (project, type, hour)",
        *(
            select_counts(table, source, source)
            for table in ROLLUPS
            for source in ("events", "messages")
        ),
    ],
    [
        # PostgreSQL: payloads read back as they were written, keys in recorded order. JSONB
        # (which reorders keys) stays only where a query looks inside: the configs filter,
        # through a generated copy with the GIN index. Plain json also costs less to insert.
        f"{PG_ONLY}ALTER TABLE events ALTER COLUMN data TYPE json USING data::json, "
        "ALTER COLUMN error TYPE json USING error::json",
        f"{PG_ONLY}ALTER TABLE messages ALTER COLUMN blob TYPE json USING blob::json",
        f"{PG_ONLY}DROP INDEX sessions_configs",
        f"{PG_ONLY}ALTER TABLE sessions ALTER COLUMN configs TYPE json USING configs::json",
        f"{PG_ONLY}ALTER TABLE sessions ADD COLUMN configs_b jsonb "
        "GENERATED ALWAYS AS (configs::jsonb) STORED",
        f"{PG_ONLY}CREATE INDEX sessions_configs ON sessions USING GIN (configs_b jsonb_path_ops)",
    ],
    # Scores and tags, then cost (which prices the calls already stored).
    [*SCORE_MIGRATION, *COST_MIGRATION],
    [
        # Retention finds the sessions that ended before its cut without a scan.
        "CREATE INDEX sessions_ended ON sessions (ended_us) WHERE status <> 'running'",
    ],
    [
        # The web UI's reads (_explore): a session's children, and sessions sorted by duration
        # (the expression is _explore's _DUR, written the same way so both planners use it).
        "CREATE INDEX sessions_parent ON sessions (project, parent_session_id) "
        "WHERE parent_session_id IS NOT NULL",
        "CREATE INDEX sessions_duration ON sessions "
        "(project, (COALESCE(ended_us, last_activity_us, sort_us) - sort_us), id)",
    ],
    [
        # Ingest writes every count table per batch; these two indexes cost it ~10% of the
        # pages it writes (their keys lead with the type: each batch lands all over them),
        # while a count by type reads the window's rows through the primary key (time first)
        # in a few milliseconds (benchmarks/store_bench.py: counts minute/session by type).
        "DROP INDEX event_minutes_type",
        "DROP INDEX session_hours_type",
    ],
    [
        # Reads across a project's events in time order go type by type through events_type
        # (_bytime): its own (project, ts_us, id) index cost PostgreSQL ~15% of ingest.
        # Sessionless events, which no other index orders by time, keep a partial one.
        "CREATE INDEX events_loose ON events (project, ts_us, id) WHERE session_id IS NULL",
        "DROP INDEX events_time",
    ],
    [
        # PostgreSQL: both secondary indexes of events lead with integer hashes of their text
        # keys (_keys): the backend's CPU an ingested event 9-16% less. SQLite keeps them.
        f"{PG_ONLY}DROP INDEX events_session",
        f"{PG_ONLY}DROP INDEX events_type",
        *(PG_ONLY + index for index in INDEXES),
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

_TYPES = {
    "sqlite": {"json": "TEXT", "bool": "INTEGER", "float": "REAL", "int": "INTEGER", "key": "TEXT"},
    # Ids order bytewise (as in Python and SQLite), whatever the database's locale.
    "postgres": {
        "json": "JSONB",
        "bool": "BOOLEAN",
        "float": "DOUBLE PRECISION",
        "int": "BIGINT",
        "key": 'TEXT COLLATE "C"',
    },
}


def migrations(dialect: str) -> list[list[Any]]:
    """The migrations with the dialect's types filled in."""
    types = _TYPES[dialect]
    out = []
    for steps in MIGRATIONS:
        stmts = [s.format(**types) if isinstance(s, str) else s for s in steps]
        if dialect == "sqlite":
            stmts = [
                s
                for s in stmts
                if not isinstance(s, str) or ("USING GIN" not in s and not s.startswith(PG_ONLY))
            ]
        out.append(stmts)
    return out
