"""JSON containment with PostgreSQL's ``@>`` semantics, for the SQLite backend.

The rules follow PostgreSQL's documentation for jsonb containment: an object contains another
when every key of the other is present with a contained value; an array contains another when
every element of the other is contained in some element of it (order and duplicates ignored);
scalars must be equal and of the same JSON type (numbers compare by value, ``1 == 1.0``). A
scalar is contained in an array only at the top level, which never applies to configs (objects).
"""

from __future__ import annotations

from typing import Any

__all__ = ["json_contains"]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def json_contains(container: Any, contained: Any) -> bool:
    kind = _kind(container)
    if kind != _kind(contained):
        return False
    if kind == "object":
        for key, value in contained.items():
            if key not in container or not json_contains(container[key], value):
                return False
        return True
    if kind == "array":
        for item in contained:
            item_kind = _kind(item)
            if item_kind in ("object", "array"):
                if not any(json_contains(c, item) for c in container if _kind(c) == item_kind):
                    return False
            elif not any(_kind(c) == item_kind and c == item for c in container):
                return False
        return True
    return bool(container == contained)
