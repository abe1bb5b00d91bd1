"""``SqlStore``: the whole Store contract over SQL, assembled from its parts."""

from __future__ import annotations

from typing import Any

from ._compare import CompareMixin
from ._conn import Conn
from ._costs import CostsMixin
from ._processing import ProcessingMixin
from ._retention import RetentionMixin
from ._scores import ScoresMixin
from ._sessions import SessionsMixin
from ._timeline import TimelineMixin
from .query import QueryMixin

__all__ = ["OPTIONS", "SqlStore", "check_options"]

OPTIONS = ("auto_close_after", "max_turns", "ttl_seconds", "processing", "prices")


def check_options(options: dict[str, Any]) -> None:
    """Refuse unknown options before a backend opens anything."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"unknown store option(s): {', '.join(unknown)}")


class SqlStore(
    CostsMixin,
    ScoresMixin,
    CompareMixin,
    SessionsMixin,
    TimelineMixin,
    QueryMixin,
    ProcessingMixin,
    RetentionMixin,
):
    def __init__(
        self, *, auto_close_after: float = 24 * 3600.0, max_turns: int = 20,
        ttl_seconds: float = 60.0, processing: bool = True, prices: Any = None,
    ) -> None:  # fmt: skip
        if prices is not None:  # price overrides (``_pricing.load_prices``) for what is ingested
            self.set_prices(prices)
        if auto_close_after <= 0:
            raise ValueError("auto_close_after must be > 0 seconds")
        self.auto_close_after = auto_close_after
        self._start_processing(max_turns=max_turns, ttl_seconds=ttl_seconds, run=processing)

    def _forget_session_extras(self, conn: Conn, project: str, session_id: str) -> None:
        # Deleting or pruning a session removes its scores and priced calls with it.
        self._forget_costs(conn, project, session_id)
        self._forget_scores(conn, project, session_id)

    def close(self) -> None:
        """Stop the processing worker; a backend then releases its connections."""
        self._stop_processing()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
