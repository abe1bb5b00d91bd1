"""``events_between_markers``: each session's timeline cut at its markers, counted between cuts.

The database is asked only for the markers and for the (session, time) of the counted items,
both read through the ``(project, type, ts_us, session_id, id)`` covering indexes, in one
statement (so one snapshot). The cutting happens here, per session, by binary search: the
count before marker *i* is the number of counted items whose (time, id) is below the marker's,
and a segment's count is the difference between two markers. No sort of the whole timeline and
no window function: those cost seconds over a million events.

An item at the very microsecond of a marker of its session is placed by its id; only those rare
items are read again, by (session, time), to get their ids.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from pydantic import TypeAdapter

from ._conn import Conn, chunks
from ._models import MarkerSegment, MarkerStats

__all__ = ["between_markers"]

# Each timeline table with the column that holds an item's type (a message's is its role).
_TABLES = (("events", "type"), ("messages", "role"))
_SEGMENTS: TypeAdapter[list[MarkerSegment]] = TypeAdapter(list[MarkerSegment])


def _scan(
    conn: Conn, markers: list[str], count_type: str | None, start: int, end: int, project: str
) -> list[tuple[Any, ...]]:
    """The markers as (session, ts, id, type) and the counted items as (session, ts, None,
    None), of every session, in the window ``[start, end]``."""
    parts, args = [], []
    for table, type_col in _TABLES:
        where = (f"FROM {table} WHERE project = ? AND ts_us >= ? AND ts_us <= ? "
                 f"AND session_id IS NOT NULL AND {type_col}")  # fmt: skip
        parts.append(f"SELECT session_id, ts_us, id, {type_col} {where} "
                     f"IN ({','.join('?' * len(markers))})")  # fmt: skip
        args += [project, start, end, *markers]
        if count_type is not None:
            parts.append(f"SELECT session_id, ts_us, NULL, NULL {where} = ?")
            args += [project, start, end, count_type]
    return conn.q(" UNION ALL ".join(parts), args)


def _ids_at(
    conn: Conn, keys: Iterable[tuple[str, int]], count_type: str, project: str
) -> dict[tuple[str, int], list[str]]:
    """The sorted ids of the counted items at each (session, ts)."""
    found: dict[tuple[str, int], list[str]] = defaultdict(list)
    for part in chunks(sorted(keys), 200):
        pairs = " OR ".join(["(session_id = ? AND ts_us = ?)"] * len(part))
        flat = [v for key in part for v in key]
        sql = " UNION ALL ".join(
            f"SELECT session_id, ts_us, id FROM {table} WHERE project = ? AND {type_col} = ? "
            f"AND ({pairs})"
            for table, type_col in _TABLES
        )
        for sid, ts, item_id in conn.q(sql, [project, count_type, *flat] * len(_TABLES)):
            found[(sid, ts)].append(item_id)
    for ids in found.values():
        ids.sort()
    return found


def between_markers(
    conn: Conn, markers: list[str], count_type: str, start: int, end: int, project: str
) -> MarkerStats:
    """The marker statistics of ``project`` over ``[start, end]`` (see
    ``QueryMixin.events_between_markers`` for their meaning)."""
    # A marker type that is also the count type counts as a marker: nothing is counted then.
    counting = count_type not in markers
    found: list[tuple[Any, ...]] = []
    items: dict[str, list[int]] = defaultdict(list)
    n_items = 0
    for row in _scan(conn, markers, count_type if counting else None, start, end, project):
        if row[3] is None:
            items[row[0]].append(row[1])
            n_items += 1
        else:
            found.append(row)
    found.sort(key=itemgetter(1, 2))  # timeline order: time, then id
    # Per marker, how many counted items of its session have a smaller time (``below``), and
    # which markers share their microsecond with a counted item (placed by id below).
    below: list[int] = []
    ties: set[tuple[str, int]] = set()
    for sid in {row[0] for row in found}:
        if sid in items:
            items[sid].sort()
    for sid, ts, _, _ in found:
        times = items.get(sid, ())
        i = bisect_left(times, ts)
        below.append(i)
        if i < len(times) and times[i] == ts:
            ties.add((sid, ts))
    tied = _ids_at(conn, ties, count_type, project) if ties else {}
    # Per session: markers seen so far, and counted items before the last of them.
    seen: dict[str, tuple[int, int]] = {}
    segments = []
    for (sid, ts, marker_id, typ), n in zip(found, below, strict=True):
        if (sid, ts) in tied:
            n += bisect_left(tied[(sid, ts)], marker_id)
        index, prev = seen.get(sid, (0, 0))
        segments.append({"marker_index": index, "session_id": sid, "count": n - prev,
                         "marker_id": marker_id, "marker_type": typ})  # fmt: skip
        seen[sid] = (index + 1, n)
    dist = _SEGMENTS.validate_python(segments)
    counts = [m.count for m in dist]
    counted = sum(counts)
    return MarkerStats(
        marker_count=len(dist), counted_events=counted,
        avg_per_marker=counted / len(counts) if counts else None,
        median_per_marker=float(statistics.median(counts)) if counts else None,
        trailing_events=n_items - counted, distribution=dist,
    )  # fmt: skip
