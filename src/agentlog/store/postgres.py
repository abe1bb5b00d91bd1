"""The PostgreSQL backend: psycopg 3 with a connection pool, JSONB with a GIN index on configs.

Queries are shared with SQLite (``?`` placeholders become ``%s``). Payloads are ``json`` columns
(the text as written, keys in recorded order); configs containment is the native ``@>`` on
``configs_b``, a generated JSONB copy of ``configs`` served by ``sessions_configs`` (GIN,
``jsonb_path_ops``). Batch ingest goes through COPY straight into the table in a savepoint, a
part at a time: while the server stores one part, the next is checked and its llm_calls priced
(``StoreCore._streams``). A batch that re-sends a stored id goes through a
temporary table of its transaction and ``INSERT ... ON CONFLICT DO NOTHING`` instead.
JSON columns are read back as text and parsed once, like SQLite's.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

import psycopg
from psycopg import pq
from psycopg import sql as pgsql
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from ._conn import Conn
from ._costs import ADD_HOUR_SUMS, COST_COLS, HOUR_SUM_COLS, HOURS_FROM, hour_sums
from ._rollup import BATCH_COLS, BATCH_OF, ROLLUPS, batch_counts, from_batch_sql
from ._rows import EVENT_COLS, dumps
from ._store import SqlStore, check_options

__all__ = ["PostgresStore"]

_LOCK_KEY = 0x6167656E746C6F67  # "agentlog": serializes migrations of concurrent openers


# Sums already grouped (``hour_sums``) into ``cost_hours``, in key order as every writer of it.
_HOURS_FROM_SUMS = ADD_HOUR_SUMS.format(
    source=f"SELECT {HOUR_SUM_COLS} FROM _new_hours ORDER BY 1, 2, 3, 4"
)

# The columns the count tables group by: the rest of an inserted row is not carried along.
_RETURNING = {"events": "project, ts_us, session_id, type, name",
              "messages": "project, ts_us, session_id, role"}  # fmt: skip


@functools.lru_cache(maxsize=512)
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _can_chunk() -> bool:
    try:
        from psycopg import capabilities  # psycopg >= 3.2
    except ImportError:
        return False
    send = getattr(psycopg.Cursor, "_stream_send_gen", None)
    return (capabilities.has_stream_chunked() and hasattr(psycopg.Cursor, "_stream_fetchone_gen")
            and send is not None and "size" in inspect.signature(send).parameters)  # fmt: skip


# Whether ``batches`` reads its rows in chunks as the server sends them (libpq >= 17, psycopg
# >= 3.2) rather than once the whole result has arrived: the server's scan then runs beside the
# caller's work on the first chunks instead of before it (that scan was a third of
# events_between_markers' time).
CHUNKED = _can_chunk()


def _chunks(
    cur: psycopg.Cursor[Any], sql: str, params: Sequence[Any], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` as libpq's chunks of ``size``. Public ``Cursor.stream(size=...)``
    gets the same chunks but hands them out row by row, a Python step per row that costs what
    the overlap saves; so this drives the steps ``stream()`` itself is made of and converts a
    chunk in one call (psycopg's private API, checked for by ``CHUNKED``)."""
    # Without ``stream()``'s hold of the connection's lock across the rows: a statement run on
    # this connection before they are all read fails ("another command is already in
    # progress") rather than waiting for the lock forever in the same thread.
    conn = cur.connection
    conn.wait(cur._stream_send_gen(sql, params, binary=True, size=size))
    first = True
    try:
        while res := conn.wait(cur._stream_fetchone_gen(first)):
            first = False
            yield cur._tx.load_rows(0, res.ntuples, cur._make_row)
    finally:  # left early (an error in the caller): read the rest, so the connection is free
        if conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            with suppress(psycopg.Error):
                while conn.wait(cur._stream_fetchone_gen(False)):
                    pass


def _copy(cur: psycopg.Cursor[Any], table: str, cols: str, rows: Iterable[Sequence[Any]]) -> None:
    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def _savepoint(cur: psycopg.Cursor[Any]) -> Iterator[None]:
    """A savepoint to go back to when the block meets a stored id; left in place when it does
    not: a RELEASE would cost a round trip, and the commit ends the savepoint all the same."""
    cur.execute("SAVEPOINT agentlog_copy")
    try:
        yield
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT agentlog_copy")
        raise


