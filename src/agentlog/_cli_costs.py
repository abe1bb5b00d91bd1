"""``agentlog costs`` and ``agentlog compare``, and the ``--prices`` option of the commands that
open a store (``serve``, ``ui``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_commands", "add_prices_option", "compare", "costs", "prices_from_args"]


def add_prices_option(p: Any) -> None:
    """``--prices FILE``: model price overrides (JSON or TOML) that win over the bundled ones."""
    p.add_argument("--prices", metavar="FILE", default=None,
                   help="price overrides per model (JSON or TOML: input_mtok, output_mtok, "
                        "cache_read_mtok, cache_write_mtok in USD per million tokens); "
                        "they win over the bundled genai-prices data")  # fmt: skip


def prices_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Store options for ``--prices`` (empty without it); ``ValueError`` naming the problem.
    The file is read here, so a bad one fails before anything starts."""
    path = getattr(args, "prices", None)
    if path is None:
        return {}
    from .store._pricing import load_prices

    load_prices(path)
    return {"prices": path}


def add_commands(cmd: Callable[..., argparse.ArgumentParser], *, days: Any) -> None:
    """Register ``costs`` and ``compare`` with the ``cmd`` helper of ``agentlog.cli``."""
    p = cmd(
        "costs", costs, "what the LLM calls cost, per day, hour, session, model, user or config"
    )
    p.add_argument("--by", default="day", metavar="BUCKET",
                   help="day (default), hour, session, model, user or config:KEY")  # fmt: skip
    p.add_argument("--days", type=days, default=7.0, help="look back (default 7)")
    p.add_argument("--config", dest="configs", action="append", default=[], metavar="KEY=VALUE",
                   help="only sessions whose configs contain this (repeatable)")  # fmt: skip
    p.add_argument("--unpriced", action="store_true",
                   help="list the models that could not be priced, with their call counts")  # fmt: skip
    p.add_argument("--json", action="store_true", help="the report as JSON")

    p = cmd("compare", compare, "compare the values of a config key: errors, scores, cost, latency")
    p.add_argument("config_key", metavar="KEY", help="the config key, e.g. agent or model")
    p.add_argument("--score", dest="scores", action="append", metavar="NAME",
                   help="a score to summarize (repeatable; default every score)")  # fmt: skip
    p.add_argument("--days", type=days, default=None, help="look back (default: all sessions)")
    p.add_argument("--json", action="store_true", help="the report as JSON")


def _configs(pairs: list[str]) -> dict[str, Any] | None:
    from ._cli_common import config_pair

    return dict(config_pair(p) for p in pairs) or None


def costs(args: argparse.Namespace, client: Any) -> int:
    report = client.query.cost(days=args.days, bucket=args.by,
                               filter_by_configs=_configs(args.configs))  # fmt: skip
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    if args.unpriced:
        if not report.unpriced_models:
            print("every call was priced", file=sys.stderr)
        for m in report.unpriced_models:
            print(f"{m.calls:>8}  {m.model or '(no model)'}")
        return 0
    row = "{:<28}  {:>8}  {:>8}  {:>12}  {:>12}  {:>14}"
    print(row.format(args.by.upper(), "CALLS", "UNPRICED", "TOKENS IN", "TOKENS OUT", "USD"))
    for b in report.buckets:
        print(row.format(b.key[:28], b.calls, b.unpriced_calls, b.input_tokens, b.output_tokens,
                         f"{b.total_usd}"))  # fmt: skip
    print(row.format("TOTAL", report.calls, report.unpriced_calls, "", "", f"{report.total_usd}"))
    if report.unpriced_calls:
        print(f"{report.unpriced_calls} call(s) could not be priced: agentlog costs --unpriced",
              file=sys.stderr)  # fmt: skip
    return 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.1f}s"


def compare(args: argparse.Namespace, client: Any) -> int:
    report = client.query.compare(config_key=args.config_key, scores=args.scores, days=args.days)
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0
    if not report.groups:
        print("no sessions", file=sys.stderr)
        return 0
    names = sorted({n for g in report.groups for n in g.scores})
    head = "{:<20}  {:>8}  {:>6}  {:>12}  {:>7}  {:>7}  {:>7}"
    print(head.format(args.config_key.upper()[:20], "SESSIONS", "ERRORS", "USD/SESSION", "P50",
                      "P90", "P99") + "".join(f"  {n[:16]:>16}" for n in names))  # fmt: skip
    for g in report.groups:
        value = (
            "(unset)"
            if g.value is None
            else g.value
            if isinstance(g.value, str)
            else json.dumps(g.value)
        )
        cells = []
        for n in names:
            st = g.scores.get(n)
            if st is None or not st.sessions:
                cells.append("-")
            elif st.avg is not None:
                cells.append(f"{st.avg:.2f} (med {st.median:g})")
            else:
                top = max(st.values.items(), key=lambda kv: kv[1])
                cells.append(f"{top[0]} x{top[1]}")
        print(head.format(str(value)[:20], g.sessions, f"{g.error_rate:.0%}",
                          f"{g.cost_per_session}" if g.cost_per_session is not None else "-",
                          _ms(g.latency_p50_ms), _ms(g.latency_p90_ms), _ms(g.latency_p99_ms))
              + "".join(f"  {c[:16]:>16}" for c in cells))  # fmt: skip
    return 0
