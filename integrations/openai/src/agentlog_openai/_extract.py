"""What an OpenAI call says, as ``llm_call`` data (DESIGN §2): request, response, usage.

Everything here reads SDK objects by attribute with ``getattr`` defaults, so a field renamed or
missing in some SDK version costs that field only, never the event.
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

__all__ = [
    "chat_response_data",
    "embeddings_response_data",
    "request_data",
    "response_failure",
    "responses_response_data",
    "usage_data",
]

# Request arguments that are transport plumbing or recorded under their own key, not "params".
_NOT_PARAMS = frozenset(
    {"messages", "input", "instructions", "model", "stream", "extra_headers", "extra_query",
     "extra_body", "timeout"}
)  # fmt: skip


def request_data(operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request half of the event: provider, operation, model, messages, params."""
    data: dict[str, Any] = {
        "provider": "openai",
        "operation": operation,
        # "model" becomes the one that answered when the response says so.
        "request_model": kwargs.get("model"),
        "model": kwargs.get("model"),
        "params": request_params(kwargs, recorded_apart=_NOT_PARAMS),
        "stream": bool(kwargs.get("stream")) and given(kwargs.get("stream")),
    }
    if not capture_enabled():
        return data
    if operation == "chat":
        data["messages"] = snapshot(kwargs.get("messages"))
    elif operation == "responses":
        messages: list[Any] = []
        instructions = kwargs.get("instructions")
        if instructions and given(instructions):
            messages.append({"role": "system", "content": instructions})
        supplied = kwargs.get("input")
        if isinstance(supplied, str):
            messages.append({"role": "user", "content": supplied})
        elif supplied is not None and given(supplied):
            messages.extend(snapshot(supplied) or ())
        data["messages"] = messages
    else:
        data["input"] = snapshot(kwargs.get("input"))
    return data


def usage_data(reported: Any) -> dict[str, int] | None:
    """Chat (prompt/completion) and Responses (input/output) usage in the shape of DESIGN §2:
    OpenAI's prompt count already includes the cached part, its completion count the reasoning
    part, as the shared shape wants."""
    return usage_from(reported)


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
    if capture_enabled() and message is not None:
        content = getattr(message, "content", None)
        refusal = getattr(message, "refusal", None)
        data["response"] = content if content is not None else refusal
        calls = []
        for call in getattr(message, "tool_calls", None) or []:
            fn = getattr(call, "function", None)
            calls.append(
                tool_call(
                    getattr(call, "id", None),
                    getattr(fn, "name", None),
                    getattr(fn, "arguments", None),
                )
            )
        legacy = getattr(message, "function_call", None)
        if legacy is not None:
            calls.append(tool_call(None, legacy.name, legacy.arguments))
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
    if not capture_enabled():
        return data
    try:
        data["response"] = response.output_text
    except Exception:
        data["response"] = None
    data["tool_calls"] = [
        tool_call(getattr(item, "call_id", None), getattr(item, "name", None),
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
