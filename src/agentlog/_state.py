"""The SDK's process-wide state: one place to look, one attribute read on the hot path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._config import Config
    from ._pipeline import Pipeline

__all__ = ["STATE"]


class _State:
    __slots__ = ("capture", "config", "pipeline")

    def __init__(self) -> None:
        # None until init(): every recording path checks this first and calls straight through.
        self.pipeline: Pipeline | None = None
        self.config: Config | None = None
        self.capture = True


STATE = _State()
