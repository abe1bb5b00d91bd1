"""``agentlog.score``: a judgement of a session or of one of its events, as a ``score`` record.

The record goes through the pipeline like every other (sampling, redaction, the exporter), so
a score is as durable as the session it judges. Recording never raises: a value that is not a
number, a boolean or a string of at most 200 characters, or a score with no session, is left
out, warned about once and counted as dropped.
"""

from __future__ import annotations

import math
from typing import Any

from ._context import session_id_or_drop
from ._ids import format_ts, format_uuid, new_id, now_ns
from ._log import warn_once
from ._state import STATE

__all__ = ["score"]


def _valid(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53  # exact as a float, which filters and averages compare
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 200


def score(
    name: str, value: bool | float | str, *, comment: str | None = None,
    session_id: str | None = None, event_id: str | None = None,
) -> None:  # fmt: skip
    """Score the current session (or ``session_id``; or the event ``event_id`` of it):
    ``agentlog.score("helpful", 4, comment="solved it")``. Values: numbers, booleans and short
    categorical strings."""
    pipeline = STATE.pipeline
    if pipeline is None:
        return
    try:
        if not isinstance(name, str) or not 0 < len(name) <= 200 or not _valid(value):
            warn_once("score_value", "agentlog: score(%r, %r) ignored: the name is a string of 1 "
                      "to 200 characters, the value a number, bool or string of at most 200",
                      name, value, exc_info=False)  # fmt: skip
            pipeline.stats.add("dropped", [session_id])
            return
        session_id = session_id_or_drop(pipeline, session_id, "score")
        if session_id is None:
            return
        ts = now_ns()
        pipeline.emit({
            "v": 1, "kind": "score", "id": format_uuid(new_id(ts)), "session_id": session_id,
            "event_id": event_id if isinstance(event_id, str) else None, "ts": format_ts(ts),
            "name": name, "value": value,
            "comment": comment if isinstance(comment, str) else None, "source": "sdk",
        })  # fmt: skip
    except Exception:
        warn_once("score", "agentlog: could not record a score")
