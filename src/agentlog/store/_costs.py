"""Cost at ingest and the cost query, shared by both SQL backends.

Every ``llm_call`` row is priced once as it is ingested (``_pricing``): its ``data`` gets a
``cost`` object, ``llm_costs`` keeps one row per call (its primary key makes a re-sent record
count once), ``cost_hours`` sums calls per (hour, session, model) so a month of costs is read
from a few thousand rows, and the session's rollup (``r_cost_p``, ``r_unpriced``) is kept
current. Money is integer picodollars throughout: sums are exact on both backends.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .._errors import InvalidInputError
from ._conn import Conn, chunks
from ._core import SessionCosts, StoreCore
from ._ingest import PriceFn, priced_row
from ._judging_models import CostBucket, CostReport, UnpricedModel
from ._keys import in_session, type_key
from ._pricing import Priced, Pricer, pico_to_usd
from ._rollup import HOUR_US, trunc_div
from ._rows import dumps, loads

__all__ = [
    "ADD_HOUR_SUMS",
    "COST_COLS",
    "HOURS_FROM",
    "HOUR_SUM_COLS",
    "CostsMixin",
    "cost_key",
    "hour_sums",
    "session_costs",
]

DAY_US = 86_400_000_000
COST_COLS = ("project, event_id, session_id, ts_us, provider, model, input_tokens, "
              "output_tokens, input_p, output_p, total_p, source")  # fmt: skip
_SUMS = ("count(*), SUM(CASE WHEN total_p IS NULL THEN 1 ELSE 0 END), SUM(input_tokens), "
         "SUM(output_tokens), SUM(COALESCE(input_p, 0)), SUM(COALESCE(output_p, 0)), "
         "SUM(COALESCE(total_p, 0))")  # fmt: skip
_HOUR_SUMS = ("SUM(calls), SUM(unpriced), SUM(input_tokens), SUM(output_tokens), SUM(input_p), "
              "SUM(output_p), SUM(total_p)")  # fmt: skip
_TIME_BUCKETS = {"hour": HOUR_US, "day": DAY_US}
_SUM_COLS = "calls, unpriced, input_tokens, output_tokens, input_p, output_p, total_p"
_ADD_SUMS = "ON CONFLICT (project, hour, session_id, model) DO UPDATE SET " + ", ".join(
    f"{c} = cost_hours.{c} + excluded.{c}" for c in _SUM_COLS.split(", ")
)
# The columns of ``hour_sums``' rows, as ``cost_hours`` has them, and the statement adding
# such rows from ``{source}`` (a SELECT in key order, or VALUES).
HOUR_SUM_COLS = f"project, hour, session_id, model, {_SUM_COLS}"
ADD_HOUR_SUMS = f"INSERT INTO cost_hours ({HOUR_SUM_COLS}) {{source}} {_ADD_SUMS}"
# From the cost rows just inserted ({new}): their sums per hour, session and model. The same
# SQL on both backends.
HOURS_FROM = ADD_HOUR_SUMS.format(
    source=f"SELECT project, ts_us / {HOUR_US}, COALESCE(session_id, ''), COALESCE(model, ''), "
    f"{_SUMS} FROM {{new}} AS n WHERE TRUE GROUP BY 1, 2, 3, 4"
)
BUCKET_NAMES = ("day", "hour", "session", "model", "user", "config:KEY")


def hour_sums(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The sums ``HOURS_FROM`` makes of cost rows (``COST_COLS``), made here for rows all known
    to be new (PostgreSQL copies them straight into ``llm_costs``: no staged copy to sum in
    SQL); in key order, the order every writer of ``cost_hours`` takes its rows in."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for r in rows:
        key = (r[0], trunc_div(r[3], HOUR_US), r[2] or "", r[5] or "")
        got = sums.get(key)
        if got is None:
            got = sums[key] = [0, 0, 0, 0, 0, 0, 0]
        total = r[10]
        got[0] += 1
        got[1] += total is None
        got[2] += r[6]
        got[3] += r[7]
        got[4] += r[8] or 0
        got[5] += r[9] or 0
        got[6] += total or 0
    return [(*key, *vals) for key, vals in sorted(sums.items())]


def session_costs(inserted: Iterable[Sequence[Any]]) -> SessionCosts:
    """The sums per session of the (session_id, total_p) of cost rows just inserted."""
    sums: dict[str, list[int]] = {}
    for sid, total in inserted:
        if sid is not None:
            got = sums.setdefault(sid, [0, 0])
            if total is None:
                got[1] += 1
            else:
                got[0] += total
    return {sid: (c, u) for sid, (c, u) in sums.items()}


def cost_key(bucket: str) -> str | None:
    """The config key of a ``config:KEY`` bucket, else None; ValueError for an unknown bucket."""
    if bucket.startswith("config:") and len(bucket) > 7:
        return bucket[7:]
    if bucket in ("day", "hour", "session", "model", "user"):
        return None
    raise InvalidInputError(f"bucket: must be one of {', '.join(BUCKET_NAMES)}; got {bucket!r}")


def _vec(row: Sequence[Any]) -> list[int]:
    return [int(x or 0) for x in row]


class CostsMixin(StoreCore):
    _pricer: Pricer | None = None

    @property
    def pricer(self) -> Pricer:
        if self._pricer is None:
            self._pricer = Pricer()
        return self._pricer

    def set_prices(self, prices: Any) -> None:
        """Price overrides (a dict or a JSON/TOML file) for calls ingested from now on."""
        self._pricer = Pricer(prices)

    # -- ingest hooks ----------------------------------------------------------------------------
    def _pricing(self) -> PriceFn:
        return self.pricer.price

    def _price_rows(self, rows: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], list[Any]]:
        """Stored event rows (EVENT_COLS order) with each llm_call's ``data.cost`` filled in
        again, and the (row, Priced) pairs for ``_record_costs`` (ingest prices a call as it
        checks its record: ``parse_batch``)."""
        priced: list[tuple[tuple[Any, ...], Priced]] = []
        out = rows
        for i, row in enumerate(rows):
            if row[4] != "llm_call":
                continue
            if out is rows:
                out = list(rows)
            data = loads(row[11])
            if not isinstance(data, dict):
                continue
            new, p = priced_row(row, data, self.pricer.price)
            out[i] = new
            priced.append((new, p))
        return out, priced

    def _record_costs(self, conn: Conn, project: str, priced: list[Any]) -> SessionCosts:
        """Cost rows for the calls really inserted now (a re-sent call is skipped) and their
        hourly sums; returns their sums per session, which the caller adds to the sessions it
        writes anyway (``_add_session_costs`` for the others)."""
        if not priced:
            return {}
        rows = [(project, row[1], row[2], row[6], p.provider, p.model, p.input_tokens,
                 p.output_tokens, p.input_p, p.output_p, p.total_p, p.source)
                for row, p in priced]  # fmt: skip
        return session_costs(self._insert_costs(conn, rows))

    def _add_session_costs(self, conn: Conn, costs: SessionCosts) -> None:
        """Add per-session cost sums to sessions that ingest does not write otherwise."""
        conn.many("UPDATE sessions SET r_cost_p = r_cost_p + ?, r_unpriced = r_unpriced + ? "
                  "WHERE id = ?", [(*costs[sid], sid) for sid in sorted(costs)])  # fmt: skip

    @abstractmethod
    def _insert_costs(self, conn: Conn, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Insert the cost rows (``COST_COLS``) whose call is not stored yet, add them to
        ``cost_hours`` (``HOURS_FROM``); the (session_id, total_p) of those inserted."""

    def _forget_costs(self, conn: Conn, project: str, session_id: str) -> None:
        mine, args = in_session(conn.dialect, "events", project, session_id)
        conn.run("DELETE FROM llm_costs WHERE project = ? AND event_id IN (SELECT id FROM events "
                 f"WHERE {mine})", (project, *args))  # fmt: skip
        conn.run("DELETE FROM cost_hours WHERE project = ? AND session_id = ?",
                 (project, session_id))  # fmt: skip

    def _reprice(self, conn: Conn, *, project: str | None) -> int:
        """Price every stored llm_call again (all projects when None); returns how many."""
        where, params = "type = 'llm_call'", []
        if project is not None:
            keyed, hashed = type_key(conn.dialect, "events", project, ["llm_call"])
            where += f" AND project = ?{keyed}"
            params += [project, *hashed]
        rows = conn.q("SELECT project, id, session_id, parent_id, type, name, ts_us, end_ts_us, "
                      f"duration_ms, status, partial, data FROM events WHERE {where}", params)  # fmt: skip
        scope, sparams = ("WHERE project = ?", [project]) if project is not None else ("", [])
        conn.run(f"DELETE FROM llm_costs {scope}", sparams)
        conn.run(f"DELETE FROM cost_hours {scope}", sparams)
        conn.run(f"UPDATE sessions SET r_cost_p = 0, r_unpriced = 0 {scope}", sparams)
        by_project: dict[str, list[tuple[Any, ...]]] = {}
        for r in rows:
            by_project.setdefault(r[0], []).append((*r, None, None, None))
        for proj, prow in by_project.items():
            priced_rows, priced = self._price_rows(prow)
            conn.many(f"UPDATE events SET data = {self.json_param} WHERE project = ? AND id = ?",
                      [(r[11], proj, r[1]) for r in priced_rows if r[4] == "llm_call"])  # fmt: skip
            self._add_session_costs(conn, self._record_costs(conn, proj, priced))
        return len(rows)

    def reprice(self, *, project: str = "default") -> int:
        """Price the project's stored calls again with the current prices (after overrides
        changed); returns the number of calls priced."""
        with self._tx(write=True) as conn:
            return self._reprice(conn, project=project)

    # -- the query -------------------------------------------------------------------------------
    def cost(
        self, *, days: float = 7, bucket: str = "day",
        filter_by_configs: dict[str, Any] | None = None, now: datetime | None = None,
        project: str = "default",
    ) -> CostReport:  # fmt: skip
        """Cost of the last ``days`` days per bucket: ``day``/``hour`` (oldest first), or
        ``session``, ``model``, ``user``, ``config:KEY`` (most expensive first). Whole hours come
        from ``cost_hours``, the partial hours at both ends from the calls themselves."""
        from .query import _label, _since

        config_key = cost_key(bucket)
        start, end = _since(days, now)
        lo, hi = -(-start // HOUR_US), (end + 1) // HOUR_US
        filt, fparams = "", []
        if filter_by_configs:
            from ._sessions import _check_configs

            sql, args = self._contains_filter(_check_configs(filter_by_configs,  # type: ignore[attr-defined]
                                                             "filter_by_configs"))  # fmt: skip
            filt = f" AND session_id IN (SELECT id FROM sessions WHERE project = ? AND {sql})"
            fparams = [project, *args]
        hour_key = {"day": "hour / 24", "hour": "hour", "model": "model"}.get(bucket, "session_id")
        raw_key = {"day": f"ts_us / {DAY_US}", "hour": f"ts_us / {HOUR_US}",
                   "model": "COALESCE(model, '')"}.get(bucket, "COALESCE(session_id, '')")  # fmt: skip
        totals: dict[Any, list[int]] = {}
        unpriced: dict[str, int] = {}

        def add(key: Any, vec: list[int]) -> None:
            acc = totals.get(key)
            totals[key] = vec if acc is None else [a + b for a, b in zip(acc, vec, strict=True)]

        with self._tx() as conn:
            if self.dialect == "postgres":  # the hours and the calls read in one snapshot
                conn.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            edges = [(start, end, 1)]
            if lo < hi:
                # A partial hour at either end is read from its calls, or, when that is the
                # longer side of it, as the whole hour less the calls outside the window: the
                # current hour of a window ending now is then its few calls stamped later.
                edges = []
                for a, b, hour in ((start, lo * HOUR_US - 1, lo - 1), (hi * HOUR_US, end, hi)):
                    first, last = hour * HOUR_US, (hour + 1) * HOUR_US - 1
                    if a > b or 2 * (b - a) <= HOUR_US:
                        edges.append((a, b, 1))
                    else:
                        lo, hi = min(lo, hour), max(hi, hour + 1)
                        edges.append((first, a - 1, -1) if a > first else (b + 1, last, -1))
                for r in conn.q(f"SELECT {hour_key}, {_HOUR_SUMS} FROM cost_hours WHERE "
                                f"project = ? AND hour >= ? AND hour < ?{filt} GROUP BY 1",
                                [project, lo, hi, *fparams]):  # fmt: skip
                    add(r[0], _vec(r[1:]))
                for m, n in conn.q("SELECT model, SUM(unpriced) FROM cost_hours WHERE project = ? "
                                   f"AND hour >= ? AND hour < ? AND unpriced > 0{filt} GROUP BY 1",
                                   [project, lo, hi, *fparams]):  # fmt: skip
                    unpriced[m] = unpriced.get(m, 0) + int(n)
            keyed, hashed = type_key(conn.dialect, "events", project, ["llm_call"])
            for a, b, sign in edges:
                if a > b:
                    continue
                # The calls of a partial hour, found through events_type (llm_call, time).
                window = (f"project = ? AND event_id IN (SELECT id FROM events WHERE project = ? "
                          f"AND type = 'llm_call'{keyed} AND ts_us >= ? AND ts_us <= ?){filt}")  # fmt: skip
                args = [project, project, *hashed, a, b, *fparams]
                for r in conn.q(f"SELECT {raw_key}, {_SUMS} FROM llm_costs WHERE {window} "
                                "GROUP BY 1", args):  # fmt: skip
                    add(r[0], [sign * v for v in _vec(r[1:])])
                for m, n in conn.q("SELECT COALESCE(model, ''), count(*) FROM llm_costs WHERE "
                                   f"{window} AND total_p IS NULL GROUP BY 1", args):  # fmt: skip
                    unpriced[m] = unpriced.get(m, 0) + sign * int(n)
            # What the outside calls took out entirely is not there.
            totals = {k: v for k, v in totals.items() if v[0]}
            unpriced = {m: n for m, n in unpriced.items() if n}
            if bucket in ("user", "session") or config_key is not None:
                totals = self._regroup(conn, totals, bucket, config_key)
        if bucket in _TIME_BUCKETS:
            width = _TIME_BUCKETS[bucket] // 1_000_000
            labelled = [(_label(int(k) * width), v) for k, v in sorted(totals.items())]
        else:
            labelled = sorted(((str(k) if k not in ("", None) else "(none)", v)
                               for k, v in totals.items()), key=lambda kv: (-kv[1][6], kv[0]))  # fmt: skip
        buckets = [_bucket(k, v) for k, v in labelled]
        grand = [sum(v[i] for v in totals.values()) for i in range(7)] if totals else [0] * 7
        return CostReport(
            bucket=bucket, days=days, buckets=buckets, calls=grand[0], unpriced_calls=grand[1],
            total_usd=pico_to_usd(grand[6]),
            unpriced_models=[UnpricedModel(model=m or None, calls=n)
                             for m, n in sorted(unpriced.items(), key=lambda kv: (-kv[1], kv[0]))],
        )  # fmt: skip

    def _regroup(
        self, conn: Conn, totals: dict[Any, list[int]], bucket: str, config_key: str | None
    ) -> dict[Any, list[int]]:
        """Per-session sums regrouped by the session's user or config value."""
        if bucket == "session":
            return totals
        sids = [s for s in totals if s]
        attr: dict[str, Any] = {}
        for part in chunks(sorted(sids)):
            marks = ",".join("?" * len(part))
            for sid, user, configs in conn.q(
                f"SELECT id, user_id, configs FROM sessions WHERE id IN ({marks})", part
            ):
                if config_key is None:
                    attr[sid] = user
                else:
                    value = (loads(configs) or {}).get(config_key)
                    attr[sid] = value if isinstance(value, str) or value is None else dumps(value)
        out: dict[Any, list[int]] = {}
        for sid, vec in totals.items():
            key = attr.get(sid)
            acc = out.get(key)
            out[key] = vec if acc is None else [a + b for a, b in zip(acc, vec, strict=True)]
        return out


def _bucket(key: str, v: list[int]) -> CostBucket:
    usd = pico_to_usd
    return CostBucket(key=key, calls=v[0], unpriced_calls=v[1], input_tokens=v[2],
                      output_tokens=v[3], input_usd=usd(v[4]), output_usd=usd(v[5]),
                      total_usd=usd(v[6]))  # fmt: skip
