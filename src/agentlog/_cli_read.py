"""The reading commands of ``agentlog``: sessions, timeline, events, counts, markers, context."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from ._cli_common import ShortIds, UsageError, dump, json_line, use_color
from ._cli_common import out as _out
from ._family import child_sessions
from ._timeline import format_item, palette, render_timeline, took

__all__ = [
    "context",
    "counts",
    "events",
    "markers",
    "sessions",
    "timeline",
]


def _more(cursor: str | None) -> None:
    if cursor:
        print(f"more: --cursor {cursor}", file=sys.stderr)


def _when(ts: str | None) -> str:
    return (ts or "")[:19].replace("T", " ")


_SESSION_ROW = "{:<36}  {:<19}  {:>7}  {:<9}  {:<12}  {:>5}  {:>8}  {}"


def _rollup(s: Any) -> tuple[Any, Any]:
    """Turns and tokens, or dashes while the session's messages are not processed yet."""
    r = s.rollup
    return ("-", "-") if r.updated_at is None else (r.turns, r.tokens_in + r.tokens_out)


def sessions(args: argparse.Namespace, client: Any) -> int:
    c = palette(use_color(args))
    filters = dict(args.configs) or None
    cursor, shown = args.cursor, 0
    while True:
        page = client.sessions.list(user=args.user, filter_by_configs=filters,
                                    status=args.status, name=args.name, limit=args.limit,
                                    cursor=cursor, time_desc=not args.oldest_first,
                                    tags=getattr(args, "tags", None),
                                    score=getattr(args, "scores", None))  # fmt: skip
        for s in page.items:
            if args.json:
                json_line(dump(s))
                continue
            if shown == 0:
                _out(_SESSION_ROW.format("ID", "STARTED", "TOOK", "STATUS", "USER", "TURNS",
                                         "TOKENS", "NAME"))  # fmt: skip
            tint = {"error": c["error"], "timeout": c["error"], "success": c["ok"]}
            status = f"{s.status:<9}"
            _out(_SESSION_ROW.format(
                s.id, _when(s.started_at), took(s.started_at, s.ended_at),
                f"{tint.get(s.status, '')}{status}{c['end']}", (s.user or "-")[:12],
                *_rollup(s), s.name or "",
            ))  # fmt: skip
            shown += 1
        cursor = page.next_cursor
        if not (args.all and page.has_more):
            break
    if shown == 0 and not args.json:
        print("no sessions match" + _elsewhere(client), file=sys.stderr)
    _more(cursor if page.has_more and not args.all else None)
    return 0


def _elsewhere(client: Any) -> str:
    """Where else sessions are, when this store has other projects than the one read."""
    store = getattr(client.transport, "store", None)
    if store is None:
        return ""
    from .store._lookup import projects

    project = getattr(client.transport, "project", "default")
    others = [p for p in projects(store) if p != project]
    if not others:
        return ""
    return (f" in project {project!r}; this store also holds project(s) "
            f"{', '.join(others)}: pass --project NAME")  # fmt: skip


def session_items(client: Any, session_id: str) -> list[Any]:
    """Every event and message of a session, in timeline order."""
    items: list[Any] = []
    cursor = None
    while True:
        it = client.query.iterate_events(session_id=session_id, cursor=cursor, limit=1000)
        items.extend(it.events)
        cursor = it.next_cursor
        if cursor is None:
            return items


def timeline(args: argparse.Namespace, client: Any) -> int:
    session = client.sessions.get(args.session)
    items = [dump(i) for i in session_items(client, session.id)]
    head = dump(session)
    head["children"] = [dump(c) for c in child_sessions(client, session)]
    if args.json:
        _out(json.dumps({"session": head, "items": items}, indent=2, ensure_ascii=False))
    else:
        _out(render_timeline(head, items, color=use_color(args), ids=True))
    return 0


def _project_events(client: Any, args: argparse.Namespace) -> Iterator[tuple[Any, str | None]]:
    """Items of every session, a page at a time, with the cursor after each page.

    A ``--name`` filter is applied here (the project-wide walk filters by type only): each
    fetch asks for at most the number of matches still wanted, so no match is ever skipped
    past and the cursor after the page resumes exactly where this listing stopped.
    """
    cursor, wanted = args.cursor, args.limit
    while True:
        size = min(wanted, 1000) if args.name is not None else min(args.limit, 1000)
        it = client.query.iterate_events(types=args.types, cursor=cursor, limit=size)
        cursor = it.next_cursor
        found = [i for i in it.events if args.name is None or getattr(i, "name", None) == args.name]
        yield found, cursor
        wanted -= len(found)
        if cursor is None or (wanted <= 0 and not args.all):
            return
        if wanted <= 0:
            wanted = args.limit