class _Conn:
    dialect = "postgres"
    __slots__ = ("c", "staged")

    def __init__(self, c: psycopg.Connection[Any]) -> None:
        self.c = c
        self.staged = False  # this transaction made the connection's staging tables

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.c.execute(_pg(sql), params).fetchall()

    def batches(
        self, sql: str, params: Sequence[Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        # Binary: integers arrive as 8 bytes, not as text to parse.
        with self.c.cursor(binary=True) as cur:
            if not CHUNKED:
                cur.execute(_pg(sql), params)
                while rows := cur.fetchmany(size):
                    yield rows
                return
            yield from _chunks(cur, _pg(sql), params, size)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.c.execute(_pg(sql), params).fetchone()
        return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.c.execute(_pg(sql), params).rowcount

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        with self.c.cursor() as cur:
            cur.executemany(_pg(sql), rows)
            return cur.rowcount

    def pipelined(self) -> AbstractContextManager[Any]:
        return self.c.pipeline()

    def q_each(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        with self.c.pipeline():
            cursors = [self.c.execute(_pg(sql), params) for sql, params in statements]
        return [cur.fetchall() for cur in cursors]


class PostgresStore(SqlStore):
    dialect = "postgres"
    json_param = "?::json"
    _for_update = " FOR UPDATE"
    _streams = True
    _refuses_nul = True

    def __init__(self, url: str, *, schema: str | None = None, min_size: int = 1,
                 max_size: int = 8, **options: Any) -> None:  # fmt: skip
        check_options(options)
        self.url = url
        self.schema = schema
        if schema is not None:
            with psycopg.connect(url, autocommit=True) as c:
                c.execute(
                    pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(schema))
                )
        self._local = threading.local()
        # Connections whose temporary staging tables exist (a connection the pool drops goes).
        self._staged: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()
        self._pool = ConnectionPool(url, min_size=min_size, max_size=max_size,
                                    configure=self._configure, open=True)  # fmt: skip
        try:
            with self._tx(write=True) as conn:
                self._migrate(conn)
            super().__init__(**options)
        except BaseException:
            self._pool.close()
            raise

    def _configure(self, c: psycopg.Connection[Any]) -> None:
        c.adapters.register_loader("jsonb", TextLoader)
        c.adapters.register_loader("json", TextLoader)
        if self.schema is not None:
            c.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        c.commit()

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Conn]:
        current: _Conn | None = getattr(self._local, "conn", None)
        if current is not None:  # nested use from inside a transaction joins it
            yield current
            return
        with self._pool.connection() as c:
            wrapped = _Conn(c)
            self._local.conn = wrapped
            try:
                # The transaction begins with its first statement (psycopg sends the BEGIN
                # then), so that a first statement sent in a pipeline (``q_each``) carries
                # the BEGIN in its round trip instead of costing one of its own.
                try:
                    yield wrapped
                except BaseException:
                    with suppress(psycopg.Error):  # a broken connection: the pool drops it
                        c.rollback()
                    raise
                c.commit()
                if wrapped.staged:  # committed: the staging tables made in it now last
                    self._staged.add(c)
            finally:
                self._local.conn = None

    def _migrate(self, conn: Conn) -> None:
        conn.q("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
        super()._migrate(conn)

    def _bulk_insert(self, conn: Conn, table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
        self._stream(conn, table, cols, rows)

    def _stream_events(self, conn: Conn, parts: Iterator[list[tuple[Any, ...]]]) -> None:
        """Each part's events go into the COPY as it comes, while the server inserts and
        indexes the parts sent before it (~10 µs a row)."""
        first = next((part for part in parts if part), None)  # no events: no COPY
        if first is not None:
            # Lazily: a part is checked and built only when the COPY asks for its rows.
            rest = itertools.chain.from_iterable(parts)
            self._stream(conn, "events", EVENT_COLS, itertools.chain(first, rest))

    def _stream(
        self, conn: Conn, table: str, cols: str, rows: Iterable[tuple[Any, ...]]
    ) -> None:  # fmt: skip
        """Insert ``rows``, sent as they come (the server stores the first while the caller
        makes the next).

        Most batches hold only new ids: they are COPYed straight into the table in a
        savepoint (~15% less than COPY to a staging table and ``INSERT ... SELECT``; a plain
        insert ~25% less than ``ON CONFLICT``'s speculative one), and every row counts,
        grouped here for ``_apply_counts`` to sum once per transaction. A batch with an id
        already stored (a re-send) fails that COPY and goes through the staging table and
        ``ON CONFLICT DO NOTHING``, counting what RETURNING gives."""
        assert isinstance(conn, _Conn)
        self._staging(conn)
        rows = iter(rows)
        sent: list[tuple[Any, ...]] = []  # kept for the counts, or for the staging table
        keep = sent.append
        with conn.c.cursor() as cur:
            try:
                with self._timed("insert+indexes"), _savepoint(cur):
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        write = copy.write_row
                        for row in rows:
                            keep(row)
                            write(row)
                        counts = batch_counts(table, sent)
            except psycopg.errors.UniqueViolation:
                sent.extend(rows)  # what the refused COPY had not taken yet
            else:
                _copy(cur, "_new_counts", f"{BATCH_COLS}, n", counts)
                return
            temp = self._resend_table(cur, table)
            with self._timed("copy"):
                _copy(cur, temp, cols, sent)
            with self._timed("insert+indexes"):
                cur.execute(f"WITH ins AS (INSERT INTO {table} ({cols}) SELECT {cols} FROM {temp} "
                            f"ON CONFLICT DO NOTHING RETURNING {_RETURNING[table]}) "
                            f"INSERT INTO _new_counts SELECT {BATCH_OF[table]}, count(*) FROM ins "
                            "GROUP BY 1, 2, 3, 4, 5, 6, 7")  # fmt: skip
            cur.execute(f"DELETE FROM {temp}")

    def _insert_costs(self, conn: Conn, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Calls all new (their events went in by the straight COPY) are COPYed straight into
        ``llm_costs`` in a savepoint, and their hourly sums (``hour_sums``, made here) added
        from a staging table: the server neither stages the rows nor sends them back. A batch
        re-sending a stored call fails that COPY and goes through a staging table, where one
        statement inserts what is new, sums it per hour and gives back the (session_id,
        total_p) of what was new."""
        assert isinstance(conn, _Conn)
        self._staging(conn)
        inserted: list[tuple[Any, ...]]
        with conn.c.cursor() as cur:
            try:
                with _savepoint(cur):
                    _copy(cur, "llm_costs", COST_COLS, rows)
            except psycopg.errors.UniqueViolation:
                pass
            else:
                _copy(cur, "_new_hours", HOUR_SUM_COLS, hour_sums(rows))
                with conn.c.pipeline():
                    cur.execute(_HOURS_FROM_SUMS)
                    cur.execute("DELETE FROM _new_hours")
                return [(row[2], row[10]) for row in rows]
            self._resend_table(cur, "llm_costs")
            _copy(cur, "_in_costs", COST_COLS, rows)
            cur.execute(f"WITH ins AS (INSERT INTO llm_costs ({COST_COLS}) SELECT {COST_COLS} "
                        "FROM _in_costs ON CONFLICT DO NOTHING RETURNING *), "
                        f"h AS ({HOURS_FROM.format(new='ins')}) SELECT session_id, total_p "
                        "FROM ins")  # fmt: skip
            inserted = cur.fetchall()
            cur.execute("DELETE FROM _in_costs")
        return inserted

    def _staging(self, conn: Conn) -> None:
        """This connection's staging tables of the sums every batch adds (the count tables'
        groups, the hourly cost sums), made once per connection (two DDL round trips per
        batch cost ~3% of ingest); ON COMMIT DELETE ROWS empties them for every transaction.
        They count as made once the transaction that made them commits: a rolled-back one
        takes them with it."""
        assert isinstance(conn, _Conn)
        c = conn.c
        if conn.staged or c in self._staged:
            return
        c.execute("CREATE TEMP TABLE IF NOT EXISTS _new_hours (LIKE cost_hours) "
                  "ON COMMIT DELETE ROWS")  # fmt: skip
        c.execute("CREATE TEMP TABLE IF NOT EXISTS _new_counts (project TEXT, minute BIGINT, "
                  "hour BIGINT, session_id TEXT COLLATE \"C\", kind TEXT, type TEXT, name TEXT, "
                  "n BIGINT) ON COMMIT DELETE ROWS")  # fmt: skip
        conn.staged = True

    @staticmethod
    def _resend_table(cur: psycopg.Cursor[Any], table: str) -> str:
        """The staging table of a re-sent batch's rows of ``table``, made in the transaction
        that needs it and dropped at its commit. Kept for the connection's life, it would be
        emptied at every commit that touches a temporary table (ON COMMIT DELETE ROWS
        truncates each such table, ~0.2 ms apiece, and every batch touches the sums' ones):
        re-sends are rare, so their DDL costs less than that truncation at every commit."""
        temp = f"_in_{table.removeprefix('llm_')}"
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {table}) ON COMMIT DROP")
        return temp

    def _apply_counts(self, conn: Conn) -> None:
        assert isinstance(conn, _Conn)
        with self._timed("count tables"), conn.c.cursor() as cur:
            # One statement per count table, in their order, each in key order, as retention
            # takes rows out: (the sub-statements of one WITH run in no set order, and two
            # writers locking rows in different orders deadlock.)
            for table in ROLLUPS:
                cur.execute(from_batch_sql(table, "_new_counts"))
            # Emptied for the next project's batches of this transaction. DELETE, not
            # TRUNCATE: a TRUNCATE gives the table a new file each time (~1 ms a batch), and
            # the commit empties it all the same (ON COMMIT DELETE ROWS).
            cur.execute("DELETE FROM _new_counts")

    def _greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})"

    def _contains_filter(self, wanted: dict[str, Any]) -> tuple[str, list[Any]]:
        return "configs_b @> ?::jsonb", [dumps(wanted)]

    def drop_schema(self) -> None:
        """Drop this store's schema with everything in it (tests use one schema per run)."""
        if self.schema is None:
            raise ValueError("drop_schema() needs a store opened with schema=...")
        self.close()
        with psycopg.connect(self.url, autocommit=True) as c:
            c.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                pgsql.Identifier(self.schema)))  # fmt: skip

    def close(self) -> None:
        super().close()
        self._pool.close()
