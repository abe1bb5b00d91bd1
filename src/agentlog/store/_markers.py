"""``events_between_markers``: each session's timeline cut at its markers, counted between cuts.

The database is asked only for the markers and for the (session, time) of the counted items,
both read through the ``(project, type, ts_us, session_id, id)`` covering indexes of events
(``type``) and messages (``role``). The cutting happens here, per session, by binary search:
the count up to marker *i* is the number of its session's counted items whose (time, id) is
below the marker's, and a segment's count is the difference between two markers'. No sort of
the whole timeline and no window function: those cost seconds over a million events.

A counted item at the very microsecond of a marker of its session is placed by its id: only
those rare items are read again, by (session, time), for their ids.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Iterable
from operator import itemgetter

from pydantic import TypeAdapter

from ._conn import Conn, chunks
from ._models import MarkerSegment, MarkerStats

__all__ = ["between_markers"]

# Each timeline table with the column that holds an item's type (a message's is its role).
_TABLES = (("events", "type"), ("messages", "role"))
_SEGMENTS: TypeAdapter[list[MarkerSegment]] = TypeAdapter(list[MarkerSegment])


def _select(cols: str, cond: str, values: list[str], start: int, end: int, project: str
            ) -> tuple[str, list[object]]:  # fmt: skip
    """``cols`` of the items of both tables in ``[start, end]`` whose type is one of
    ``values`` (``cond`` says how: ``IN (...)`` or ``= ?``), sessionless ones left out."""
    parts, args = [], []
    for table, type_col in _TABLES:
        parts.append(f"SELECT {cols.format(type=type_col)} FROM {table} WHERE project = ? AND "
                     f"ts_us >= ? AND ts_us <= ? AND session_id IS NOT NULL AND {type_col} "
                     f"{cond}")  # fmt: skip
        args += [project, start, end, *values]
    return " UNION ALL ".join(parts), args


def _ids_at(
    conn: Conn, keys: Iterable[tuple[str, int]], count_type: str, project: str
) -> dict[tuple[str, int], list[str]]:
    """The sorted ids of the counted items at each of these (session, ts)."""
    found: dict[tuple[str, int], list[str]] = {key: [] for key in keys}
    for part in chunks(sorted(found), 200):
        pairs = " OR ".join(["(session_id = ? AND ts_us = ?)"] * len(part))
        sql = " UNION ALL ".join(
            f"SELECT session_id, ts_us, id FROM {table} WHERE project = ? AND {type_col} = ? "
            f"AND ({pairs})"
            for table, type_col in _TABLES
        )  # fmt: skip
        flat = [v for key in part for v in key]
        for sid, ts, item_id in conn.q(sql, [project, count_type, *flat] * len(_TABLES)):
            found[(sid, ts)].append(item_id)
    for ids in found.values():
        ids.sort()
    return found


def between_markers(
    conn: Conn, markers: list[str], count_type: str, start: int, end: int, project: str
) -> MarkerStats:
    """The marker statistics of ``project`` over ``[start, end]``, read in ``conn``'s
    transaction, which must see one snapshot (see ``QueryMixin.events_between_markers``)."""
    sql, args = _select("session_id, ts_us, id, {type}",
                        f"IN ({','.join('?' * len(markers))})", markers, start, end, project)  # fmt: skip
    found = conn.q(sql, args)
    found.sort(key=itemgetter(1, 2))  # timeline order: time, then id
    # The counted items' times, per session with markers; the others' are only counted. A
    # marker type that is also the count type counts as a marker: nothing is counted then.
    times: dict[str, list[int]] = {row[0]: [] for row in found}
    n_items = 0
    if count_type not in markers:
        sql, args = _select("session_id, ts_us", "= ?", [count_type], start, end, project)
        rows = conn.q(sql, args)
        n_items = len(rows)
        get = times.get
        for sid, ts in rows:
            kept = get(sid)
            if kept is not None:
                kept.append(ts)
        for kept in times.values():
            kept.sort()  # each table's part comes in time order: a merge of two runs at most
    # Per marker, the counted items of its session at a smaller time; and the (session, time)
    # of the markers that share their microsecond with a counted item.
    below = [bisect_left(times[sid], ts) for sid, ts, _, _ in found]
    ties = {(sid, ts) for (sid, ts, _, _), i in zip(found, below, strict=True)
            if i < len(times[sid]) and times[sid][i] == ts}  # fmt: skip
    tied = _ids_at(conn, ties, count_type, project) if ties else {}
    seen: dict[str, tuple[int, int]] = {}  # per session: markers so far, items up to the last
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
