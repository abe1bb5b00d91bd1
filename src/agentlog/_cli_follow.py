"""``agentlog tail`` (follow new items live) and ``agentlog import`` (load a JSONL file)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import orjson

from ._cli_common import ShortIds, UsageError, dump, use_color
from ._timeline import format_item

__all__ = ["import_file", "tail"]

_PAGE = 1000
_BATCH_BYTES = 4 << 20  # well under a collector's default 16 MiB body limit
_SEEN = 20_000  # ids remembered to print each item once, even when late arrivals reorder pages


class _Seen:
    """A bounded set of ids, forgetting the oldest first."""

    def __init__(self, size: int = _SEEN) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, item_id: str) -> bool:
        """True when ``item_id`` was not seen before."""
        if item_id in self._ids:
            return False
        self._ids[item_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def tail(args: argparse.Namespace, client: Any) -> int:
    """Print the last ``-n`` items, then every new one until Ctrl-C, ``--max-events`` or
    ``--timeout``.

    Items are read in timeline order from the start of the last page (a keyset cursor only
    moves forward once a page is full), so each poll re-reads at most one page and prints the
    items it has not printed yet. Late arrivals that sort before items already printed (a
    span is stamped with its start but recorded at its end) are still printed, once.
    """
    color = use_color(args)
    session_col = ShortIds(client) if args.session is None else False
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    if args.session is not None:
        # An unknown session is an error, not an empty tail; a prefix is resolved once.
        args.session = client.sessions.get(args.session).id
    seen = _Seen()
    printed = 0

    def show(item: Any) -> bool:
        nonlocal printed
        d = dump(item)
        line = json.dumps(d, ensure_ascii=False) if args.json else format_item(
            d, color=color, session=session_col)  # fmt: skip
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        printed += 1
        return args.max_events is not None and printed >= args.max_events

    def fetch(cursor: str | None) -> Any:
        return client.query.iterate_events(session_id=args.session, types=args.types,
                                           cursor=cursor, limit=_PAGE)  # fmt: skip

    # Catch up: walk to the last page, keeping the last -n items to show.
    backlog: deque[Any] = deque(maxlen=args.lines or None)
    window: str | None = None
    while True:
        page = fetch(window)
        for item in page.events:
            seen.add(item.id)
            if args.lines:
                backlog.append(item)
        if page.next_cursor is None:
            break
        window = page.next_cursor
    try:
        for item in backlog:
            if show(item):
                return 0
        wake = threading.Event()  # never set: its wait() is an interruptible pause
        while True:
            page = fetch(window)
            for item in page.events:
                if seen.add(item.id) and show(item):
                    return 0
            if page.next_cursor is not None:
                window = page.next_cursor
                continue  # a full page: read on without pausing
            pause = args.interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return 0
                pause = min(pause, left)
            wake.wait(pause)
    except KeyboardInterrupt:
        return 0


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """``(line_number, bytes_read_so_far, line)`` for each non-blank line."""
    done = 0
    for number, raw in enumerate(stream, 1):
        done += len(raw)
        if raw.strip():
            yield number, done, raw


class _Progress:
    """Progress on stderr: every batch with ``--progress``; on a terminal, one line rewritten
    in place once the import runs past half a second; otherwise a line every five seconds."""

    def __init__(self, args: argparse.Namespace, total: int | None) -> None:
        self.total = total
        self.every = bool(args.progress)
        self.quiet = bool(args.quiet)
        isatty = getattr(sys.stderr, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.start = self.last = time.monotonic()
        self.drawn = False

    def update(self, records: int, done: int) -> None:
        now = time.monotonic()
        if self.quiet:
            return
        if not self.every:
            if now - self.start < 0.5 or (not self.tty and now - self.last < 5.0):
                return
        self.last = now
        rate = records / max(now - self.start, 1e-9)
        where = f"{done / 1e6:.1f} MB"
        if self.total:
            where += f" of {self.total / 1e6:.1f} MB ({100 * done / self.total:.0f}%)"
        text = f"imported {records} records, {where}, {rate:,.0f} records/s"
        if self.tty and not self.every:
            sys.stderr.write("\r" + text)
            self.drawn = True
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def _present(args: argparse.Namespace, client: Any) -> Callable[[list[Any]], int] | None:
    """How many records of a batch the store holds already (by id), when it can say: in
    this process; a collector's ingest does not tell."""
    if getattr(args, "url", None):
        return None
    store, project = getattr(client.transport, "store", None), getattr(client.transport,
                                                                       "project", "default")  # fmt: skip
    if store is None:
        return None
    from .store._lookup import existing_ids

    def count(batch: list[Any]) -> int:
        ids = [r.get("id") for r in batch]
        held = existing_ids(store, [i for i in ids if isinstance(i, str)], project=project)
        return sum(1 for i in ids if i in held)

    return count


