"""What an Anthropic Messages call says, as ``llm_call`` data (DESIGN §2).

Token usage: Anthropic reports ``input_tokens`` *excluding* prompt-cache reads and writes. The
event's ``input_tokens`` is the whole prompt (uncached + cache read + cache write), so that
``total_tokens`` means the same for every provider; the cache parts stay as
``cache_read_tokens``/``cache_creation_tokens`` (and ``cached_tokens``, OpenAI's name for reads).
"""

from __future__ import annotations

import json
from typing import Any

from agentlog._serialize import to_jsonable
from agentlog._state import STATE

__all__ = ["message_data", "request_data", "snapshot", "tool_call", "usage_data"]

_NOT_PARAMS = frozenset(
    {"messages", "system", "model", "stream", "extra_headers", "extra_query", "extra_body",
     "timeout"}
)  # fmt: skip


def _given(value: Any) -> bool:
    # anthropic's sentinels (NotGiven, Omit) are falsy and have no useful JSON form.
    return type(value).__name__ not in ("NotGiven", "Omit")


def snapshot(value: Any) -> Any:
    """What the request holds now, cheaply: converted to JSON only when the event is written.

    Lists are copied (an agent loop appends to its ``messages`` right after the call); a
    one-shot iterable (a generator) is not read at all, as reading it would starve the SDK.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "__next__"):
        return None
    return value


def request_data(kwargs: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    params = {k: snapshot(v) for k, v in kwargs.items() if k not in _NOT_PARAMS and _given(v)}
    data: dict[str, Any] = {
        "provider": "anthropic",
        "operation": "messages",
        "model": kwargs.get("model"),
        "params": params,
        "stream": stream,
    }
    if STATE.capture:
        messages: list[Any] = []
        system = kwargs.get("system")
        if system and _given(system):
            messages.append({"role": "system", "content": snapshot(system)})
        messages.extend(snapshot(kwargs.get("messages")) or ())
        data["messages"] = messages
    return data


def _n(obj: Any, name: str) -> int | None:
    value = getattr(obj, name, None) if obj is not None else None
    return value if isinstance(value, int) else None


def usage_data(usage: Any) -> dict[str, int] | None:
    if usage is None:
        return None
    fresh = _n(usage, "input_tokens")
    read = _n(usage, "cache_read_input_tokens")
    written = _n(usage, "cache_creation_input_tokens")
    output = _n(usage, "output_tokens")
    out: dict[str, int | None] = {"output_tokens": output}
    if fresh is not None or read is not None or written is not None:
        out["input_tokens"] = (fresh or 0) + (read or 0) + (written or 0)
    if read is not None:
        out["cache_read_tokens"] = out["cached_tokens"] = read
    if written is not None:
        out["cache_creation_tokens"] = written
    if out.get("input_tokens") is not None or output is not None:
        out["total_tokens"] = (out.get("input_tokens") or 0) + (output or 0)
    return {k: v for k, v in out.items() if v is not None}


def tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """Arguments as JSON text, as for OpenAI: what the model wrote, even if it is not valid."""
    if not isinstance(arguments, str):
        try:
            arguments = json.dumps(to_jsonable(arguments))
        except Exception:
            arguments = None
    return {"id": call_id, "name": name, "arguments": arguments}


def message_data(message: Any) -> dict[str, Any]:
    """A ``Message``: text blocks joined, ``tool_use`` blocks as tool calls, usage, stop reason."""
    data: dict[str, Any] = {
        "response_id": getattr(message, "id", None),
        "usage": usage_data(getattr(message, "usage", None)),
        "finish_reason": getattr(message, "stop_reason", None),
    }
    model = getattr(message, "model", None)
    if model:
        data["model"] = model
    if not STATE.capture:
        return data
    texts, calls = [], []
    for block in getattr(message, "content", None) or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "tool_use":
            calls.append(tool_call(block.id, block.name, block.input))
    data["response"] = "".join(texts) if texts else None
    data["tool_calls"] = calls
    return data
