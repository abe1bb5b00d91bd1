"""agentlog's recorded messages (OpenAI or Anthropic shape) in the GenAI conventions' form.

``gen_ai.input.messages`` / ``gen_ai.output.messages`` are lists of ``{role, parts}`` where a
part is ``{"type": "text", "content"}``, ``{"type": "tool_call", "id", "name", "arguments"}``
or ``{"type": "tool_call_response", "id", "response"}``; ``gen_ai.system_instructions`` is the
list of the system prompt's parts; ``gen_ai.tool.definitions`` lists ``{type, name,
description, parameters}``. Text longer than the payload limit is cut part by part, so the
attribute stays valid JSON.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["input_messages", "output_messages", "tool_definitions"]

_CUT = "...[truncated]"


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=repr).decode()
    return text if not limit or len(text) <= limit else text[:limit] + _CUT


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _call_part(call: Any) -> dict[str, Any] | None:
    if not isinstance(call, dict):
        return None
    fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else call
    return {"type": "tool_call", "id": call.get("id"), "name": fn.get("name"),
            "arguments": _arguments(fn.get("arguments", fn.get("input")))}  # fmt: skip


def _parts(content: Any, limit: int) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": _text(content, limit)}]
    if not isinstance(content, list):
        return [{"type": "text", "content": _text(content, limit)}]
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "content": _text(block, limit)})
        elif not isinstance(block, dict):
            continue
        elif block.get("type") in ("text", "input_text", "output_text"):
            parts.append({"type": "text", "content": _text(block.get("text", ""), limit)})
        elif block.get("type") == "tool_use":  # Anthropic
            parts.append({"type": "tool_call", "id": block.get("id"), "name": block.get("name"),
                          "arguments": block.get("input")})  # fmt: skip
        elif block.get("type") == "tool_result":
            parts.append({"type": "tool_call_response", "id": block.get("tool_use_id"),
                          "response": _text(block.get("content"), limit)})  # fmt: skip
        else:  # images, files, reasoning: named by type, content kept as text
            parts.append({"type": str(block.get("type") or "unknown"),
                          "content": _text(block, limit)})  # fmt: skip
    return parts


def input_messages(messages: Any, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(input messages, system instruction parts) from the recorded ``messages``."""
    if isinstance(messages, str):
        return [{"role": "user", "parts": _parts(messages, limit)}], []
    out: list[dict[str, Any]] = []
    system: list[dict[str, Any]] = []
    for msg in messages if isinstance(messages, list) else ():
        if not isinstance(msg, dict):
            continue
        role = str(msg.get("role") or "user")
        if role in ("system", "developer"):
            system.extend(_parts(msg.get("content"), limit))
            continue
        if role == "tool" or msg.get("tool_call_id"):
            out.append({"role": "tool", "parts": [{
                "type": "tool_call_response", "id": msg.get("tool_call_id"),
                "response": _text(msg.get("content"), limit)}]})  # fmt: skip
            continue
        parts = _parts(msg.get("content"), limit)
        parts += [p for p in map(_call_part, msg.get("tool_calls") or ()) if p]
        out.append({"role": role, "parts": parts})
    return out, system


def output_messages(response: Any, tool_calls: Any, limit: int,
                    finish_reason: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    if response is None and not tool_calls:
        return []
    parts = _parts(response, limit)
    parts += [p for p in map(_call_part, tool_calls or ()) if p]
    msg: dict[str, Any] = {"role": "assistant", "parts": parts}
    if finish_reason:
        msg["finish_reason"] = finish_reason
    return [msg]


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict):
            continue
        fn: dict[str, Any] = tool["function"] if isinstance(tool.get("function"), dict) else tool
        out.append({"type": str(tool.get("type") or "function"), "name": fn.get("name"),
                    "description": fn.get("description"),
                    "parameters": fn.get("parameters", fn.get("input_schema"))})  # fmt: skip
    return out
