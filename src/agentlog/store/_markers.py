"""``events_between_markers``: each session's timeline cut at its markers, counted between cuts.

The database is asked only for the markers and for the (time, session) of the counted items,
both read through the ``(project, type, ts_us, session_id, id)`` covering indexes of events
(``type``) and messages (``role``), in the index's order. No sort of the whole timeline and no
window function: those cost seconds over a million events.

Markers and counted items are walked together in time order: the items between a marker and
the previous one (of any session) go into a running count per session, one slice at a time
counted in C, so Python loops over the markers only, never over the items; a
marker's count is its session's running count, less its session's previous marker's. The
items arrive a few hundred rows at a time, each batch dropped once counted: Python objects for
all of them at once would set off the garbage collector's full passes (a fifth of the time at
a million events).

A counted item at the very microsecond of a marker of its session is placed by its id: only
those rare items are read again, by (session, time), for their ids.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left

# ``_count_elements(counter, items)`` is what ``Counter.update`` runs for an iterable, without
# its Python-level call and Mapping check (a sixth of the walk, which calls it once per marker);
# in CPython's collections since 3.2.
from collections import Counter, _count_elements  # type: ignore[attr-defined]
from collections.abc import Iterable, Sequence
from operator import itemgetter

from pydantic import TypeAdapter

from ._conn import Conn, chunks
from ._keys import type_key
from ._models import MarkerSegment, MarkerStats

__all__ = ["between_markers"]

# Each timeline table with the column that holds an item's type (a message's is its role).
_TABLES = (("events", "type"), ("messages", "role"))
_SEGMENTS: TypeAdapter[list[MarkerSegment]] = TypeAdapter(list[MarkerSegment])
_TIME, _SESSION = itemgetter(0), itemgetter(1)
# Counted items read per batch: fewer than the 700 new objects that start a garbage collection
# (CPython's default), so a batch is mostly counted and dropped before a collection sees it.
BATCH = 500


def _where(table: str, type_col: str, cond: str) -> str:
    """The items of ``table`` in the window whose type matches ``cond``, sessionless ones left
    out; parameters project, start, end, then ``cond``'s."""
    return (f"FROM {table} WHERE project = ? AND ts_us >= ? AND ts_us <= ? AND session_id IS NOT "
            f"NULL AND {type_col} {cond}")  # fmt: skip


def _below(
    found: Sequence[tuple[str, int, str, str]], batches: Iterable[list[tuple[int, str]]]
) -> tuple[list[int], set[tuple[str, int]], int]:
    """Per marker (in time order), the counted items of its session at a smaller time, from
    ``batches`` of items (time, session) in time order; the (session, time) of the markers that
    may share their microsecond with an item of their session; and the number of items."""
    running: Counter[str] = Counter()
    below, ties = [0] * len(found), set()
    n_items = nxt = 0  # nxt: the first marker not yet placed
    for batch in batches:
        n_items += len(batch)
        times = list(map(_TIME, batch))
        last, done = times[-1], 0  # done: this batch's items already in ``running``
        # A marker up to the batch's last time has all the items before it read by now.
        while nxt < len(found) and found[nxt][1] <= last:
            sid, at = found[nxt][0], found[nxt][1]
            upto = bisect_left(times, at, done)
            if upto > done:
                _count_elements(running, map(_SESSION, batch[done:upto]))
                done = upto
            below[nxt] = running[sid]
            if times[upto] == at:  # items at its microsecond, maybe some in the next batch
                same = bisect_left(times, at + 1, upto)
                if same == len(times) or sid in map(_SESSION, batch[upto:same]):
                    ties.add((sid, at))
            nxt += 1
        _count_elements(running, map(_SESSION, batch[done:]))
    for i in range(nxt, len(found)):
        below[i] = running[found[i][0]]
    return below, ties, n_items


def _ids_at(
    conn: Conn, keys: Iterable[tuple[str, int]], count_type: str, project: str
) -> dict[tuple[str, int], list[str]]:
    """The sorted ids of the counted items at each of these (session, ts)."""
    found: dict[tuple[str, int], list[str]] = {key: [] for key in keys}
    typed = [type_key(conn.dialect, table, project, [count_type]) for table, _ in _TABLES]
    for part in chunks(sorted(found), 200):
        pairs = " OR ".join(["(session_id = ? AND ts_us = ?)"] * len(part))
        sql = " UNION ALL ".join(
            f"SELECT session_id, ts_us, id FROM {table} WHERE project = ? AND {type_col} = ?"
            f"{keyed} AND ({pairs})"
            for (table, type_col), (keyed, _) in zip(_TABLES, typed, strict=True)
        )  # fmt: skip
        flat = [v for key in part for v in key]
        args = [v for _, hashed in typed for v in (project, count_type, *hashed, *flat)]
        for sid, ts, item_id in conn.q(sql, args):
            found[(sid, ts)].append(item_id)
    for ids in found.values():
        ids.sort()
    return found


def between_markers(
    conn: Conn, markers: list[str], count_type: str, start: int, end: int, project: str
) -> MarkerStats:
    """The marker statistics of ``project`` over ``[start, end]``, read in ``conn``'s
    transaction, which must see one snapshot (see ``QueryMixin.events_between_markers``)."""
    window = [project, start, end]
    marks = f"IN ({','.join('?' * len(markers))})"
    found: list[tuple[str, int, str, str]] = []
    for table, type_col in _TABLES:
        keyed, hashed = type_key(conn.dialect, table, project, markers)
        found += conn.q(f"SELECT session_id, ts_us, id, {type_col} "
                        f"{_where(table, type_col, marks + keyed)}", [*window, *markers, *hashed])  # fmt: skip
    found.sort(key=itemgetter(1, 2))  # timeline order: time, then id
    # A marker type that is also the count type counts as a marker: nothing is counted then.
    below, ties, n_items = [0] * len(found), set(), 0
    if count_type not in markers:
        for table, type_col in _TABLES:
            # In (time, session) order: the index's, so no sort.
            keyed, hashed = type_key(conn.dialect, table, project, [count_type])
            items = conn.batches(f"SELECT ts_us, session_id {_where(table, type_col, '= ?' + keyed)}"
                                 " ORDER BY ts_us, session_id", [*window, count_type, *hashed],
                                 BATCH)  # fmt: skip
            part, more, n = _below(found, items)
            if n:
                below = [a + b for a, b in zip(below, part, strict=True)]
                ties |= more
                n_items += n
    tied = _ids_at(conn, ties, count_type, project) if ties else {}
    seen: dict[str, tuple[int, int]] = {}  # per session: markers so far, items up to the last
    segments = []
    for (sid, ts, marker_id, typ), n in zip(found, below, strict=True):
        if tied and (sid, ts) in tied:
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
