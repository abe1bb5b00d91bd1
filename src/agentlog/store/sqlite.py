"""The SQLite backend: the embedded default at ``./.agentlog/agentlog.db`` (stdlib sqlite3, WAL).

One connection per thread (sqlite3 connections are not shared across threads); write
transactions start with ``BEGIN IMMEDIATE`` so a read-modify-write (a configs patch, a session
merge) holds the database's write lock from its read on, in this process and in others.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson

from ._checkpoint import Checkpointer
from ._conn import Conn
from ._contains import json_contains
from ._costs import ADD_HOUR_SUMS, COST_COLS, HOUR_SUM_COLS, HOURS_FROM, hour_sums
from ._jsonl_index import JsonlIndexMixin
from ._rollup import BATCH_COLS, BATCH_OF, ROLLUPS, batch_counts, from_batch_sql
from ._rows import dumps
from ._store import SqlStore, check_options

__all__ = ["DEFAULT_DB", "SqliteStore"]

DEFAULT_DB = ".agentlog/agentlog.db"
# New calls' hourly sums (``hour_sums``, in key order) added to ``cost_hours``.
_ADD_NEW_HOUR_SUMS = ADD_HOUR_SUMS.format(
    source=f"VALUES ({', '.join('?' * len(HOUR_SUM_COLS.split(',')))})"
)
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\- .:/]{1,100}$")


def _bind_fast() -> None:
    """Adapters that bind None and bools as sqlite3 already does, only sooner.

    Python's sqlite3 binds int, float, str and bytes directly, but sends None and bool
    through its adaptation protocol, which fails over an adapter lookup and two attribute
    lookups per value before it binds NULL or an integer. An event row has one bool and
    often six Nones: 5.7 of the 7.8 us that binding a row costs (Python 3.11). A registered
    adapter makes that one dict hit and a call into C. The values bound stay the same; the
    registry is the process's, so an adapter the host registered first is left alone.
    """
    if (type(None), sqlite3.PrepareProtocol) not in sqlite3.adapters:
        none: dict[None, None] = {}
        sqlite3.register_adapter(type(None), none.get)  # a C call that gives None back
    if (bool, sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(bool, int)


_bind_fast()


@functools.lru_cache(maxsize=64)
def _wanted(text: str) -> Any:
    return orjson.loads(text)


def _contains(configs: str | None, wanted: str) -> bool:
    if configs is None:
        return False
    return json_contains(orjson.loads(configs), _wanted(wanted))


def _prefilter(wanted: dict[str, Any], path: str, conds: list[str], args: list[Any]) -> None:
    for key, value in wanted.items():
        if not _SAFE_KEY.match(key):
            continue
        sub = f'{path}."{key}"'
        if isinstance(value, dict):
            _prefilter(value, sub, conds, args)
        elif isinstance(value, bool) or value is None:
            conds.append("json_type(configs, ?) = ?")
            args += [sub, "null" if value is None else "true" if value else "false"]
        elif isinstance(value, str):
            conds.append("json_type(configs, ?) = 'text' AND json_extract(configs, ?) = ?")
            args += [sub, sub, value]
        elif isinstance(value, (int, float)) and abs(value) < 2**53:
            conds.append("json_type(configs, ?) IN ('integer', 'real') AND "
                         "json_extract(configs, ?) = ?")  # fmt: skip
            args += [sub, sub, value]


def _top_rowid(conn: Conn, table: str) -> int:
    """The largest rowid of ``table`` (0 when empty): under the write lock, the rows an
    insert adds next are exactly those above it."""
    row = conn.one(f"SELECT COALESCE(max(rowid), 0) FROM {table}")
    return row[0] if row else 0


class _Conn:
    dialect = "sqlite"
    __slots__ = ("c",)

    def __init__(self, c: sqlite3.Connection) -> None:
        self.c = c

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.c.execute(sql, params).fetchall()

    def batches(
        self, sql: str, params: Sequence[Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        cur = self.c.execute(sql, params)
        while rows := cur.fetchmany(size):
            yield rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.c.execute(sql, params).fetchone()
        return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.c.execute(sql, params).rowcount

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return self.c.executemany(sql, rows).rowcount

    def pipelined(self) -> AbstractContextManager[Any]:
        return nullcontext()  # in-process: a statement costs no round trip

    def q_each(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        return [self.c.execute(sql, params).fetchall() for sql, params in statements]


class SqliteStore(JsonlIndexMixin, SqlStore):
    dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB, **options: Any) -> None:
        check_options(options)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._checkpointer = Checkpointer(self.path)
        with self._tx(write=True) as conn:
            self._migrate(conn)
        super().__init__(**options)

    def _connect(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if c is not None:
            return c
        if self._closed:
            raise RuntimeError("store is closed")
        c = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                            timeout=30.0)  # fmt: skip
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        c.execute("PRAGMA foreign_keys=OFF")
        c.execute("PRAGMA busy_timeout=30000")
        c.execute("PRAGMA temp_store=MEMORY")  # the GROUP BYs of counting and ingest
        c.execute("PRAGMA cache_size=-65536")  # 64 MiB: index inserts of big batches stay in memory
        # Checkpoints run on their own thread (_checkpoint); SQLite's automatic one, in the
        # commit that crosses the threshold, is the backstop, at ~40 MiB of WAL rather than
        # 4 MiB: a batch of thousands of events writes thousands of pages. The WAL restarts
        # after a complete checkpoint, so its size stays bounded by about that.
        c.execute("PRAGMA wal_autocheckpoint=10000")
        c.create_function("json_contains", 2, _contains, deterministic=True)
        self._local.conn = c
        with self._lock:
            self._all.append(c)
        return c

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Conn]:
        c = self._connect()
        if c.in_transaction:  # nested use from inside a transaction joins it
            yield _Conn(c)
            return
        c.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield _Conn(c)
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        if write:
            self._checkpointer.poke()

    def _bulk_insert(self, conn: Conn, table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
        # Rows really inserted get rowids above the current maximum (the write lock is held),
        # so exactly those are counted: grouped once into a temporary table, then summed into
        # each count table. Ids already stored are skipped and not counted.
        before = _top_rowid(conn, table)
        marks = ", ".join("?" * len(rows[0]))
        with self._timed("insert+indexes"):
            inserted = conn.many(
                f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING", rows
            )
        with self._timed("count tables"):
            conn.run(f"CREATE TEMP TABLE IF NOT EXISTS new_counts ({BATCH_COLS}, n)")
            if inserted == len(rows):
                # All new (the common case): grouped from the rows in hand, as on PostgreSQL,
                # for half what reading them back to group them in SQL costs (~1.2 us an event).
                groups = batch_counts(table, rows)
                marks = ", ".join("?" * len(groups[0]))
                conn.many(f"INSERT INTO temp.new_counts VALUES ({marks})", groups)
            else:
                conn.run(f"INSERT INTO temp.new_counts SELECT {BATCH_OF[table]}, count(*) FROM "
                         f"{table} WHERE rowid > ? GROUP BY 1, 2, 3, 4, 5, 6, 7", (before,))  # fmt: skip

    def _insert_costs(self, conn: Conn, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # Rows really inserted get rowids above the current maximum (the write lock is held),
        # as in _bulk_insert.
        before = _top_rowid(conn, "llm_costs")
        marks = ", ".join("?" * len(rows[0]))
        inserted = conn.many(f"INSERT INTO llm_costs ({COST_COLS}) VALUES ({marks}) "
                             "ON CONFLICT DO NOTHING", rows)  # fmt: skip
        if inserted == len(rows):  # all new (the common case): summed from the rows in hand
            conn.many(_ADD_NEW_HOUR_SUMS, hour_sums(rows))
            return [(row[2], row[10]) for row in rows]
        new = f"(SELECT * FROM llm_costs WHERE rowid > {int(before)})"
        conn.run(HOURS_FROM.format(new=new))
        return conn.q(f"SELECT session_id, total_p FROM {new} AS n")

    def _apply_counts(self, conn: Conn) -> None:
        with self._timed("count tables"):
            conn.run(f"CREATE TEMP TABLE IF NOT EXISTS new_counts ({BATCH_COLS}, n)")
            for counts in ROLLUPS:
                conn.run(from_batch_sql(counts, "temp.new_counts"))
            conn.run("DELETE FROM temp.new_counts")

    def _greatest(self, a: str, b: str) -> str:
        return f"max({a}, {b})"

    def _contains_filter(self, wanted: dict[str, Any]) -> tuple[str, list[Any]]:
        # The exact test is a Python function; SQLite's own JSON functions first narrow the
        # rows by the scalar leaves under nested objects, which never excludes a real match.
        conds: list[str] = []
        args: list[Any] = []
        _prefilter(wanted, "$", conds, args)
        conds.append("json_contains(configs, ?)")
        args.append(dumps(wanted))
        return " AND ".join(conds), args

    def close(self) -> None:
        super().close()
        self._checkpointer.close()
        with self._lock:
            self._closed = True
            conns, self._all = self._all, []
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
