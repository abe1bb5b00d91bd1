"""What every ``agentlog`` subcommand module shares: the user-error type, output helpers and
colour choice. It imports no command module, so ``cli`` and the command modules depend on it
and never on each other in a circle."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from pydantic import BaseModel

__all__ = ["ShortIds", "UsageError", "config_pair", "dump", "json_line", "out", "use_color"]


class UsageError(Exception):
    """A mistake of the user's: reported as ``agentlog: error: <message>``, exit status 2."""


def config_pair(text: str) -> tuple[str, Any]:
    """``key=value``: the value as JSON when it parses (``2``, ``true``, ``{"a":1}``), else
    the plain string, so ``--config env=prod`` and ``--config version=2`` both read naturally."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def use_color(args: argparse.Namespace) -> bool:
    """``--color``/``--no-color`` win; otherwise colour on a terminal unless NO_COLOR is set."""
    forced = getattr(args, "color", None)
    if forced is not None:
        return bool(forced)
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def out(line: str) -> None:
    sys.stdout.write(line + "\n")


def json_line(obj: Any) -> None:
    out(json.dumps(obj, ensure_ascii=False))


class ShortIds:
    """Session ids shortened for a column, each still a unique prefix of its id in the store
    (so it can be pasted back wherever an id is taken): 13 characters, more when another
    session shares them."""

    WIDTH = 13

    def __init__(self, client: Any) -> None:
        self._client = client
        self._known: dict[str, str] = {}

    def __call__(self, session_id: str) -> str:
        short = self._known.get(session_id)
        if short is None:
            short = self._known[session_id] = self._shortest(session_id)
        return short

    def _shortest(self, session_id: str) -> str:
        # A prefix that is unique stays unique when longer: a binary search for the first.
        low, high = self.WIDTH, len(session_id)
        while low < high:
            mid = (low + high) // 2
            if self._unique(session_id, mid):
                high = mid
            else:
                low = mid + 1
        return session_id[:low]

    def _unique(self, session_id: str, width: int) -> bool:
        from ._errors import AgentlogError

        try:
            return bool(self._client.sessions.get(session_id[:width]).id == session_id)
        except AgentlogError:
            return False  # ambiguous (or unknown): a longer prefix
