"""Events a user adds by hand with ``agentlog.add_event(...)``: small validated value objects.

Validated by hand rather than as pydantic models: importing pydantic takes ~100 ms, and the first
``TextEvent`` of a process must cost what every later one costs. A bad argument raises
``pydantic.ValidationError`` naming the field, as a model would (pydantic is imported then, on
the error path only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = ["DiskEvent", "Event", "TextEvent"]

_MISSING: Any = object()


class _Invalid:
    """Field errors gathered while checking one constructor call, raised together."""

    def __init__(self, title: str, given: dict[str, Any]) -> None:
        self.title = title
        self.original = dict(given)
        self.given = given  # what is left to check: anything still here at the end is extra
        self.errors: list[dict[str, Any]] = []

    def add(self, kind: str, field: str, value: Any, **ctx: Any) -> None:
        error: dict[str, Any] = {"type": kind, "loc": (field,), "input": value}
        if ctx:
            error["ctx"] = ctx
        self.errors.append(error)

    def text(self, field: str, *, required: bool, min_length: int = 0) -> str | None:
        value = self.given.pop(field, _MISSING)
        if value is _MISSING or (value is None and not required):
            if required:
                self.add("missing", field, self.original)
            return None
        if not isinstance(value, str):
            self.add("string_type", field, value)
            return None
        if len(value) < min_length:
            self.add("string_too_short", field, value, min_length=min_length)
        return value

    def check(self) -> None:
        for key, value in self.given.items():
            self.add("extra_forbidden", key, value)
        if self.errors:
            from pydantic import ValidationError

            raise ValidationError.from_exception_data(self.title, self.errors)  # type: ignore[arg-type]


class _UserEvent:
    """What the three kinds share: keyword construction, equality, repr and ``model_dump``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    type: str
    name: str | None

    def model_dump(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self._fields}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a model

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"


def _fixed_type(inv: _Invalid, expected: str) -> str:
    value = inv.given.pop("type", expected)
    if value != expected:
        inv.add("literal_error", "type", value, expected=repr(expected))
    return expected


class Event(_UserEvent):
    """Any event: a non-empty ``type`` (built-in or your own) and a JSON-object ``data``."""

    __slots__ = ("data", "name", "type")
    _fields = ("type", "name", "data")

    def __init__(self, **fields: Any) -> None:
        inv = _Invalid("Event", fields)
        etype = inv.text("type", required=True, min_length=1)
        name = inv.text("name", required=False)
        data = inv.given.pop("data", _MISSING)
        if data is _MISSING:
            data = {}
        elif not isinstance(data, Mapping):
            inv.add("dict_type", "data", data)
        elif not all(isinstance(k, str) for k in data):
            inv.add("string_type", "data", next(k for k in data if not isinstance(k, str)))
        inv.check()
        self.type: str = etype  # type: ignore[assignment]  # checked above
        self.name = name
        self.data: dict[str, Any] = dict(data)

    def to_data(self) -> dict[str, Any]:
        return self.data


class TextEvent(_UserEvent):
    """A free-form note on the timeline: ``text`` is required."""

    __slots__ = ("name", "text", "type")
    _fields = ("type", "text", "name")

    def __init__(self, **fields: Any) -> None:
        inv = _Invalid("TextEvent", fields)
        self.type = _fixed_type(inv, "text")
        text = inv.text("text", required=True)
        self.name = inv.text("name", required=False)
        inv.check()
        self.text: str = text  # type: ignore[assignment]  # checked above

    def to_data(self) -> dict[str, Any]:
        return {"text": self.text}


class DiskEvent(_UserEvent):
    """A file the agent read or wrote: ``disk_id`` and ``path`` required, ``note`` optional."""

    __slots__ = ("disk_id", "name", "note", "path", "type")
    _fields = ("type", "disk_id", "path", "note", "name")

    def __init__(self, **fields: Any) -> None:
        inv = _Invalid("DiskEvent", fields)
        self.type = _fixed_type(inv, "disk")
        disk_id = inv.text("disk_id", required=True)
        path = inv.text("path", required=True)
        self.note = inv.text("note", required=False)
        self.name = inv.text("name", required=False)
        inv.check()
        self.disk_id: str = disk_id  # type: ignore[assignment]  # checked above
        self.path: str = path  # type: ignore[assignment]

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"disk_id": self.disk_id, "path": self.path}
        if self.note is not None:
            data["note"] = self.note
        return data
