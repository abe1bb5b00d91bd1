"""Scores and tags of sessions, shared by both SQL backends.

Every ``score`` record is kept in ``scores`` (an event's scores too). A session's score for a
name is its latest session-level score of that name: ``session_scores`` holds it (``num`` for
numbers and booleans, ``text`` for categorical strings), filters and sorts read it, and the
session row carries all of them as ``scores`` so a page of sessions needs no extra query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import InvalidInputError
from .._ids import new_id_str
from .._records import ScoreRecord
from ._conn import Conn, chunks
from ._core import StoreCore
from ._judging_models import Score
from ._judging_schema import SCORE_COLS
from ._rows import dumps, loads, now_us, us_to_ts

__all__ = ["ScoresMixin", "score_filter", "score_params", "score_record", "tags_filter"]

_OPS = {"=": "=", "==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_TEXT = re.compile(r"^\s*([^<>=!\s]+)\s*(==|!=|>=|<=|=|<|>)\s*(.+?)\s*$")


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text.strip("\"'")


def _conditions(score: Any) -> list[tuple[str, str, Any]]:
    """``{"helpful": (">=", 4), "label": "good"}``, or strings ``"helpful>=4"``: (name, op, value)."""
    out: list[tuple[str, str, Any]] = []
    items: list[tuple[Any, Any]]
    if isinstance(score, Mapping):
        items = list(score.items())
    elif isinstance(score, str):
        items = [(None, score)]
    elif isinstance(score, Sequence):
        items = [(None, s) for s in score]
    else:
        raise InvalidInputError("score: a mapping of name to value or (op, value), or 'name>=4'")
    for name, cond in items:
        if name is None:
            m = _TEXT.match(cond) if isinstance(cond, str) else None
            if m is None:
                raise InvalidInputError(f"score: cannot read {cond!r}; write e.g. 'helpful>=4'")
            out.append((m.group(1), m.group(2), _parse_value(m.group(3))))
        elif isinstance(cond, (list, tuple)) and len(cond) == 2 and isinstance(cond[0], str):
            out.append((str(name), cond[0], cond[1]))
        else:
            out.append((str(name), "=", cond))
    for name, op, value in out:
        if op not in _OPS:
            raise InvalidInputError(f"score: unknown operator {op!r} for {name!r}")
        if isinstance(value, str) and op not in ("=", "==", "!="):
            raise InvalidInputError(f"score: {name!r} compares a string with {op!r}")
        if not isinstance(value, (str, bool, int, float)):
            raise InvalidInputError(f"score: {name!r} needs a number, bool or string")
    return out


def score_filter(score: Any) -> tuple[list[str], list[Any]]:
    """SQL conditions on ``sessions`` (and their parameters): the session's latest score of
    each name satisfies its condition."""
    conds, params = [], []
    for name, op, value in _conditions(score):
        col = "text" if isinstance(value, str) else "num"
        if not isinstance(value, str):
            try:
                value = float(value)
            except OverflowError:
                raise InvalidInputError(
                    f"score: {name!r} compares with a number too large"
                ) from None
        conds.append("EXISTS (SELECT 1 FROM session_scores ss WHERE ss.project = sessions.project "
                     f"AND ss.session_id = sessions.id AND ss.name = ? AND ss.{col} {_OPS[op]} ?)")  # fmt: skip
        params += [name, value]
    return conds, params


def tags_filter(dialect: str, tags: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Sessions carrying every one of ``tags``."""
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise InvalidInputError("tags: must be a list of strings")
    if dialect == "postgres":
        return ["tags @> ?::jsonb"], [dumps(list(tags))]
    conds = ["EXISTS (SELECT 1 FROM json_each(sessions.tags) WHERE json_each.value = ?)"] * len(
        tags
    )
    return conds, list(tags)


def score_params(score: Any) -> list[str] | None:
    """A ``score`` filter as the ``score=name>=4`` query strings the list route takes."""
    if score is None:
        return None
    if isinstance(score, str):
        return [score]
    if isinstance(score, dict):
        out = []
        for name, cond in score.items():
            op, value = (cond[0], cond[1]) if isinstance(cond, (list, tuple)) else ("=", cond)
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out.append(f"{name}{op}{text}")
        return out
    return [str(s) for s in score]


