"""The ``agentlog`` command (minimal: the collector's ``serve`` and ``keys``).

Each subcommand sets ``handler(args, client) -> int``; commands with ``opens_client=False``
get no Client.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .collector._cli import add_commands

    parser = argparse.ArgumentParser(prog="agentlog", description="agentlog command line")
    parser.add_argument("--version", action="version", version=f"agentlog {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(subs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    handler: Any = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return int(handler(args, None))


if __name__ == "__main__":
    sys.exit(main())
