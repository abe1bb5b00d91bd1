"""``compare``: which value of a config key does better and costs less.

Per value of ``configs[config_key]``: sessions, error rate (sessions that ended ``error``), the
average and median of each named score (each session's latest score of that name; categorical
scores as counts per value), cost per session (exact, over the priced calls) and the latency
percentiles of the sessions that ended (nearest-rank).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._errors import InvalidInputError
from ._conn import chunks
from ._core import StoreCore
from ._judging_models import CompareGroup, CompareReport, ScoreStats
from ._pricing import pico_to_usd
from ._rows import dumps, loads, now_us, to_us

__all__ = ["CompareMixin"]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[max(0, math.ceil(q * len(values)) - 1)]


class _Group:
    __slots__ = ("cost", "errors", "latencies", "scores", "sessions", "unpriced", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.sessions = 0
        self.errors = 0
        self.cost = 0
        self.unpriced = 0
        self.latencies: list[float] = []
        self.scores: dict[str, list[Any]] = {}


class CompareMixin(StoreCore):
    def compare(
        self, *, config_key: str, scores: Sequence[str] | None = None, days: float | None = None,
        filter_by_configs: dict[str, Any] | None = None, now: datetime | None = None,
        project: str = "default",
    ) -> CompareReport:  # fmt: skip
        """Sessions of the last ``days`` days (all when None) grouped by their value of
        ``config_key`` (sessions without it form the ``None`` group); ``scores``: the score
        names to summarize (every name seen when None)."""
        if not isinstance(config_key, str) or not config_key:
            raise InvalidInputError("config_key: must be a non-empty string")
        where: list[str] = ["project = ?"]
        params: list[Any] = [project]
        if days is not None:
            if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
                raise InvalidInputError(f"days: must be a positive number, got {days!r}")
            end = to_us(now) if now is not None else now_us()
            where.append("sort_us >= ?")
            params.append(end - int(days * 86_400_000_000))
        if filter_by_configs:
            from ._sessions import _check_configs

            sql, args = self._contains_filter(  # type: ignore[attr-defined]
                _check_configs(filter_by_configs, "filter_by_configs"))  # fmt: skip
            where.append(sql)
            params.extend(args)
        groups: dict[str, _Group] = {}
        by_session: dict[str, _Group] = {}
        with self._tx() as conn:
            for sid, configs, status, started, ended, cost, unpriced in conn.q(
                "SELECT id, configs, status, started_us, ended_us, r_cost_p, r_unpriced FROM "
                f"sessions WHERE {' AND '.join(where)}", params,
            ):  # fmt: skip
                value = (loads(configs) or {}).get(config_key)
                key = dumps(value)
                g = groups.get(key)
                if g is None:
                    g = groups[key] = _Group(value)
                g.sessions += 1
                g.errors += status == "error"
                g.cost += int(cost or 0)
                g.unpriced += int(unpriced or 0)
                if started is not None and ended is not None and ended >= started:
                    g.latencies.append((ended - started) / 1000)
                by_session[sid] = g
            names = None if scores is None else list(scores)
            for part in chunks(sorted(by_session)):
                marks = ",".join("?" * len(part))
                sql = (f"SELECT session_id, name, value FROM session_scores WHERE project = ? "
                       f"AND session_id IN ({marks})")  # fmt: skip
                args = [project, *part]
                if names is not None:
                    if not names:
                        break
                    sql += f" AND name IN ({','.join('?' * len(names))})"
                    args += names
                for sid, name, value in conn.q(sql, args):
                    by_session[sid].scores.setdefault(name, []).append(loads(value))
        out = [_summary(g, names) for g in groups.values()]
        out.sort(key=lambda c: (-c.sessions, dumps(c.value)))
        return CompareReport(config_key=config_key, days=days or 0, groups=out)


def _summary(g: _Group, names: list[str] | None) -> CompareGroup:
    stats: dict[str, ScoreStats] = {}
    for name in sorted(set(g.scores) | set(names or ())):
        values = g.scores.get(name, [])
        nums = [float(v) for v in values if isinstance(v, (int, float))]
        cats: dict[str, int] = {}
        for v in values:
            if isinstance(v, str):
                cats[v] = cats.get(v, 0) + 1
        stats[name] = ScoreStats(
            sessions=len(values), avg=statistics.fmean(nums) if nums else None,
            median=statistics.median(nums) if nums else None, values=cats,
        )  # fmt: skip
    lat = sorted(g.latencies)
    total = pico_to_usd(g.cost)
    return CompareGroup(
        value=g.value, sessions=g.sessions, errors=g.errors,
        error_rate=g.errors / g.sessions if g.sessions else 0.0, scores=stats, total_usd=total,
        cost_per_session=pico_to_usd(Decimal(g.cost) / g.sessions) if g.sessions else None,
        unpriced_calls=g.unpriced, latency_p50_ms=_pct(lat, 0.5), latency_p90_ms=_pct(lat, 0.9),
        latency_p99_ms=_pct(lat, 0.99),
    )  # fmt: skip
