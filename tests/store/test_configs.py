from __future__ import annotations

import threading
from typing import Any

import pytest

from agentlog import InvalidInputError, NotFoundError
from agentlog.store._store import SqlStore

from .conftest import MakeStore
from .helpers import session


def test_put_replaces_all_keys_and_keeps_null_values(store: SqlStore) -> None:
    store.create_session(id="s1", configs={"a": 1, "b": 2})
    assert store.update_configs("s1", {"b": None, "c": [1]}) == {"b": None, "c": [1]}
    assert store.get_configs("s1") == {"b": None, "c": [1]}


def test_put_none_clears_configs(store: SqlStore) -> None:
    store.create_session(id="s1", configs={"a": 1})
    assert store.update_configs("s1", None) is None
    assert store.get_configs("s1") is None


def test_patch_merges_top_level_and_null_deletes(store: SqlStore) -> None:
    store.create_session(id="s1", configs={"a": {"x": 1}, "b": 2, "c": 3})
    got = store.patch_configs("s1", {"a": {"y": 2}, "b": None, "d": "new"})
    assert got == {"a": {"y": 2}, "c": 3, "d": "new"}
    assert store.get_configs("s1") == got


def test_patch_on_null_configs_starts_from_empty(store: SqlStore) -> None:
    store.create_session(id="s1")
    assert store.patch_configs("s1", {"a": 1}) == {"a": 1}


def test_configs_must_be_an_object(store: SqlStore) -> None:
    store.create_session(id="s1")
    with pytest.raises(InvalidInputError, match="patch"):
        store.patch_configs("s1", [1])  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.patch_configs("other", {"a": 1})


def test_concurrent_patches_lose_no_update(store: SqlStore, make_store: MakeStore) -> None:
    store.create_session(id="s1", configs={})
    other = make_store()  # a second store: separate connections, like a second process
    workers, per = 4, 15
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def patch(n: int) -> None:
        target = store if n % 2 else other
        try:
            barrier.wait(timeout=10)
            for i in range(per):
                target.patch_configs("s1", {f"k{n}_{i}": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(store.get_configs("s1") or {}) == workers * per


CASES: list[tuple[dict[str, Any], bool]] = [
    ({"agent": "bot1"}, True),
    ({"agent": "Bot1"}, False),  # case-sensitive
    ({"count": 1}, True),
    ({"count": 1.0}, True),  # numbers compare by value
    ({"count": "1"}, False),  # type-sensitive
    ({"flag": True}, True),
    ({"flag": 1}, False),
    ({"nested": {"env": "prod"}}, True),  # partial, nested
    ({"nested": {"env": "prod", "zone": "x"}}, False),
    ({"tags": ["b"]}, True),  # arrays: any order, subset
    ({"tags": ["b", "a", "a"]}, True),
    ({"tags": "a"}, False),  # a scalar is not an array below the top level
    ({"tags": ["c"]}, False),
    ({"agent": "bot1", "missing": None}, False),
    ({"none": None}, True),
]
CONFIGS = {"agent": "bot1", "count": 1, "flag": True, "nested": {"env": "prod", "r": 2},
           "tags": ["a", "b"], "none": None}  # fmt: skip


@pytest.mark.parametrize(("query", "match"), CASES)
def test_filter_by_configs_is_containment(
    store: SqlStore, query: dict[str, Any], match: bool
) -> None:
    store.ingest(
        [session("hit", configs=CONFIGS), session("nulls"), session("other", configs={"x": 1})]
    )
    got = [s.id for s in store.list_sessions(filter_by_configs=query).items]
    assert got == (["hit"] if match else [])


def test_empty_filter_means_no_filter_and_combines_with_user(store: SqlStore) -> None:
    store.ingest([session("a", configs={"k": 1}, user="u"), session("b", configs={"k": 1}, user="v"),
                  session("c", user="u")])  # fmt: skip
    assert len(store.list_sessions(filter_by_configs={}).items) == 3
    got = store.list_sessions(filter_by_configs={"k": 1}, user="u").items
    assert [s.id for s in got] == ["a"]