def events(args: argparse.Namespace, client: Any) -> int:
    color = use_color(args)
    if args.session is None and args.newest_first:
        raise UsageError("--newest-first lists one session's events: give SESSION")
    shown = 0
    cursor: str | None = None
    short = ShortIds(client) if args.session is None else False
    pages: Iterator[tuple[Any, str | None]]
    if args.session is None:
        pages = _project_events(client, args)
    else:
        pages = _session_events(client, args)
    for items, after in pages:
        cursor = after
        for item in items:
            d = dump(item)
            _out(json.dumps(d, ensure_ascii=False) if args.json
                 else format_item(d, color=color, session=short))  # fmt: skip
            shown += 1
    if shown == 0 and not args.json:
        print("no events match", file=sys.stderr)
    if not args.all:
        _more(cursor)
    return 0


def _session_events(client: Any, args: argparse.Namespace) -> Iterator[tuple[Any, str | None]]:
    cursor = args.cursor
    while True:
        page = client.sessions.get_events(args.session, limit=args.limit, cursor=cursor,
                                          time_desc=args.newest_first, type=args.types,
                                          name=args.name)  # fmt: skip
        cursor = page.next_cursor if page.has_more else None
        yield page.items, cursor
        if cursor is None or not args.all:
            return


def counts(args: argparse.Namespace, client: Any) -> int:
    rows = client.query.event_counts(days=args.days, bucket=args.bucket, type=args.type,
                                     name=args.name, status=args.status)  # fmt: skip
    if args.json:
        _out(json.dumps([dump(r) for r in rows], indent=2))
        return 0
    if not rows:
        print(f"no events in the last {args.days:g} days", file=sys.stderr)
        return 0
    top = max(r.count for r in rows)
    width = max(len(_when(r.bucket) if args.bucket != "session" else r.bucket) for r in rows)
    for r in rows:
        label = r.bucket if args.bucket == "session" else _when(r.bucket)
        bar = "█" * max(1, round(40 * r.count / top))
        _out(f"{label:<{width}}  {r.count:>8}  {bar}")
    _out(f"{'total':<{width}}  {sum(r.count for r in rows):>8}")
    return 0


def markers(args: argparse.Namespace, client: Any) -> int:
    marker_types = args.marker_types or ["compaction"]
    stats = client.query.events_between_markers(marker_types=marker_types,
                                                count_type=args.count_type, days=args.days)  # fmt: skip
    if args.json:
        _out(json.dumps(dump(stats), indent=2))
        return 0
    what, kinds = args.count_type, "/".join(marker_types)
    if stats.marker_count == 0:
        _out(f"no {kinds} markers in the last {args.days:g} days "
             f"({stats.trailing_events} {what} items, none before a marker)")  # fmt: skip
        return 0
    _out(f"{stats.marker_count} {kinds} markers, {stats.counted_events} {what} items before them")
    _out(f"average {stats.avg_per_marker:.2f} {what} per marker, median "
         f"{stats.median_per_marker:g}")  # fmt: skip
    # Trailing items are those after a session's last marker and all those of a session
    # without markers: one number, so the line names both.
    _out(f"{stats.trailing_events} {what} items before no marker (after a session's last "
         "marker, or in a session without one): not counted")  # fmt: skip
    _out("")
    _out(f"{'SESSION':<36}  {'MARKER':>6}  {'TYPE':<12}  {'COUNT':>6}  MARKER ID")
    for seg in stats.distribution:
        _out(f"{seg.session_id:<36}  {seg.marker_index:>6}  {seg.marker_type or '':<12}  "
             f"{seg.count:>6}  {seg.marker_id or ''}")  # fmt: skip
    return 0


def context(args: argparse.Namespace, client: Any) -> int:
    ctx = client.query.event_context(args.event, before=args.before, after=args.after)
    if args.json:
        _out(json.dumps(dump(ctx), indent=2, ensure_ascii=False))
        return 0
    color = use_color(args)
    c = palette(color)
    target = dump(ctx.target)
    _out(f"session {target.get('session_id')}")
    for item in ctx.before:
        _out("    " + format_item(dump(item), color=color))
    _out(f"{c['bold']}  > {c['end']}" + format_item(target, color=color))
    for item in ctx.after:
        _out("    " + format_item(dump(item), color=color))
    return 0
