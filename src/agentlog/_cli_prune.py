"""``agentlog prune --older-than 30d``: retention run once, from the command line."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["add_command", "duration_arg", "prune"]


def duration_arg(text: str) -> float:
    """An argparse type: seconds in ``30d``, ``12h``, ``90m``..."""
    from .store import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_command(subs: Any) -> None:
    p = subs.add_parser(
        "prune", help="remove sessions that ended before a cut, with their events and messages",
        description="Remove sessions that ended more than --older-than ago, with their events "
        "and messages (and sessionless events older than that), in small transactions that do "
        "not hold up ingest or reads. Sessions still running are kept.",
    )  # fmt: skip
    p.add_argument("--older-than", type=duration_arg, required=True, metavar="AGE",
                   help="e.g. 30d, 12h, 90m, 2w")  # fmt: skip
    p.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                   help="the store: a SQLite path, sqlite:///path or postgresql://... "
                        "(default: ./.agentlog/agentlog.db)")  # fmt: skip
    p.add_argument("--project", help="only this project (default: every project)")
    p.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=prune, opens_client=False)


def prune(args: argparse.Namespace, client: Any = None) -> int:
    from ._errors import InvalidInputError as UsageError  # printed as a user error, exit 2
    from .store import open_store
    from .store.sqlite import DEFAULT_DB

    db = getattr(args, "db", None)
    if args.batch < 1:
        raise UsageError("--batch: must be >= 1")
    if db is None or not db.startswith(("postgresql://", "postgres://")):
        path = db or DEFAULT_DB
        path = path[len("sqlite://") :].removeprefix("/") if path.startswith("sqlite://") else path
        if not Path(path).is_file():  # pruning never creates a database
            raise UsageError(f"no store at {os.path.abspath(path)}")
    store = open_store(db, processing=False)
    try:
        result = store.prune(args.older_than, project=args.project, batch=args.batch)
    finally:
        store.close()
    if args.json:
        print(json.dumps(result.model_dump()))
    else:
        print(f"removed {result.sessions} sessions, {result.events} events, "
              f"{result.messages} messages (longest step {result.longest_step_ms:.0f} ms)")  # fmt: skip
    return 0
