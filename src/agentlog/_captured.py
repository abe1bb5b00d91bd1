"""Captured records as typed objects for assertions: ``event.name``, ``call.input``,
``llm.usage``.

Each is the record's dict itself (``event["data"]`` keeps working, ``==`` compares with plain
dicts, ``json.dumps`` takes it) with typed read-only attributes over its fields.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CapturedEvent",
    "CapturedMessage",
    "CapturedScore",
    "CapturedSession",
    "LLMCall",
    "SessionList",
    "ToolCall",
    "wrap",
]


class _Record(dict[str, Any]):
    __slots__ = ()

    @property
    def id(self) -> str:
        return str(self["id"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class CapturedSession(_Record):
    """A session, its start and end records merged."""

    __slots__ = ()

    @property
    def name(self) -> str | None:
        return self.get("name")

    @property
    def user(self) -> str | None:
        return self.get("user")

    @property
    def configs(self) -> dict[str, Any] | None:
        return self.get("configs")

    @property
    def status(self) -> str | None:
        return self.get("status")

    @property
    def parent_session_id(self) -> str | None:
        return self.get("parent_session_id")

    @property
    def started_at(self) -> str | None:
        return self.get("started_at")

    @property
    def ended_at(self) -> str | None:
        return self.get("ended_at")


class CapturedEvent(_Record):
    """Any event: a span (tool call, LLM call, step, ...) or a point event."""

    __slots__ = ()

    @property
    def type(self) -> str:
        return str(self["type"])

    @property
    def name(self) -> str | None:
        return self.get("name")

    @property
    def session_id(self) -> str | None:
        return self.get("session_id")

    @property
    def parent_id(self) -> str | None:
        return self.get("parent_id")

    @property
    def status(self) -> str:
        return str(self.get("status", "ok"))

    @property
    def failed(self) -> bool:
        return self.get("status") == "error" or self.get("type") == "error"

    @property
    def partial(self) -> bool:
        return bool(self.get("partial"))

    @property
    def data(self) -> dict[str, Any]:
        data = self.get("data")
        return data if isinstance(data, dict) else {}

    @property
    def error(self) -> dict[str, Any] | None:
        return self.get("error")

    @property
    def duration_ms(self) -> float | None:
        return self.get("duration_ms")


class ToolCall(CapturedEvent):
    """A ``tool_call`` event: what the tool was given and what it returned."""

    __slots__ = ()

    @property
    def input(self) -> Any:
        return self.data.get("input")

    @property
    def output(self) -> Any:
        return self.data.get("output")


class LLMCall(CapturedEvent):
    """An ``llm_call`` event: model, messages, response, requested tool calls and usage."""

    __slots__ = ()

    @property
    def model(self) -> str | None:
        return self.data.get("model") or self.data.get("request_model")

    @property
    def request_model(self) -> str | None:
        return self.data.get("request_model")

    @property
    def provider(self) -> str | None:
        return self.data.get("provider")

    @property
    def messages(self) -> Any:
        return self.data.get("messages")

    @property
    def response(self) -> Any:
        return self.data.get("response")

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        calls = self.data.get("tool_calls")
        return calls if isinstance(calls, list) else []

    @property
    def usage(self) -> dict[str, Any]:
        usage = self.data.get("usage")
        return usage if isinstance(usage, dict) else {}

    @property
    def stream(self) -> bool:
        return bool(self.data.get("stream"))


class CapturedMessage(_Record):
    """A stored message: its role, format and the blob as given."""

    __slots__ = ()

    @property
    def role(self) -> str:
        return str(self["role"])

    @property
    def session_id(self) -> str:
        return str(self["session_id"])

    @property
    def blob(self) -> Any:
        return self.get("blob")


class CapturedScore(_Record):
    """A score given to a session (or to one of its events)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return str(self["name"])

    @property
    def value(self) -> Any:
        return self.get("value")

    @property
    def session_id(self) -> str | None:
        return self.get("session_id")

    @property
    def event_id(self) -> str | None:
        return self.get("event_id")

    @property
    def comment(self) -> str | None:
        return self.get("comment")


class SessionList(list[CapturedSession]):
    """``cap.sessions``; calling it (``cap.sessions()``, the earlier spelling) gives the same
    list, so tests written either way read alike."""

    def __call__(self) -> SessionList:
        return self


_EVENTS: dict[str, type[CapturedEvent]] = {"tool_call": ToolCall, "llm_call": LLMCall}
_KINDS: dict[str, type[_Record]] = {"message": CapturedMessage, "session": CapturedSession,
                                    "score": CapturedScore}  # fmt: skip


def wrap(record: dict[str, Any]) -> _Record:
    """The typed object for one record: an event (a ``ToolCall`` or ``LLMCall`` for those
    types), a message, a session record or a score; any other kind as a plain record."""
    kind = record.get("kind")
    if kind == "event":
        return _EVENTS.get(str(record.get("type")), CapturedEvent)(record)
    return _KINDS.get(str(kind), _Record)(record)