class ScoresMixin(StoreCore):
    def _record_scores(self, conn: Conn, project: str, rows: list[tuple[Any, ...]]) -> None:
        """Insert score rows (re-sent ones are skipped) and bring the sessions' latest up to date."""
        if not rows:
            return
        new: set[str] = set()
        width = SCORE_COLS.count(",") + 1
        one = "(" + ", ".join(self.json_param if i == 6 else "?" for i in range(width)) + ")"
        for part in chunks(rows, 400):
            sql = (f"INSERT INTO scores ({SCORE_COLS}) VALUES {', '.join([one] * len(part))} "
                   "ON CONFLICT DO NOTHING RETURNING id")  # fmt: skip
            new.update(r[0] for r in conn.q(sql, [x for r in part for x in r]))
        latest = [r for r in rows if r[1] in new and r[4] is None]
        if not latest:
            return
        conn.many(
            "INSERT INTO session_scores (project, session_id, name, ts_us, score_id, value, num, "
            f"text) VALUES (?, ?, ?, ?, ?, {self.json_param}, ?, ?) ON CONFLICT (project, "
            "session_id, name) DO UPDATE SET ts_us = excluded.ts_us, score_id = excluded.score_id, "
            "value = excluded.value, num = excluded.num, text = excluded.text WHERE "
            "excluded.ts_us > session_scores.ts_us OR (excluded.ts_us = session_scores.ts_us AND "
            "excluded.score_id > session_scores.score_id)",
            [(r[0], r[2], r[5], r[3], r[1], r[6], r[7], _text(r[6])) for r in latest],
        )  # fmt: skip
        self._refresh_scores(conn, project, {r[2] for r in latest})

    def _refresh_scores(self, conn: Conn, project: str, session_ids: set[str]) -> None:
        updates = []
        for sid in sorted(session_ids):
            got = conn.q("SELECT name, value FROM session_scores WHERE project = ? AND "
                         "session_id = ? ORDER BY name", (project, sid))  # fmt: skip
            updates.append((dumps({n: loads(v) for n, v in got}) if got else None, sid))
        conn.many(f"UPDATE sessions SET scores = {self.json_param} WHERE id = ?", updates)

    def _forget_scores(self, conn: Conn, project: str, session_id: str) -> None:
        for table in ("scores", "session_scores"):
            conn.run(f"DELETE FROM {table} WHERE project = ? AND session_id = ?",
                     (project, session_id))  # fmt: skip

    def add_score(
        self, session_id: str, name: str, value: Any, *, comment: str | None = None,
        event_id: str | None = None, source: str = "client", ts: str | None = None,
        id: str | None = None, project: str = "default",
    ) -> Score:  # fmt: skip
        """Record a score through ingest (the same validation as a ``score`` record)."""
        record = score_record(session_id, name, value, comment=comment, event_id=event_id,
                              source=source, ts=ts, id=id)  # fmt: skip
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
        result = self.ingest([record], project=project)
        if result.rejected:
            raise InvalidInputError(result.rejected[0].reason)
        return Score.model_validate(record)

    def get_scores(
        self, session_id: str, *, name: str | None = None, project: str = "default"
    ) -> list[Score]:
        """Every score of the session (its events' too), oldest first."""
        where, params = "project = ? AND session_id = ?", [project, session_id]
        if name is not None:
            where += " AND name = ?"
            params.append(name)
        with self._tx() as conn:
            self._require_session(conn, session_id, project)
            rows = conn.q(f"SELECT id, session_id, event_id, ts_us, name, value, comment, source "
                          f"FROM scores WHERE {where} ORDER BY ts_us, id", params)  # fmt: skip
        return [Score(id=r[0], session_id=r[1], event_id=r[2], ts=us_to_ts(r[3]) or "", name=r[4],
                      value=loads(r[5]), comment=r[6], source=r[7]) for r in rows]  # fmt: skip


def score_record(
    session_id: str, name: str, value: Any, *, comment: str | None = None,
    event_id: str | None = None, source: str = "client", ts: str | None = None,
    id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A validated ``score`` record (``InvalidInputError`` naming the field otherwise)."""
    import pydantic

    from ._ingest import validation_reason

    obj = {"v": 1, "kind": "score", "id": id or new_id_str(), "session_id": session_id,
           "event_id": event_id, "ts": ts or us_to_ts(now_us()), "name": name, "value": value,
           "comment": comment, "source": source}  # fmt: skip
    try:
        ScoreRecord.model_validate(obj)
    except pydantic.ValidationError as exc:
        raise InvalidInputError(validation_reason(exc)) from None
    return obj


def _text(value_json: str) -> str | None:
    v = loads(value_json)
    return v if isinstance(v, str) else None
