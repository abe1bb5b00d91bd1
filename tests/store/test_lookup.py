"""Lookups beside the Store contract, on both backends: ids by prefix, ids already held,
counts by outcome, the projects of a store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agentlog import InvalidInputError
from agentlog.store._lookup import (
    existing_ids,
    ids_with_prefix,
    projects,
    resolve_id,
    status_counts,
)
from agentlog.store._store import SqlStore

from .helpers import BASE_NS, event, message, session

NOW = datetime.fromtimestamp(BASE_NS / 1e9 + 3600, tz=timezone.utc)
# Two sessions whose ids share their first 13 characters, one that shares only 8.
S1 = "0190aaaa-bbbb-7000-8000-000000000001"
S2 = "0190aaaa-bbbb-7000-8000-000000000002"
S3 = "0190aaaa-cccc-7000-8000-000000000003"


def _fill(store: SqlStore) -> list[str]:
    e = [event(S1, 1, "tool_call", name="search", status="error"), event(S1, 2, "error"),
         event(S2, 3, "llm_call", status="error"), event(S2, 4, "tool_call", name="search"),
         event(S3, 5, "step")]  # fmt: skip
    res = store.ingest([session(S1), session(S2), session(S3), *e, message(S1, 6)])
    assert not res.rejected
    store.ingest([session("other-project-session")], project="other")
    return [r["id"] for r in e]


def test_prefixes_resolve_when_unique_and_list_matches_when_not(store: SqlStore) -> None:
    events = _fill(store)
    assert ids_with_prefix(store, "0190aaaa", what="session", project="default") == [S1, S2, S3]
    assert resolve_id(store, "0190aaaa-cccc", what="session", project="default") == S3
    assert resolve_id(store, S3[:-1], what="session", project="default") == S3
    with pytest.raises(InvalidInputError, match="ambiguous") as err:
        resolve_id(store, "0190aaaa-bbbb", what="session", project="default")
    assert S1 in str(err.value) and S2 in str(err.value) and S3 not in str(err.value)
    # Too short, unknown, or of another project: unchanged, for the operation to report.
    assert resolve_id(store, "0190aaa", what="session", project="default") == "0190aaa"
    assert resolve_id(store, "ffffffffff", what="session", project="default") == "ffffffffff"
    assert resolve_id(store, "0190aaaa-cccc", what="session", project="other") == "0190aaaa-cccc"
    # Events and messages share one id space.
    assert resolve_id(store, events[4][:30], what="item", project="default") == events[4]


def test_an_exact_id_wins_over_longer_ids_it_prefixes(store: SqlStore) -> None:
    store.ingest([session("support-1"), session("support-12"), session("support-13")])
    assert resolve_id(store, "support-1", what="session", project="default") == "support-1"
    with pytest.raises(InvalidInputError, match="ambiguous"):
        resolve_id(store, "support-", what="session", project="default")


def test_existing_ids_and_projects(store: SqlStore) -> None:
    events = _fill(store)
    held = existing_ids(store, [S1, events[0], "nope", "other-project-session"], project="default")
    assert held == {S1, events[0]}
    assert projects(store) == ["default", "other"]


def test_status_counts_count_failures_as_the_rollups_do(store: SqlStore) -> None:
    _fill(store)
    bad = status_counts(store, status="error", days=1, bucket="session", now=NOW)
    assert {(c.bucket, c.count) for c in bad} == {(S1, 2), (S2, 1)}
    assert [c.count for c in status_counts(store, status="error", days=1, bucket="day",
                                           now=NOW)] == [3]  # fmt: skip
    tools = status_counts(store, status="error", type="tool_call", days=1, bucket="day", now=NOW)
    assert [c.count for c in tools] == [1]
    good = status_counts(store, status="ok", name="search", days=1, bucket="hour", now=NOW)
    assert [c.count for c in good] == [1]
    with pytest.raises(InvalidInputError, match="status"):
        status_counts(store, status="meh", now=NOW)
