"""LangChain objects (messages, LLM results, documents) as the JSON that agentlog records.

Every function here is called from a guarded callback, and still keeps to plain attribute
reads with defaults: a message class from a newer langchain-core must not lose the event.
"""

from __future__ import annotations

from typing import Any

from agentlog.instrumentation import to_jsonable, tool_call, usage_from

__all__ = [
    "documents_data",
    "error_kind",
    "generation_data",
    "message_data",
    "messages_data",
    "model_and_provider",
    "tool_calls_data",
    "usage_from_metadata",
]

_ROLES = {
    "human": "user", "ai": "assistant", "system": "system", "tool": "tool",
    "HumanMessageChunk": "user", "AIMessageChunk": "assistant",
    "SystemMessageChunk": "system", "ToolMessageChunk": "tool",
}  # fmt: skip
# Not failures: the run was stopped on purpose (consumer broke out of a stream, task
# cancelled, a LangGraph interrupt or hand-off unwinding the graph).
_STOPS = frozenset(
    {"GeneratorExit", "CancelledError", "GraphBubbleUp", "GraphInterrupt", "ParentCommand"}
)


def error_kind(error: BaseException) -> str:
    """``"stopped"`` for a deliberate stop (recorded as partial), else ``"error"``."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return "stopped" if names & _STOPS else "error"


def tool_calls_data(message: Any) -> list[dict[str, Any]] | None:
    """The tool calls an AI message asks for, as ``[{id, name, arguments}]`` (DESIGN §2).

    LangChain has parsed the valid ones (``args`` is an object); those whose arguments did not
    parse are in ``invalid_tool_calls`` with ``args`` the raw text, and are kept as such.
    """
    out = []
    for key in ("tool_calls", "invalid_tool_calls"):
        for call in getattr(message, key, None) or ():
            get = call.get if isinstance(call, dict) else lambda k, c=call: getattr(c, k, None)
            out.append(tool_call(get("id"), get("name"), get("args")))
    return out or None


def message_data(message: Any) -> dict[str, Any]:
    mtype = getattr(message, "type", None)
    if mtype in ("chat", "ChatMessageChunk"):
        role = getattr(message, "role", None)
    else:
        role = _ROLES.get(str(mtype), mtype)
    out: dict[str, Any] = {"role": role, "content": to_jsonable(getattr(message, "content", None))}
    name = getattr(message, "name", None)
    if name:
        out["name"] = name
    calls = tool_calls_data(message)
    if calls:
        out["tool_calls"] = calls
    call_id = getattr(message, "tool_call_id", None)
    if call_id:
        out["tool_call_id"] = call_id
    return out


def messages_data(messages: Any) -> list[dict[str, Any]]:
    return [message_data(m) for m in messages or ()]


def usage_from_metadata(meta: Any) -> dict[str, int] | None:
    """LangChain's ``UsageMetadata`` in the shared shape. Its standard counts already mean what
    DESIGN §2's do: the input includes the cached part, the output the reasoning part."""
    return usage_from(meta) if isinstance(meta, dict) and meta else None


def _usage(message: Any, llm_output: Any) -> dict[str, Any] | None:
    meta = getattr(message, "usage_metadata", None)
    if isinstance(meta, dict) and meta:
        return usage_from_metadata(meta)
    # Plain LLMs (and older chat integrations) report OpenAI-style counts in llm_output.
    raw = llm_output.get("token_usage") or llm_output.get("usage") if llm_output else None
    return usage_from(raw) if isinstance(raw, dict) and raw else None


def _answering_model(message: Any, llm_output: dict[str, Any]) -> str | None:
    """The model that answered, as the provider reported it (``gpt-4o-mini-2024-07-18``)."""
    meta = getattr(message, "response_metadata", None) if message is not None else None
    for source in (meta if isinstance(meta, dict) else {}, llm_output):
        for key in ("model_name", "model"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def generation_data(result: Any) -> dict[str, Any]:
    """``response``, ``tool_calls``, ``usage`` and the answering ``model`` from an ``LLMResult``
    (first generation); ``model`` only when the provider reported it."""
    generations = getattr(result, "generations", None) or []
    first = generations[0][0] if generations and generations[0] else None
    llm_output = getattr(result, "llm_output", None)
    llm_output = llm_output if isinstance(llm_output, dict) else {}
    message = getattr(first, "message", None) if first is not None else None
    data: dict[str, Any]
    if first is None:
        data = {"usage": _usage(None, llm_output)}
    elif message is None:  # a text LLM
        data = {"response": getattr(first, "text", None), "usage": _usage(None, llm_output)}
    else:
        data = {
            "response": to_jsonable(getattr(message, "content", None)),
            "tool_calls": tool_calls_data(message),
            "usage": _usage(message, llm_output),
            "finish_reason": (getattr(message, "response_metadata", None) or {}).get(
                "finish_reason"
            ),
        }
    model = _answering_model(message, llm_output)
    if model is not None:
        data["model"] = model
    return data


def model_and_provider(
    metadata: dict[str, Any] | None, params: dict[str, Any], serialized: Any
) -> tuple[str | None, str | None]:
    meta = metadata or {}
    model = meta.get("ls_model_name") or params.get("model") or params.get("model_name")
    provider = meta.get("ls_provider") or params.get("_type")
    if provider is None and isinstance(serialized, dict):
        ids = serialized.get("id") or []
        provider = ids[-1] if ids else None
    return (str(model) if model is not None else None, str(provider) if provider else None)


def documents_data(documents: Any) -> list[dict[str, Any]]:
    out = []
    for doc in documents or ():
        entry: dict[str, Any] = {
            "page_content": getattr(doc, "page_content", None),
            "metadata": to_jsonable(getattr(doc, "metadata", None)),
        }
        doc_id = getattr(doc, "id", None)
        if doc_id is not None:
            entry["id"] = doc_id
        out.append(entry)
    return out
