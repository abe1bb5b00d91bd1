"""The connection seam both SQL backends implement, and batching of ``IN (...)`` lists.

Its own module, below everything else in the package: the schema, the count tables and the
store mixins all speak to a ``Conn`` without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

__all__ = ["Conn", "chunks"]


class Conn(Protocol):
    """A connection inside one transaction; SQL uses ``?`` placeholders."""

    dialect: str  # "sqlite" or "postgres", as its store's

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def batches(
        self, sql: str, params: Sequence[Any], size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows ``size`` at a time, for results too large to hold as Python objects at
        once (each object made sets the garbage collector closer to a pass over all of them).
        PostgreSQL may still be sending the rest: the connection runs no other statement until
        the batches are all read or the iterator is closed."""
        ...

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...
    def run(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run ``sql`` once per row; the rows it changed in all (as ``run``)."""
        ...

    def q_each(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of each ``(sql, params)``, run in order; PostgreSQL sends them all in one
        round trip (with the transaction's BEGIN when they are its first)."""
        ...

    def pipelined(self) -> AbstractContextManager[Any]:
        """Statements run inside are sent without waiting for each one's answer (PostgreSQL's
        pipeline mode: one round trip for them all, where each costs the server and the
        caller a wake-up); an error surfaces at the latest when the block ends. Nothing inside
        may read a result or a row count. SQLite runs them as they come. The block gets
        PostgreSQL's pipeline (whose ``sync()`` waits for the answers so far), None on SQLite."""
        ...


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
