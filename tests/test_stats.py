from __future__ import annotations

from collections import Counter

from agentlog._stats import Stats, count_ids


def test_count_ids_counts_as_counter_does_in_first_seen_order() -> None:
    many = [f"s{i % 11}" for i in range(50)]
    for ids in ([], [None] * 5, ["a", None, "b", "a", None, "a"], many):
        counts = count_ids(list(ids))
        assert counts == Counter(ids)
        assert list(counts) == list(dict.fromkeys(ids))


def test_add_counts_each_session_of_a_batch() -> None:
    stats = Stats()
    stats.add("observed", ["a", None, "b", "a"])
    assert stats.totals["observed"] == 4
    assert stats.sessions["a"]["observed"] == 2 and stats.sessions["b"]["observed"] == 1
    assert list(stats.sessions) == ["a", "b"]
