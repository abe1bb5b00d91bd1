"""Everything a Client reads of a store, for comparing two stores."""

from __future__ import annotations

from typing import Any


def read_all(client: Any) -> list[Any]:
    out = []
    page = client.sessions.list(limit=200, time_desc=False)
    for s in page.items:
        events = client.sessions.get_events(s.id, limit=200).items
        msgs = client.sessions.get_messages(s.id, limit=200).items
        scores = client.sessions.get_scores(s.id)
        out.append((s.model_dump(exclude={"rollup", "last_activity_at"}),
                    [e.model_dump() for e in events], [m.model_dump() for m in msgs],
                    [x.model_dump() for x in scores]))  # fmt: skip
    return out


def diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two nested values differ (for assertion messages)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in diff(a.get(k), b.get(k), f"{path}.{k}")]  # fmt: skip
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
