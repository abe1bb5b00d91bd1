"""The SQLite containment function against PostgreSQL's own ``@>`` on generated JSON."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentlog.store._contains import json_contains
from agentlog.store._rows import dumps
from agentlog.store.sqlite import SqliteStore

from .conftest import PG_URL

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5, -0.0, 1e20]),
    st.sampled_from(["a", "A", "b", "1", "true", "é", ""]),
)  # fmt: skip
keys = st.sampled_from(["a", "b", "c", "A"])
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
objects = st.dictionaries(keys, values, max_size=4)


def _shrink(value: Any, draw: Any) -> Any:
    """A value likely to be contained in ``value``: a random part of it."""
    if isinstance(value, dict):
        return {k: _shrink(v, draw) for k, v in value.items() if draw(st.booleans())}
    if isinstance(value, list):
        return [_shrink(v, draw) for v in value if draw(st.booleans())]
    return value


@st.composite
def pairs(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    container = draw(objects)
    contained = _shrink(container, draw) if draw(st.booleans()) else draw(objects)
    return container, contained


@pytest.fixture(scope="module")
def pg() -> Any:
    from .conftest import _pg_reachable

    problem = _pg_reachable()
    if problem is not None:
        import os

        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        yield conn


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs())
def test_python_containment_matches_postgres(pg: Any, pair: tuple[Any, Any]) -> None:
    container, contained = pair
    row = pg.execute(
        "SELECT %s::jsonb @> %s::jsonb", (dumps(container), dumps(contained))
    ).fetchone()
    assert json_contains(container, contained) is row[0]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(objects, min_size=1, max_size=6), objects)
def test_sqlite_filter_matches_postgres(pg: Any, tmp_path_factory: Any, configs: list[Any],
                                        query: dict[str, Any]) -> None:  # fmt: skip
    store = SqliteStore(tmp_path_factory.mktemp("c") / "a.db", processing=False)
    try:
        store.ingest(
            [{"kind": "session", "id": f"s{i}", "configs": c} for i, c in enumerate(configs)]
        )
        got = {s.id for s in store.list_sessions(filter_by_configs=query, limit=200).items}
    finally:
        store.close()
    expected = set()
    for i, c in enumerate(configs):
        hit = pg.execute("SELECT %s::jsonb @> %s::jsonb", (dumps(c), dumps(query))).fetchone()[0]
        if hit or not query:
            expected.add(f"s{i}")
    assert got == expected
