"""``SqlStore``: the whole Store contract over SQL, assembled from its parts."""

from __future__ import annotations

from typing import Any

from ._sessions import SessionsMixin
from ._timeline import TimelineMixin

__all__ = ["SqlStore"]


class SqlStore(SessionsMixin, TimelineMixin):
    def __init__(self, *, auto_close_after: float = 24 * 3600.0, **options: Any) -> None:
        if options:
            raise TypeError(f"unknown store option(s): {', '.join(sorted(options))}")
        self.auto_close_after = auto_close_after

    def close(self) -> None:
        pass

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
