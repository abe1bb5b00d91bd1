"""Cost at ingest against hand-computed prices, rollups and the cost query, on both backends."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agentlog._errors import InvalidInputError
from agentlog.store._costs import _SUMS, COST_COLS, hour_sums
from agentlog.store._rollup import HOUR_US
from agentlog.store._schema import migrations
from agentlog.store._store import SqlStore
from agentlog.store._times import to_us
from agentlog.store.sqlite import SqliteStore

from .helpers import BASE_NS, event, session

NOW = datetime.fromtimestamp(BASE_NS / 1e9 + 86_400, tz=timezone.utc)  # a day after BASE


def llm(sid: str | None, at: float, **data: Any) -> dict[str, Any]:
    return event(sid, at, "llm_call", data=data)


def cost_of(store: SqlStore, sid: str) -> list[dict[str, Any]]:
    return [e.data["cost"] for e in store.get_events(sid, type="llm_call", limit=200).items]


# Prices per million tokens in the bundled data: gpt-4o $2.50 in, $1.25 cached, $10 out;
# claude-3-5-sonnet $3 in, $0.30 cache read, $3.75 cache write, $15 out; o3-mini $1.10 in,
# $4.40 out (reasoning tokens are output tokens).
CASES = [
    ("openai cached input",
     {"provider": "openai", "model": "gpt-4o",
      "usage": {"input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 100}},
     # 600 x 2.5e-6 + 400 x 1.25e-6 = 0.002; 100 x 10e-6 = 0.001
     ("0.002", "0.001", "0.003", "genai-prices")),
    ("openai names from the API",
     {"provider": "openai", "model": "gpt-4o",
      "usage": {"prompt_tokens": 1000, "cached_tokens": 400, "completion_tokens": 100}},
     ("0.002", "0.001", "0.003", "genai-prices")),
    ("anthropic cache read and write",
     {"provider": "anthropic", "request_model": "claude-3-5-sonnet-20241022",
      "usage": {"input_tokens": 1000, "cache_read_tokens": 300, "cache_write_tokens": 200,
                "output_tokens": 100}},
     # 500 x 3e-6 + 300 x 0.3e-6 + 200 x 3.75e-6 = 0.00234; 100 x 15e-6 = 0.0015
     ("0.00234", "0.0015", "0.00384", "genai-prices")),
    ("anthropic's own usage shape",
     {"provider": "anthropic", "model": "claude-3-5-sonnet-20241022",
      "usage": {"input_tokens": 500, "cache_read_input_tokens": 300,
                "cache_creation_input_tokens": 200, "output_tokens": 100}},
     ("0.00234", "0.0015", "0.00384", "genai-prices")),
    ("reasoning model",
     {"provider": "openai", "request_model": "o3-mini", "model": "o3-mini-2025-01-31",
      "usage": {"input_tokens": 1000, "output_tokens": 500, "reasoning_tokens": 400}},
     # 1000 x 1.1e-6 = 0.0011; 500 x 4.4e-6 = 0.0022 (the 400 reasoning tokens are among the 500)
     ("0.0011", "0.0022", "0.0033", "genai-prices")),
    ("caller-given cost wins",
     {"provider": "openai", "model": "gpt-4o", "cost_usd": 0.5,
      "usage": {"input_tokens": 1000, "output_tokens": 100}},
     (None, None, "0.5", "caller")),
    ("unknown model",
     {"provider": "openai", "model": "no-such-model-7",
      "usage": {"input_tokens": 1000, "output_tokens": 100}},
     (None, None, None, "unpriced")),
    ("no usage",
     {"provider": "openai", "model": "gpt-4o"},
     (None, None, None, "unpriced")),
]  # fmt: skip


@pytest.mark.parametrize(("data", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_computed_prices(store: SqlStore, data: dict[str, Any], want: tuple[Any, ...]) -> None:
    store.ingest([session("c1"), llm("c1", 1, **data)])
    cost = cost_of(store, "c1")[0]
    assert (cost["input_usd"], cost["output_usd"], cost["total_usd"], cost["source"]) == want
    s = store.get_session("c1")
    assert s.rollup.cost_usd == Decimal(want[2] or 0)
    assert s.rollup.unpriced_calls == (1 if want[3] == "unpriced" else 0)


def test_a_priced_call_keeps_its_data_as_written_with_cost_added_last(store: SqlStore) -> None:
    data = {"provider": "openai", "model": "gpt-4o", "note": "naïve ✓ \"q\"}",
            "usage": {"input_tokens": 1000, "output_tokens": 100}, "big": 2**70}  # fmt: skip
    store.ingest([session("c1"), llm("c1", 1, **data)])
    got = store.get_events("c1", type="llm_call").items[0].data
    assert list(got) == [*data, "cost"]
    assert {k: got[k] for k in data} == data
    assert got["cost"]["total_usd"] == "0.0035"


def test_a_recorded_cost_key_is_replaced_by_the_price(store: SqlStore) -> None:
    store.ingest([session("c1"), llm("c1", 1, provider="openai", model="gpt-4o", cost="mine",
                                     usage={"input_tokens": 1000, "output_tokens": 100})])  # fmt: skip
    got = store.get_events("c1", type="llm_call").items[0].data
    assert list(got) == ["provider", "model", "cost", "usage"]
    assert got["cost"]["total_usd"] == "0.0035"


def test_a_priced_call_with_empty_data(store: SqlStore) -> None:
    store.ingest([session("c1"), llm("c1", 1)])
    got = store.get_events("c1", type="llm_call").items[0].data
    assert got == {"cost": {"input_usd": None, "output_usd": None, "total_usd": None,
                            "source": "unpriced"}}  # fmt: skip


def test_overrides_win_over_bundled_prices(store: SqlStore) -> None:
    store.set_prices({"gpt-4o": {"input_mtok": 1, "output_mtok": "2"},
                      "anthropic/claude-x": {"input_mtok": 3, "output_mtok": 4,
                                             "cache_read_mtok": 0.5}})  # fmt: skip
    try:
        store.ingest([
            session("o1"),
            llm("o1", 1, provider="openai", model="GPT-4o",
                usage={"input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 100}),
            llm("o1", 2, provider="anthropic", model="claude-x",
                usage={"input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 10}),
            llm("o1", 3, provider="openai", model="gpt-4o", cost_usd="0.25",
                usage={"input_tokens": 1000, "output_tokens": 100}),
        ])  # fmt: skip
    finally:
        store.set_prices(None)
    costs = cost_of(store, "o1")
    # No cache price in the override: cached tokens cost the input rate. 1000 x 1e-6; 100 x 2e-6.
    assert costs[0] == {"input_usd": "0.001", "output_usd": "0.0002", "total_usd": "0.0012",
                        "source": "override"}  # fmt: skip
    # 600 x 3e-6 + 400 x 0.5e-6 = 0.002; 10 x 4e-6 = 0.00004
    assert costs[1]["total_usd"] == "0.00204"
    assert costs[2]["source"] == "caller"
    assert store.get_session("o1").rollup.cost_usd == Decimal("0.25324")


@pytest.mark.parametrize("source", ["caller", "override", "genai-prices", "unpriced"])
def test_cost_text_is_what_json_writes_of_the_cost_object(source: str) -> None:
    import orjson

    from agentlog.store._pricing import Priced

    for amounts in [(None, None, None), (1, 0, 1), (2_500_000, 10**12, 10**12 + 2_500_000),
                    (None, None, 123_456_789_012_345)]:  # fmt: skip
        p = Priced("openai", "gpt-4o", 10, 5, *amounts, source)
        assert p.as_json_text() == orjson.dumps(p.as_json()).decode()


def test_overrides_from_toml_and_json_files(tmp_path: Path) -> None:
    from agentlog.store._pricing import Pricer, load_prices

    toml = tmp_path / "p.toml"
    toml.write_text('[models."my-model"]\ninput_mtok = 2\noutput_mtok = 8\n')
    js = tmp_path / "p.json"
    js.write_text('{"my-model": {"input_mtok": 2, "output_mtok": 8}}')
    assert load_prices(toml) == load_prices(js)
    p = Pricer(toml).price(
        {"model": "my-model", "usage": {"input_tokens": 10, "output_tokens": 1}}, 0
    )
    assert (p.total_p, p.source) == (28_000_000, "override")  # 10 x 2e-6 + 8e-6 USD in 1e-12
    bad = tmp_path / "bad.json"
    bad.write_text('{"m": {"input_mtok": -1}}')
    with pytest.raises(ValueError, match="'m'"):
        load_prices(bad)
    with pytest.raises(ValueError, match="unknown keys"):
        load_prices({"m": {"inptu_mtok": 1}})


def test_a_batch_resending_a_call_adds_only_the_new_calls_cost(store: SqlStore) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 100}  # $0.0035 with gpt-4o
    first = llm("c1", 1, provider="openai", model="gpt-4o", usage=usage)
    store.ingest([session("c1"), first])
    store.ingest([first, llm("c1", 2, provider="openai", model="gpt-4o", usage=usage)])
    assert store.get_session("c1").rollup.cost_usd == Decimal("0.007")
    report = store.cost(bucket="session", days=30, now=NOW)
    assert (report.calls, report.total_usd) == (2, Decimal("0.007"))


USAGE = {"input_tokens": 1000, "output_tokens": 100}  # $0.0035 with gpt-4o


def _calls_among_tools(sid: str, first: int, n: int) -> list[dict[str, Any]]:
    """n events from second ``first`` on, every third an llm_call, the others tool calls."""
    return [llm(sid, i, provider="openai", model="gpt-4o", usage=USAGE) if i % 3 == 1
            else event(sid, i, "tool_call", name=f"t{i}") for i in range(first, first + n)]  # fmt: skip


def _total_count(store: SqlStore, **kw: Any) -> int:
    return sum(c.count for c in store.event_counts(days=3650, bucket="session", **kw))


def test_a_batch_of_calls_among_other_events_stores_and_counts_each_once(store: SqlStore) -> None:
    # PostgreSQL streams the other events first and prices the calls meanwhile: the order of
    # the batch must not show in what is stored, its costs or its counts.
    recs = _calls_among_tools("m1", 0, 12)
    store.ingest([session("m1"), *recs])
    stored = store.get_events("m1", limit=50).items
    assert [e.id for e in stored] == [r["id"] for r in recs]  # in time order, once each
    assert [e.data["cost"]["total_usd"] for e in stored if e.type == "llm_call"] == ["0.0035"] * 4
    assert store.get_session("m1").rollup.cost_usd == Decimal("0.014")
    assert (_total_count(store, type="llm_call"), _total_count(store)) == (4, 12)


def test_a_resent_batch_of_calls_among_other_events_adds_only_its_new_ones(store: SqlStore) -> None:
    # The re-send fails the straight COPY (a stored id) and goes through ON CONFLICT, with the
    # calls priced either before or after the server refused it.
    recs = _calls_among_tools("m2", 0, 12)
    store.ingest([session("m2"), *recs])
    more = _calls_among_tools("m2", 12, 3)  # two new tool calls, one new call
    store.ingest([*recs, *more])
    stored = store.get_events("m2", limit=50).items
    assert [e.id for e in stored] == [r["id"] for r in [*recs, *more]]  # once each
    assert store.get_session("m2").rollup.cost_usd == Decimal("0.0175")
    assert (_total_count(store, type="llm_call"), _total_count(store)) == (5, 15)


def test_rollups_and_query_equal_the_sum_of_calls(store: SqlStore) -> None:
    recs: list[dict[str, Any]] = []
    for i in range(6):
        sid = f"r{i}"
        recs.append(session(sid, at=i * 3600, user=f"u{i % 2}", configs={"agent": f"a{i % 3}"}))
        for j in range(5):
            recs.append(llm(sid, i * 3600 + j, provider="openai",
                            model="gpt-4o-mini" if j % 2 else "gpt-4o",
                            usage={"input_tokens": 1000 + 37 * i + j, "cached_tokens": 100 * j,
                                   "output_tokens": 50 + 11 * j}))  # fmt: skip
        recs.append(llm(sid, i * 3600 + 9, model="unknown-model", usage={"input_tokens": 5}))
        recs.append(llm(sid, i * 3600 + 10, cost_usd="0.1"))
    store.ingest(recs)
    store.ingest(recs)  # re-sent: counted once
    grand = Decimal(0)
    for i in range(6):
        calls = sum((Decimal(c["total_usd"]) for c in cost_of(store, f"r{i}")
                     if c["total_usd"] is not None), Decimal(0))  # fmt: skip
        s = store.get_session(f"r{i}")
        assert s.rollup.cost_usd == calls
        assert s.rollup.unpriced_calls == 1
        grand += calls
    kw: dict[str, Any] = {"days": 30, "now": NOW}
    by_day = store.cost(bucket="day", **kw)
    assert by_day.total_usd == grand == sum(b.total_usd for b in by_day.buckets)
    assert (by_day.calls, by_day.unpriced_calls) == (42, 6)
    assert [m.model_dump() for m in by_day.unpriced_models] == [{"model": "unknown-model",
                                                                 "calls": 6}]  # fmt: skip
    by_session = {b.key: b.total_usd for b in store.cost(bucket="session", **kw).buckets}
    assert by_session == {f"r{i}": store.get_session(f"r{i}").rollup.cost_usd for i in range(6)}
    by_hour = store.cost(bucket="hour", **kw)
    assert len(by_hour.buckets) == 6 and by_hour.total_usd == grand
    by_model = {b.key: b for b in store.cost(bucket="model", **kw).buckets}
    assert set(by_model) == {"gpt-4o", "gpt-4o-mini", "unknown-model", "(none)"}
    assert by_model["(none)"].total_usd == Decimal("0.6")  # 6 x "0.1": exact, not 0.6000000001
    by_user = {b.key: b.total_usd for b in store.cost(bucket="user", **kw).buckets}
    assert by_user["u0"] == sum(by_session[f"r{i}"] for i in (0, 2, 4))
    by_agent = {b.key: b.total_usd for b in store.cost(bucket="config:agent", **kw).buckets}
    assert by_agent["a1"] == by_session["r1"] + by_session["r4"]
    only = store.cost(bucket="day", filter_by_configs={"agent": "a2"}, **kw)
    assert only.total_usd == by_session["r2"] + by_session["r5"]
    # A window that cuts hours: partial hours are read from the calls themselves.
    cut = store.cost(bucket="session", days=(86_400 - 3600 * 4 - 5) / 86_400, now=NOW)
    assert {b.key for b in cut.buckets} == {"r4", "r5"}
    assert cut.calls == 7 + 2  # r5 whole, r4 from its 5th second on
    store.delete_session("r0")
    assert store.cost(bucket="day", **kw).total_usd == grand - by_session["r0"]


def test_copied_session_costs_the_same(store: SqlStore) -> None:
    store.ingest([session("k1"), llm("k1", 1, provider="openai", model="gpt-4o",
                                     usage={"input_tokens": 10, "output_tokens": 10})])  # fmt: skip
    copy = store.copy_session("k1")
    assert copy.rollup.cost_usd == store.get_session("k1").rollup.cost_usd == Decimal("0.000125")


def test_bad_bucket(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="bucket"):
        store.cost(bucket="week")


def test_migration_prices_an_existing_store(tmp_path: Path) -> None:
    """A database from before cost (schema version 2) is priced when it is opened."""
    path = tmp_path / "old.db"
    c = sqlite3.connect(path)
    for version, steps in enumerate(migrations("sqlite")[:2], start=1):
        for stmt in steps:
            c.execute(stmt)
        c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        c.execute("INSERT INTO schema_version VALUES (?)", (version,))
    c.execute("INSERT INTO sessions (id, project, status, sort_us) VALUES ('m1', 'default', "
              "'success', 1767225600000000)")  # fmt: skip
    c.execute(
        "INSERT INTO events (project, id, session_id, type, ts_us, status, partial, data) VALUES "
        "('default', 'e1', 'm1', 'llm_call', 1767225601000000, 'ok', 0, ?)",
        ('{"provider":"openai","model":"gpt-4o","usage":{"input_tokens":1000,'
         '"cached_tokens":400,"output_tokens":100}}',),
    )  # fmt: skip
    c.commit()
    c.close()
    with SqliteStore(path, processing=False) as store:
        assert cost_of(store, "m1")[0]["total_usd"] == "0.003"
        assert store.get_session("m1").rollup.cost_usd == Decimal("0.003")
        assert store.cost(days=3650).total_usd == Decimal("0.003")


def test_migration_prices_an_existing_postgres_store(pg_schema: str) -> None:
    """The same on PostgreSQL: a schema at version 2 with a stored call is priced on open."""
    import uuid

    import psycopg

    from agentlog.store.postgres import PostgresStore

    from .conftest import PG_URL

    schema = f"{pg_schema}_m{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
        c.execute(f'SET search_path TO "{schema}"')
        c.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, steps in enumerate(migrations("postgres")[:2], start=1):
            for stmt in steps:
                c.execute(stmt)
            c.execute("INSERT INTO schema_version VALUES (%s)", (version,))
        c.execute("INSERT INTO sessions (id, project, status, sort_us) VALUES ('m1', 'default', "
                  "'success', 1767225600000000)")  # fmt: skip
        c.execute(
            "INSERT INTO events (project, id, session_id, type, ts_us, status, partial, data) "
            "VALUES ('default', 'e1', 'm1', 'llm_call', 1767225601000000, 'ok', false, %s)",
            ('{"provider":"anthropic","model":"claude-3-5-sonnet-20241022","usage":'
             '{"input_tokens":1000,"cache_read_tokens":300,"cache_write_tokens":200,'
             '"output_tokens":100}}',),
        )  # fmt: skip
    store = PostgresStore(PG_URL, schema=schema, processing=False)
    try:
        assert cost_of(store, "m1")[0]["total_usd"] == "0.00384"
        assert store.get_session("m1").rollup.cost_usd == Decimal("0.00384")
    finally:
        store.drop_schema()


def test_hour_sums_are_those_sql_makes(store: SqlStore) -> None:
    # PostgreSQL sums the cost rows of new calls in Python (hour_sums) and the others in SQL
    # (HOURS_FROM): both must give the same groups, hours divided toward zero as SQL does.
    times = [0, 1, HOUR_US - 1, HOUR_US, -1, -HOUR_US, -HOUR_US - 1, 1_767_225_600_000_000]
    rows = [("p", f"c{i}", sid, ts, "openai", model, 10 + i, i, None if i % 4 == 0 else 7 * i,
             None if i % 4 == 0 else 3 * i, None if i % 4 == 0 else 10 * i, "genai-prices")
            for i, (ts, sid, model) in enumerate((ts, sid, model) for ts in times
                                                 for sid in ("s1", None) for model in ("m", None))]  # fmt: skip
    marks = ", ".join(["(" + ", ".join(["?"] * len(rows[0])) + ")"] * len(rows))
    with store._tx() as conn:
        want = conn.q(f"WITH n ({COST_COLS}) AS (VALUES {marks}) SELECT project, "
                      f"ts_us / {HOUR_US}, COALESCE(session_id, ''), COALESCE(model, ''), "
                      f"{_SUMS} FROM n GROUP BY 1, 2, 3, 4", [v for r in rows for v in r])  # fmt: skip
    assert hour_sums(rows) == sorted(tuple(int(v) if i > 3 else v for i, v in enumerate(r))
                                     for r in want)  # fmt: skip


@pytest.mark.parametrize(
    ("data", "source", "tokens"),
    [
        ({"model": "gpt-4o", "usage": {"input_tokens": 10**20, "output_tokens": 100}},
         "genai-prices", (0, 100)),
        ({"model": "gpt-4o", "usage": {"input_tokens": 1e30, "output_tokens": 2**62}},
         "unpriced", (0, 0)),
        ({"model": "gpt-4o", "cost_usd": 1e30, "usage": USAGE}, "genai-prices", (1000, 100)),
    ],
)  # fmt: skip
def test_a_count_or_cost_too_large_to_sum_is_not_taken_and_fails_nothing(
    store: SqlStore, data: dict[str, Any], source: str, tokens: tuple[int, int]
) -> None:
    # Such values overflowed the 64-bit cost columns and failed the whole batch.
    result = store.ingest([session("big"), llm("big", 1, **data), event("big", 2)])
    assert result.rejected == [] and len(result.accepted) == 3
    [call] = store.get_events("big", type="llm_call").items
    assert call.data["cost"]["source"] == source
    assert store.cost(bucket="session", days=30, now=NOW).calls == 1
    with store._tx() as conn:
        assert conn.q("SELECT input_tokens, output_tokens FROM llm_costs") == [tokens]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_windows_cutting_hours_either_way_count_exactly_the_calls_in_them(
    store: SqlStore, seed: int
) -> None:
    # A partial hour is read from its calls, or as the whole hour less the calls outside the
    # window, whichever is the shorter side of it: every window must count the same calls.
    import random

    rnd = random.Random(seed)
    recs: list[dict[str, Any]] = [session("w", at=0)]
    for _ in range(120):
        model = rnd.choice(["gpt-4o", "gpt-4o-mini", "unknown-model"])
        recs.append(llm("w", rnd.uniform(0, 5 * 3600), model=model,
                        usage={"input_tokens": rnd.randrange(1, 5000), "output_tokens": 7}))  # fmt: skip
    store.ingest(recs)
    calls = store.get_events("w", type="llm_call", limit=200).items
    base = datetime.fromtimestamp(BASE_NS // 10**9, tz=timezone.utc)
    for _ in range(12):
        start_s, end_s = sorted(rnd.uniform(-600, 5 * 3600 + 600) for _ in range(2))
        now = base + timedelta(microseconds=int(end_s * 1e6))
        days = (end_s - start_s) / 86_400
        got = store.cost(bucket="model", days=days, now=now)
        hi = to_us(now)
        lo = hi - int(days * 86_400_000_000)
        inside = [e for e in calls if lo <= to_us(e.ts) <= hi]
        assert got.calls == len(inside), (start_s, end_s)
        want = sum((Decimal(e.data["cost"]["total_usd"]) for e in inside
                    if e.data["cost"]["total_usd"] is not None), Decimal(0))  # fmt: skip
        assert got.total_usd == want
        per_model: dict[str, int] = {}
        for e in inside:
            per_model[e.data["model"]] = per_model.get(e.data["model"], 0) + 1
        assert {b.key: b.calls for b in got.buckets} == per_model
        assert [(m.model, m.calls) for m in got.unpriced_models] == (
            [("unknown-model", per_model["unknown-model"])] if "unknown-model" in per_model else []
        )


def test_a_window_ending_late_in_an_hour_keeps_its_last_call_and_no_empty_bucket(
    store: SqlStore,
) -> None:
    # Its last hour is read as the whole hour less the calls after the end: the call at the
    # very end is inside, and a model with calls only after the end has no bucket.
    usage = {"input_tokens": 100, "output_tokens": 10}
    store.ingest([session("z", at=0), llm("z", 100, model="gpt-4o", usage=usage),
                  llm("z", 10_700, model="gpt-4o", usage=usage),
                  llm("z", 10_790, model="unknown-model", usage=usage)])  # fmt: skip
    base = datetime.fromtimestamp(BASE_NS // 10**9, tz=timezone.utc)
    got = store.cost(bucket="model", days=10_000 / 86_400, now=base + timedelta(seconds=10_700))
    assert [(b.key, b.calls) for b in got.buckets] == [("gpt-4o", 1)]
    assert got.calls == 1 and got.unpriced_models == []


def test_a_call_is_priced_as_its_record_is_checked_not_from_its_stored_text(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The data is in hand as a dict when the record is checked: parsing its text again to
    # price it cost ~8 µs a call for a typical call's 5 KB of messages.
    from agentlog.store import _costs

    def refuse(value: Any) -> Any:
        raise AssertionError("ingest parsed an llm_call's data text again")

    monkeypatch.setattr(_costs, "loads", refuse)
    messages = [{"role": "user", "content": "hello " * 200}]
    store.ingest([session("pp1"), llm("pp1", 1, provider="openai", model="gpt-4o", usage=USAGE,
                                      input={"messages": messages})])  # fmt: skip
    assert cost_of(store, "pp1")[0]["total_usd"] == "0.0035"


def test_a_recorded_cost_key_is_replaced_by_the_price_and_the_callers_record_kept(
    store: SqlStore,
) -> None:
    rec = llm("pp2", 1, provider="openai", model="gpt-4o", usage=USAGE, cost="made up")
    store.ingest([session("pp2"), rec])
    assert cost_of(store, "pp2")[0] == {"input_usd": "0.0025", "output_usd": "0.001",
                                        "total_usd": "0.0035", "source": "genai-prices"}  # fmt: skip
    assert rec["data"]["cost"] == "made up"  # the caller's dict is not written to
