"""What an OpenAI call says, as ``llm_call`` data (DESIGN §2): request, response, usage.

Everything here reads SDK objects by attribute with ``getattr`` defaults, so a field renamed or
missing in some SDK version costs that field only, never the event.
"""

from __future__ import annotations

from typing import Any

from agentlog._state import STATE

__all__ = [
    "chat_response_data",
    "embeddings_response_data",
    "request_data",
    "response_failure",
    "responses_response_data",
    "snapshot",
    "usage_data",
]

# Request arguments that are transport plumbing or recorded under their own key, not "params".
_NOT_PARAMS = frozenset(
    {"messages", "input", "instructions", "model", "stream", "extra_headers", "extra_query",
     "extra_body", "timeout"}
)  # fmt: skip


def _given(value: Any) -> bool:
    # openai's sentinels (NotGiven, Omit) are falsy and have no useful JSON form.
    return type(value).__name__ not in ("NotGiven", "Omit")


def snapshot(value: Any) -> Any:
    """What the request holds now, cheaply: converted to JSON only when the event is written.

    Lists are copied (an agent loop appends to its ``messages`` right after the call); a
    one-shot iterable (a generator) is not read at all, as reading it would starve the SDK.
    """
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    if hasattr(value, "__next__"):
        return None
    return value


def _capture() -> bool:
    return STATE.capture


def request_data(operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request half of the event: provider, operation, model, messages, params."""
    params = {k: snapshot(v) for k, v in kwargs.items() if k not in _NOT_PARAMS and _given(v)}
    data: dict[str, Any] = {
        "provider": "openai",
        "operation": operation,
        "model": kwargs.get("model"),
        "params": params,
        "stream": bool(kwargs.get("stream")) and _given(kwargs.get("stream")),
    }
    if not _capture():
        return data
    if operation == "chat":
        data["messages"] = snapshot(kwargs.get("messages"))
    elif operation == "responses":
        messages: list[Any] = []
        instructions = kwargs.get("instructions")
        if instructions and _given(instructions):
            messages.append({"role": "system", "content": instructions})
        given = kwargs.get("input")
        if isinstance(given, str):
            messages.append({"role": "user", "content": given})
        elif given is not None and _given(given):
            messages.extend(snapshot(given) or ())
        data["messages"] = messages
    else:
        data["input"] = snapshot(kwargs.get("input"))
    return data


def _fields(obj: Any) -> dict[str, Any]:
    # A pydantic model keeps its fields in __dict__ (and fields an older SDK does not know yet
    # in __pydantic_extra__); reading them there avoids the AttributeError pydantic raises,
    # slowly, for every name a model of the other API shape lacks.
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj  # a field the SDK's model does not declare arrives as a plain dict
    fields = getattr(obj, "__dict__", None)
    fields = fields if isinstance(fields, dict) else {}
    extra = getattr(obj, "__pydantic_extra__", None)
    return {**extra, **fields} if extra else fields


def _int(fields: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, int):
            return value
    return None


def usage_data(usage: Any) -> dict[str, int] | None:
    """Chat (prompt/completion) and Responses (input/output) usage in one shape."""
    if usage is None:
        return None
    f = _fields(usage)
    in_details = _fields(f.get("prompt_tokens_details") or f.get("input_tokens_details"))
    out_details = _fields(f.get("completion_tokens_details") or f.get("output_tokens_details"))
    out = {
        "input_tokens": _int(f, "prompt_tokens", "input_tokens"),
        "output_tokens": _int(f, "completion_tokens", "output_tokens"),
        "total_tokens": _int(f, "total_tokens"),
        "cached_tokens": _int(in_details, "cached_tokens"),
        "reasoning_tokens": _int(out_details, "reasoning_tokens"),
    }
    if out["total_tokens"] is None and out["input_tokens"] is not None:
        out["total_tokens"] = out["input_tokens"] + (out["output_tokens"] or 0)
    return {k: v for k, v in out.items() if v is not None}


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "name": name, "arguments": arguments}


def chat_response_data(completion: Any) -> dict[str, Any]:
    """A ``ChatCompletion``: the first choice's text, tool calls and finish reason."""
    data: dict[str, Any] = {
        "response_id": getattr(completion, "id", None),
        "usage": usage_data(getattr(completion, "usage", None)),
    }
    model = getattr(completion, "model", None)
    if model:
        data["model"] = model
    choices = getattr(completion, "choices", None) or []
    if not choices:
        return data
    first = choices[0]
    data["finish_reason"] = getattr(first, "finish_reason", None)
    message = getattr(first, "message", None)
    if _capture() and message is not None:
        content = getattr(message, "content", None)
        refusal = getattr(message, "refusal", None)
        data["response"] = content if content is not None else refusal
        calls = []
        for call in getattr(message, "tool_calls", None) or []:
            fn = getattr(call, "function", None)
            calls.append(
                _tool_call(
                    getattr(call, "id", None),
                    getattr(fn, "name", None),
                    getattr(fn, "arguments", None),
                )
            )
        legacy = getattr(message, "function_call", None)
        if legacy is not None:
            calls.append(_tool_call(None, legacy.name, legacy.arguments))
        data["tool_calls"] = calls
    return data


def responses_response_data(response: Any) -> dict[str, Any]:
    """A Responses API ``Response``: output text, function calls, status, usage."""
    data: dict[str, Any] = {
        "response_id": getattr(response, "id", None),
        "usage": usage_data(getattr(response, "usage", None)),
        "finish_reason": getattr(response, "status", None),
    }
    model = getattr(response, "model", None)
    if model:
        data["model"] = model
    if not _capture():
        return data
    try:
        data["response"] = response.output_text
    except Exception:
        data["response"] = None
    data["tool_calls"] = [
        _tool_call(getattr(item, "call_id", None), getattr(item, "name", None),
                   getattr(item, "arguments", None))
        for item in getattr(response, "output", None) or []
        if getattr(item, "type", None) == "function_call"
    ]  # fmt: skip
    return data


def response_failure(response: Any) -> str | None:
    """Why a Responses API response failed (it can arrive as HTTP 200 with status "failed")."""
    if getattr(response, "status", None) != "failed":
        return None
    err = getattr(response, "error", None)
    if err is None:
        return "response failed"
    return f"{getattr(err, 'code', None) or 'error'}: {getattr(err, 'message', '')}"


def embeddings_response_data(result: Any) -> dict[str, Any]:
    """Embeddings: the vectors are not kept (they are large and not what a timeline needs)."""
    vectors = getattr(result, "data", None) or []
    first = getattr(vectors[0], "embedding", None) if vectors else None
    data: dict[str, Any] = {
        "usage": usage_data(getattr(result, "usage", None)),
        "response": {
            "count": len(vectors),
            "dimensions": len(first) if isinstance(first, (list, str)) else None,
        },
    }
    model = getattr(result, "model", None)
    if model:
        data["model"] = model
    return data
