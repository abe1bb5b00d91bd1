"""The ``agentlog`` command: read recorded sessions from the terminal, import files, serve MCP.

Every reading command works on the local store (``./.agentlog/agentlog.db``, indexing
``./.agentlog/events.jsonl`` first) unless ``--db URL`` names another store or ``--url`` a
collector, and ``--project`` another project of a store. Reading never creates a store or a
file. Ids may be given by a unique prefix (8+ characters). User errors (bad arguments, unknown
ids, unreachable stores) end with a one-line message on stderr and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import _cli_follow as follow
from . import _cli_read as read
from ._cli_common import UsageError, config_pair
from ._cli_open import NothingRecorded, open_client, wait_for_records
from ._hints import install_hint

__all__ = ["UsageError", "config_pair", "main", "open_client"]

_Handler = Callable[[argparse.Namespace, Any], int]


def _number(kind: Callable[[str], Any], what: str, *, low: float, strict: bool) -> Any:
    """An argparse type: ``kind(text)``, finite and above ``low`` (or at least ``low``)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not (value > low if strict else value >= low) or value == float("inf"):
            bound = f"more than {low:g}" if strict else f"{low:g} or more"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


_positive_int = _number(int, "an integer", low=1, strict=False)
_count = _number(int, "an integer", low=0, strict=False)
_positive_float = _number(float, "a number", low=0, strict=True)


def _connection_options(p: argparse.ArgumentParser, *, sub: bool) -> None:
    # The same options on the main parser and on every subcommand, so they may come before or
    # after the command name; SUPPRESS keeps a subcommand's absent option from resetting one
    # given before it.
    d: Any = argparse.SUPPRESS if sub else None
    g = p.add_argument_group("where to read")
    g.add_argument("--db", default=d, metavar="URL",
                   help="a store: a SQLite path, sqlite:///path or postgresql://... "
                        "(default: ./.agentlog/agentlog.db)")  # fmt: skip
    g.add_argument("--jsonl", default=d, metavar="PATH",
                   help="index this JSONL file into the store before reading "
                        "(default: ./.agentlog/events.jsonl when --db is not given)")  # fmt: skip
    g.add_argument(
        "--url", default=d, metavar="URL", help="a collector's base URL, e.g. http://127.0.0.1:8029"
    )
    g.add_argument(
        "--api-key",
        default=d,
        metavar="KEY",
        help="the collector API key (default: $AGENTLOG_API_KEY)",
    )
    g.add_argument("--project", default=d, metavar="NAME",
                   help="the project to read in a store (default: 'default'); a keyed "
                        "collector files each key's records under its project")  # fmt: skip
    c = p.add_mutually_exclusive_group()
    c.add_argument("--color", dest="color", action="store_const", const=True, default=d,
                   help="colour the output even when it is not a terminal")  # fmt: skip
    c.add_argument("--no-color", dest="color", action="store_const", const=False, default=d,
                   help="never colour the output (NO_COLOR is honoured too)")  # fmt: skip


