"""``agentlog export``: selected sessions as agentlog records (JSONL) or replayed as OTLP.

``--format jsonl`` writes records that ``agentlog import`` (or a collector's ``/v1/ingest``)
takes back with the same ids; ``--format otlp`` sends the same records as OpenTelemetry spans,
through the ``otlp`` exporter, to any OTLP/HTTP endpoint (our collector's ``/v1/traces`` reads
them back as they were). This is how data moves from the local store to a collector.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import IO, Any

__all__ = ["register"]

_OTLP_BATCH = 512  # records per OTLP request


def register(cmd: Callable[..., argparse.ArgumentParser], config_pair: Any) -> None:
    p = cmd("export", run, "write sessions as records (JSONL) or send them to an OTLP endpoint")
    p.add_argument("--session", dest="ids", action="append", default=[], metavar="ID",
                   help="this session (repeatable; default: every session the filters match)")  # fmt: skip
    p.add_argument("--user", help="only this user's sessions")
    p.add_argument("--status", choices=["running", "success", "error", "cancelled", "timeout"])
    p.add_argument("--name", help="only sessions with exactly this name")
    p.add_argument("--config", dest="configs", type=config_pair, action="append", default=[],
                   metavar="KEY=VALUE", help="configs contain this key/value (repeatable)")  # fmt: skip
    p.add_argument("--format", choices=["jsonl", "otlp"], default="jsonl",
                   help="jsonl: agentlog records (default); otlp: spans to --endpoint")  # fmt: skip
    p.add_argument("--out", metavar="FILE", help="jsonl: write here (default: standard output)")
    p.add_argument("--endpoint", metavar="URL",
                   help="otlp: the base URL; /v1/traces is appended (our collector's, too)")  # fmt: skip
    p.add_argument("--header", dest="headers", action="append", default=[], metavar="NAME=VALUE",
                   help="otlp: a request header (repeatable), e.g. Authorization='Bearer KEY'")  # fmt: skip
    p.add_argument("--payload-limit", type=int, default=1_000_000, metavar="CHARS",
                   help="otlp: longest attribute text (default 1000000: nothing cut)")  # fmt: skip
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", help="report every chunk on stderr")
    shown.add_argument("--quiet", action="store_true", help="no progress, only errors")


class _Progress:
    """On a terminal, one line rewritten in place; otherwise a line every five seconds."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.every, self.quiet = bool(args.progress), bool(args.quiet)
        isatty = getattr(sys.stderr, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.start = self.last = time.monotonic()
        self.drawn = False

    def update(self, sessions: int, records: int) -> None:
        now = time.monotonic()
        if self.quiet or (not self.every and (now - self.start < 0.5 or (
                not self.tty and now - self.last < 5.0))):  # fmt: skip
            return
        self.last = now
        text = (f"exported {sessions} sessions, {records} records, "
                f"{records / max(now - self.start, 1e-9):,.0f} records/s")  # fmt: skip
        sys.stderr.write("\r" + text if self.tty and not self.every else text + "\n")
        self.drawn = self.tty and not self.every
        sys.stderr.flush()

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")


def run(args: argparse.Namespace, client: Any) -> int:
    from ._cli_common import UsageError
    from ._export import SessionFilter, export_records

    if args.format == "jsonl" and (args.endpoint or args.headers):
        raise UsageError("--endpoint/--header go with --format otlp")
    if args.format == "otlp" and (not args.endpoint or args.out):
        raise UsageError("--format otlp sends to --endpoint URL (and writes no --out file)")
    which = SessionFilter(ids=args.ids, user=args.user, status=args.status, name=args.name,
                          configs=dict(args.configs))  # fmt: skip
    progress = _Progress(args)
    records = sessions = 0
    with ExitStack() as stack:
        sink = _jsonl_sink(args, stack) if args.format == "jsonl" else _otlp_sink(args, stack)
        try:
            for sessions, lines in export_records(client, which):
                sink(lines)
                records += len(lines)
                progress.update(sessions, records)
        finally:
            progress.finish()
    if not args.quiet:
        where = args.endpoint if args.format == "otlp" else args.out or "standard output"
        print(f"exported {sessions} sessions, {records} records to {where}", file=sys.stderr)
    return 0


def _jsonl_sink(args: argparse.Namespace, stack: ExitStack) -> Callable[[list[bytes]], None]:
    out: IO[bytes]
    if args.out and args.out != "-":
        tmp = args.out + ".partial"
        out = open(tmp, "wb")
        final = args.out
        stack.push(lambda kind, exc, tb: _finish_file(out, tmp, final, failed=kind is not None))
    else:
        out = sys.stdout.buffer
        stack.callback(out.flush)

    def write(lines: list[bytes]) -> None:
        if lines:
            out.write(b"\n".join(lines) + b"\n")

    return write


def _finish_file(out: IO[bytes], tmp: str, final: str, *, failed: bool) -> None:
    """The file appears complete or not at all: a failed export leaves no half file behind."""
    out.close()
    if failed:
        os.unlink(tmp)
    else:
        os.replace(tmp, final)


def _otlp_sink(args: argparse.Namespace, stack: ExitStack) -> Callable[[list[bytes]], None]:
    from ._cli_common import UsageError
    from ._errors import AgentlogError
    from .exporters import RecordBatch
    from .exporters.otlp import OtlpExporter

    headers = {}
    for item in args.headers:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--header: expected NAME=VALUE, got {item!r}")
        headers[name.strip()] = value.strip()
    try:
        exporter = OtlpExporter(args.endpoint, headers=headers or None,
                                payload_limit=args.payload_limit)  # fmt: skip
    except ValueError as exc:
        raise UsageError(f"--endpoint: {exc}") from None
    stack.callback(exporter.shutdown)

    def send(lines: list[bytes]) -> None:
        for i in range(0, len(lines), _OTLP_BATCH):
            part = lines[i : i + _OTLP_BATCH]
            result = exporter.export(RecordBatch(part, [None] * len(part)))
            if not result.ok:
                raise AgentlogError(f"{args.endpoint}: the OTLP export failed "
                                    f"({result.reason or 'see the log above'})")  # fmt: skip

    return send