def _ingester(
    args: argparse.Namespace, client: Any, stack: ExitStack
) -> Callable[[list[Any]], Any]:
    """Where batches go: the store's ``ingest`` in this process, or a collector's
    ``POST /v1/ingest`` (the endpoint the SDK's HTTP exporter sends to)."""
    from .store import IngestResult

    url = getattr(args, "url", None)
    if not url:
        transport = client.transport
        return lambda batch: IngestResult.model_validate(
            transport.call("ingest", {"records": batch})
        )
    import httpx

    from ._errors import AgentlogError

    key = getattr(args, "api_key", None) or os.environ.get("AGENTLOG_API_KEY")
    http = stack.enter_context(httpx.Client(
        base_url=url.rstrip("/"), timeout=60.0,
        headers={"Authorization": f"Bearer {key}"} if key else {},
    ))  # fmt: skip

    def post(batch: list[Any]) -> Any:
        response = http.post("/v1/ingest", content=orjson.dumps({"records": batch}),
                             headers={"Content-Type": "application/json"})  # fmt: skip
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except Exception:
                message = response.text[:300]
            raise AgentlogError(f"{url}/v1/ingest: HTTP {response.status_code}: {message}")
        return IngestResult.model_validate_json(response.content)

    return post


def import_file(args: argparse.Namespace, client: Any) -> int:
    """Ingest every record of FILE (``-`` for stdin), ``--batch-size`` at a time, reporting
    bad lines by number. Valid records are kept whatever else fails; exit status 1 when some
    lines were not imported."""
    if args.file == "-":
        stream: IO[bytes] = sys.stdin.buffer
        total = None
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"{args.file}: no such file")
        stream, total = open(path, "rb"), path.stat().st_size
    stack = ExitStack()
    if stream is not sys.stdin.buffer:
        stack.callback(stream.close)
    progress = _Progress(args, total)
    problems: list[str] = []
    records = accepted = unreadable = present = 0
    batch: list[dict[str, Any]] = []
    numbers: list[int] = []
    held = _present(args, client)

    def send() -> None:
        nonlocal accepted, present
        if held is not None:
            present += held(batch)
        result = ingest(batch)
        accepted += len(result.accepted)
        problems.extend(f"line {numbers[r.index]}: {r.reason}" for r in result.rejected)
        batch.clear()
        numbers.clear()

    try:
        ingest = _ingester(args, client, stack)
        done = size = 0
        for number, done, raw in _lines(stream):
            try:
                rec = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                problems.append(f"line {number}: not JSON ({exc})")
                unreadable += 1
                continue
            if not isinstance(rec, dict):
                problems.append(f"line {number}: not a JSON object")
                unreadable += 1
                continue
            batch.append(rec)
            numbers.append(number)
            records += 1
            size += len(raw)
            if len(batch) >= args.batch_size or size >= _BATCH_BYTES:
                size = 0
                send()
                progress.update(records, done)
        if batch:
            send()
            progress.update(records, done)
    except Exception:
        progress.finish()
        print(f"agentlog: {args.file}: stopped; {accepted} records were imported before this "
              "error:", file=sys.stderr)  # fmt: skip
        raise
    finally:
        progress.finish()
        stack.close()
    for line in problems[:20]:
        print(f"agentlog: {args.file}: {line}", file=sys.stderr)
    if len(problems) > 20:
        print(f"agentlog: {args.file}: ... and {len(problems) - 20} more", file=sys.stderr)
    if not args.quiet or problems:
        total_lines = records + unreadable
        # Records already present were stored by an earlier import: accepted again (ingest is
        # idempotent) but not new.
        new = "" if held is None else f": {max(accepted - present, 0)} new, " \
            f"{min(present, accepted)} already present"  # fmt: skip
        print(f"imported {accepted} of {total_lines} records from {args.file}{new}"
              + (f"; {len(problems)} lines not imported" if problems else ""),
              file=sys.stderr)  # fmt: skip
    return 1 if problems else 0
