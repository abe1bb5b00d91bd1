"""Opening what a command reads: the local store, a store URL or a collector.

Reading never creates anything: a ``--db`` file or a ``--jsonl`` file that does not exist is
an error, not a new empty store. The one thing a read may write is the local SQLite index of a
JSONL file that exists (``./.agentlog/agentlog.db``): it is derived from that file.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ._cli_common import UsageError

__all__ = ["LOCAL_DB", "LOCAL_JSONL", "NothingRecorded", "open_client", "wait_for_records"]

LOCAL_JSONL = ".agentlog/events.jsonl"
LOCAL_DB = ".agentlog/agentlog.db"  # the store's DEFAULT_DB, without importing the store here


class NothingRecorded(UsageError):
    """The local default place holds no records: the message says where it looked."""

    def __init__(self) -> None:
        where = Path(".agentlog").resolve()
        super().__init__(
            f"nothing recorded in {where} (looked for {LOCAL_JSONL} and {LOCAL_DB}).\n"
            "Record here with agentlog.init() (it writes ./.agentlog/events.jsonl), or point "
            "agentlog elsewhere:\n"
            "  --jsonl PATH   a JSONL file, e.g. the path= of agentlog.init(path=...)\n"
            "  --db URL       a store: sqlite:///path/to/agentlog.db or postgresql://...\n"
            "  --url URL      a collector, e.g. http://127.0.0.1:8029 (with --api-key KEY)"
        )


def _local_records() -> bool:
    from .exporters.file import rotated_files

    return any(Path(p).exists() for p in (LOCAL_JSONL, LOCAL_DB)) or bool(
        rotated_files(LOCAL_JSONL)
    )


def _sqlite_path(db: str) -> Path:
    if db.startswith("sqlite://"):
        db = db[len("sqlite://") :]
        db = db[1:] if db.startswith("/") else db
    return Path(db)


def _check_reads(db: str | None, jsonl: str | None) -> None:
    if jsonl is not None and not Path(jsonl).is_file():
        raise UsageError(f"--jsonl {jsonl}: no such file")
    if db is None:
        if jsonl is None and not _local_records():
            raise NothingRecorded()
        return
    if db.startswith(("postgresql://", "postgres://")):
        return
    path = _sqlite_path(db)
    if path.exists():
        return
    if not path.parent.is_dir():
        raise UsageError(f"--db {db}: no such directory {str(path.parent)!r}")
    if jsonl is None:
        raise UsageError(f"--db {db}: no such store (reading never creates one; "
                         f"'agentlog import FILE --db {db}' makes one from a JSONL file)")  # fmt: skip


def open_client(args: argparse.Namespace) -> Any:
    from .client import Client

    project = getattr(args, "project", None)
    url = getattr(args, "url", None)
    if url:
        if getattr(args, "db", None) or getattr(args, "jsonl", None):
            raise UsageError(
                "--url reads from a collector: it cannot be combined with --db/--jsonl"
            )
        if project is not None:
            raise UsageError("--project: a collector serves the project of the API key; "
                             "pass a key of that project with --api-key")  # fmt: skip
        if "base_url" not in inspect.signature(Client).parameters:
            raise UsageError(
                "--url: this installation of agentlog has no HTTP client for a collector"
            )
        key = getattr(args, "api_key", None) or os.environ.get("AGENTLOG_API_KEY")
        return Client(base_url=url, api_key=key)
    db, jsonl = getattr(args, "db", None), getattr(args, "jsonl", None)
    if getattr(args, "reads", True):
        _check_reads(db, jsonl)
    if db and db.startswith(("postgresql://", "postgres://")):
        _check_postgres(db)
    scope = {"project": project} if project is not None else {}
    try:
        if db is None and jsonl is None:
            return Client(**scope)
        return Client(db=db, jsonl=jsonl, **scope)
    except ImportError as exc:  # open_store names the extra to install
        raise UsageError(f"--db {db}: {exc}") from None
    except Exception as exc:
        raise UsageError(f"cannot open the store {db or LOCAL_DB}: {exc}") from None


def _check_postgres(url: str) -> None:
    """Fail in seconds, with the server's own words, where the pool would retry for 30 s."""
    from ._hints import install_hint

    try:
        import psycopg
    except ImportError:
        raise UsageError(f"--db {url}: PostgreSQL needs {install_hint('postgres')}") from None
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        raise UsageError(f"cannot connect to {url}: {' '.join(str(exc).split())}") from None


def wait_for_records(args: argparse.Namespace) -> bool:
    """``tail`` before anything is recorded: wait for ``./.agentlog`` to get records (every
    ``--interval``, up to ``--timeout``). False when the time ran out."""
    print(f"agentlog: waiting for records in {Path(LOCAL_JSONL).resolve()} (Ctrl-C to stop)",
          file=sys.stderr, flush=True)  # fmt: skip
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    pause = threading.Event()  # never set: an interruptible wait
    while not _local_records():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return False
        pause.wait(args.interval if left is None else min(args.interval, left))
    return True
