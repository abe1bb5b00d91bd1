"""What an Anthropic Messages call says, as ``llm_call`` data (DESIGN §2).

Token usage: Anthropic reports ``input_tokens`` *excluding* prompt-cache reads and writes. The
event's ``input_tokens`` is the whole prompt (uncached + cache read + cache write), so that
``input_tokens`` and ``total_tokens`` mean the same for every provider; the cache parts stay as
``cache_read_tokens`` and ``cache_write_tokens``.
"""

from __future__ import annotations

from typing import Any

from agentlog.instrumentation import (
    capture_enabled,
    given,
    request_params,
    snapshot,
    tool_call,
    usage_from,
)

__all__ = ["message_data", "request_data", "usage_data"]

_NOT_PARAMS = frozenset(
    {"messages", "system", "model", "stream", "extra_headers", "extra_query", "extra_body",
     "timeout"}
)  # fmt: skip


def request_data(kwargs: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": "anthropic",
        "operation": "messages",
        # "model" becomes the one that answered when the response says so.
        "request_model": kwargs.get("model"),
        "model": kwargs.get("model"),
        "params": request_params(kwargs, recorded_apart=_NOT_PARAMS),
        "stream": stream,
    }
    if capture_enabled():
        messages: list[Any] = []
        system = kwargs.get("system")
        if system and given(system):
            messages.append({"role": "system", "content": snapshot(system)})
        messages.extend(snapshot(kwargs.get("messages")) or ())
        data["messages"] = messages
    return data


def usage_data(reported: Any) -> dict[str, int] | None:
    """``input_tokens`` becomes the whole prompt: the shared normalizer adds the cache reads
    and writes that Anthropic counts apart."""
    return usage_from(reported)


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
    if not capture_enabled():
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