def _paging(p: argparse.ArgumentParser, *, limit: int = 50) -> None:
    p.add_argument(
        "--limit", type=_positive_int, default=limit, help=f"page size (default {limit})"
    )
    p.add_argument("--cursor", help="continue from the cursor printed by the previous page")
    p.add_argument("--all", action="store_true", help="follow every page to the end")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="agentlog",
        description="Read agent sessions recorded by agentlog: list, timelines, queries, MCP.",
    )
    parser.add_argument("--version", action="version", version=f"agentlog {__version__}")
    _connection_options(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, sub=True)

    def cmd(name: str, handler: _Handler, help: str, *, reads: bool = True,
            empty: str = "error") -> argparse.ArgumentParser:  # fmt: skip
        # empty: what a read does where nothing is recorded: "answer" (say so, exit 0),
        # "wait" (for records to appear) or "error" (exit 2).
        p = subs.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(handler=handler, reads=reads, empty=empty)
        return p

    p = cmd("sessions", read.sessions, "list sessions, newest first", empty="answer")
    p.add_argument("--user", help="only this user's sessions")
    p.add_argument("--status", choices=["running", "success", "error", "cancelled", "timeout"])
    p.add_argument("--name", help="only sessions with exactly this name")
    p.add_argument("--config", dest="configs", type=config_pair, action="append", default=[],
                   metavar="KEY=VALUE",
                   help="configs contain this key/value (repeatable; VALUE is JSON if it parses)")  # fmt: skip
    p.add_argument("--oldest-first", action="store_true", help="oldest sessions first")
    p.add_argument("--tag", dest="tags", action="append", metavar="TAG",
                   help="only sessions carrying this tag (repeatable: all of them)")  # fmt: skip
    p.add_argument("--score", dest="scores", action="append", metavar="NAME>=VALUE",
                   help="the latest score of NAME satisfies this, e.g. helpful>=4 (repeatable)")  # fmt: skip
    _paging(p)

    p = cmd("timeline", read.timeline, "one session's timeline: nested spans, messages, errors")
    p.add_argument("session", metavar="SESSION",
                   help="the session id, or a unique prefix of it (8+ characters)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="the session and its items as JSON")

    p = cmd("events", read.events, "events of one session, or of every session", empty="answer")
    p.add_argument("session", metavar="SESSION", nargs="?",
                   help="the session id or a unique prefix of it (default: all sessions)")  # fmt: skip
    p.add_argument("--type", dest="types", action="append", metavar="TYPE",
                   help="only this event type or message role (repeatable)")  # fmt: skip
    p.add_argument("--name", help="only events with this name")
    p.add_argument("--newest-first", action="store_true", help="newest first (needs SESSION)")
    _paging(p)

    p = cmd("counts", read.counts, "event counts per time bucket or per session",
            empty="answer")  # fmt: skip
    p.add_argument("--days", type=_positive_float, default=7.0, help="look back (default 7)")
    p.add_argument("--bucket", choices=["minute", "hour", "day", "session"], default="hour")
    p.add_argument("--type", help="only this event type or message role (--type error: "
                                  "the events of type error; for every failure use --status)")  # fmt: skip
    p.add_argument("--status", choices=["ok", "error"],
                   help="error: only failures as the session rollups count them (error "
                        "events and failed tool/LLM/other spans); ok: the rest. Messages "
                        "have no status and are left out")  # fmt: skip
    p.add_argument("--name", help="only events with this name")
    p.add_argument("--json", action="store_true", help="the counts as JSON")

    p = cmd("markers", read.markers, "how many events of a type come between markers",
            empty="answer")  # fmt: skip
    p.add_argument("--marker", dest="marker_types", action="append", metavar="TYPE",
                   help="a marker type (repeatable; default compaction)")  # fmt: skip
    p.add_argument("--count-type", default="user",
                   help="the event type or message role to count (default user)")  # fmt: skip
    p.add_argument("--days", type=_positive_float, default=7.0, help="look back (default 7)")
    p.add_argument("--json", action="store_true", help="the statistics as JSON")

    p = cmd("context", read.context, "the items around one event or message")
    p.add_argument("event", metavar="EVENT",
                   help="the event or message id, or a unique prefix of it (8+ characters)")  # fmt: skip
    p.add_argument("--before", type=_count, default=5, help="items before (default 5)")
    p.add_argument("--after", type=_count, default=5, help="items after (default 5)")
    p.add_argument("--json", action="store_true", help="the context as JSON")

    p = cmd("tail", follow.tail, "print new events and messages as they are recorded",
            empty="wait")  # fmt: skip
    p.add_argument("--session", help="only this session")
    p.add_argument("--type", dest="types", action="append", metavar="TYPE",
                   help="only this event type or message role (repeatable)")  # fmt: skip
    p.add_argument("-n", "--lines", type=_count, default=10,
                   help="first print the last N existing items (default 10)")  # fmt: skip
    p.add_argument("--interval", type=_positive_float, default=0.5,
                   help="seconds between polls (default 0.5)")  # fmt: skip
    p.add_argument("--max-events", type=_positive_int, help="stop after printing N items")
    p.add_argument("--timeout", type=_positive_float, help="stop after S seconds")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = cmd("import", follow.import_file, "load records from a JSONL file into the store",
            reads=False)  # fmt: skip
    p.add_argument("file", metavar="FILE.jsonl", help="records, one JSON object per line")
    p.add_argument("--batch-size", type=_positive_int, default=5000,
                   help="records per ingest call (default 5000)")  # fmt: skip
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", help="report every batch on stderr")
    shown.add_argument("--quiet", action="store_true", help="no progress, only errors")

    from ._cli_export import register as register_export

    register_export(cmd, config_pair)

    from . import _cli_costs

    _cli_costs.add_commands(cmd, days=_positive_float)
    cmd("mcp", _mcp, "serve the sessions and queries to an LLM over MCP (stdio)")
    importlib.import_module("agentlog._cli_prune").add_command(subs)
    _collector_commands(subs)
    _collector_commands(subs, "agentlog.ui._cli", ("ui",))
    return parser


def _collector_commands(
    subs: Any,
    module_name: str = "agentlog.collector._cli",
    names: tuple[str, ...] = ("serve", "keys"),
) -> None:
    """``serve`` and ``keys`` come from the collector (``ui`` from the web UI), when it is
    installed; without it they still exist, to say what to install."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name or ""
        if missing.split(".")[0] == "agentlog":  # a broken installation, not a missing extra
            why = f"the collector failed to load: {exc}"
        else:
            why = f"needs the collector (missing module {missing!r}): {install_hint('server')}"
        for name in names:
            # Every argument is taken as a positional (no prefix char), so whatever follows
            # the command, --help included, reaches the message below.
            p = subs.add_parser(name, help=f"(not installed) {why}", add_help=False,
                                prefix_chars="\0")  # fmt: skip
            p.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
            p.set_defaults(handler=_missing(f"agentlog {name} {why}"), opens_client=False)
        return
    add = getattr(module, "add_commands", None)
    if callable(add):
        add(subs)


def _missing(message: str) -> _Handler:
    def handler(args: argparse.Namespace, client: Any) -> int:
        raise UsageError(message)

    return handler


def _mcp(args: argparse.Namespace, client: Any) -> int:
    from .mcp import serve

    serve(client)
    return 0


def _open(args: argparse.Namespace) -> Any:
    """The command's Client; None when the command has answered already (nothing here)."""
    try:
        return open_client(args)
    except NothingRecorded as exc:
        empty = getattr(args, "empty", "error")
        if empty == "answer":
            print(f"agentlog: {exc}", file=sys.stderr)
            return None
        if empty == "wait" and wait_for_records(args):
            return open_client(args)
        if empty == "wait":
            return None  # --timeout ran out before anything was recorded
        raise


def _user_error(exc: BaseException) -> str | None:
    """The message for an exception that is the user's to fix, or None for a real bug."""
    from pydantic import ValidationError

    from ._errors import AgentlogError

    if isinstance(exc, UsageError | AgentlogError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return f"unexpected data: {exc.errors()[0]['msg']}"
    if isinstance(exc, OSError):
        return str(exc)
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return None
    if isinstance(exc, httpx.HTTPStatusError):
        return f"{exc.request.url}: HTTP {exc.response.status_code} {exc.response.text[:200]}"
    if isinstance(exc, httpx.HTTPError):
        return f"cannot reach the collector: {exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage and the error
        return exc.code if isinstance(exc.code, int) else 2
    handler: _Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    client = None
    try:
        # Commands that need no Client (the collector's serve and keys) say opens_client=False.
        if getattr(args, "opens_client", True):
            client = _open(args)
            if client is None:
                return 0
        return int(handler(args, client))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (``| head``) went away: stop quietly, and keep Python from complaining
        # about the unflushable stdout at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except Exception as exc:
        message = _user_error(exc)
        if message is None:
            raise
        print(f"agentlog: error: {message}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()


if __name__ == "__main__":
    sys.exit(main())
