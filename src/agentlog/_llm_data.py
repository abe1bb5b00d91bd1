"""One shape for ``llm_call`` data, whichever integration records it (DESIGN §2).

Every integration (OpenAI, Anthropic, LangChain, a third party's) builds its tool calls and
token usage through these two functions, so a reader, the cost pricer and the OpenTelemetry
exporter see the same keys from every provider:

- ``tool_calls``: ``[{id, name, arguments}]``, ``arguments`` a JSON object when what the model
  wrote parses as one, else the raw text as written (a truncated stream, invalid JSON);
- ``usage``: ``input_tokens`` (the whole prompt, cached parts included), ``output_tokens``
  (reasoning included), ``total_tokens``, and ``cache_read_tokens``, ``cache_write_tokens``,
  ``reasoning_tokens`` where the provider reports them. Keys the provider did not report are
  left out rather than guessed as 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._serialize import to_jsonable

__all__ = ["USAGE_KEYS", "tool_call", "tool_calls_from", "usage", "usage_from"]

USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def _arguments(arguments: Any) -> Any:
    if isinstance(arguments, (bytes, bytearray)):
        arguments = bytes(arguments).decode("utf-8", "replace")
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except ValueError:
            return arguments
        # Only an object is "the arguments"; ``"3"`` or ``"[1]"`` stay as the model wrote them.
        return parsed if isinstance(parsed, dict) else arguments
    if arguments is None:
        return None
    if isinstance(arguments, Mapping):
        return to_jsonable(dict(arguments))
    return to_jsonable(arguments)


def tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """One tool call the model asked for, as ``{id, name, arguments}``.

    ``arguments`` may be the JSON text the model wrote (OpenAI, streamed pieces joined) or an
    already-parsed mapping (Anthropic's ``input``, LangChain's ``args``): both come out the same.
    """
    return {
        "id": None if call_id is None else str(call_id),
        "name": None if name is None else str(name),
        "arguments": _arguments(arguments),
    }


def _count(value: Any) -> int | None:
    # bool is an int subclass, and never a token count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage(
    *,
    input_tokens: Any = None,
    output_tokens: Any = None,
    total_tokens: Any = None,
    cache_read_tokens: Any = None,
    cache_write_tokens: Any = None,
    reasoning_tokens: Any = None,
) -> dict[str, int] | None:
    """Token usage in the shape every ``llm_call`` has; None when nothing was reported.

    Counts that are not integers are dropped; ``total_tokens`` is input + output when the
    provider did not say.
    """
    out = {
        "input_tokens": _count(input_tokens),
        "output_tokens": _count(output_tokens),
        "total_tokens": _count(total_tokens),
        "cache_read_tokens": _count(cache_read_tokens),
        "cache_write_tokens": _count(cache_write_tokens),
        "reasoning_tokens": _count(reasoning_tokens),
    }
    if out["total_tokens"] is None and (
        out["input_tokens"] is not None or out["output_tokens"] is not None
    ):
        out["total_tokens"] = (out["input_tokens"] or 0) + (out["output_tokens"] or 0)
    kept = {k: v for k, v in out.items() if v is not None}
    return kept or None


_USAGE_NAMES = (
    "input_tokens", "prompt_tokens", "output_tokens", "completion_tokens", "total_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cache_read_input_tokens",
    "cache_creation_input_tokens", "prompt_tokens_details", "input_tokens_details",
    "input_token_details", "completion_tokens_details", "output_tokens_details",
    "output_token_details", "cached_tokens", "cache_read", "cache_creation", "reasoning",
)  # fmt: skip


def _view(obj: Any) -> Mapping[str, Any]:
    """An object's fields as a mapping, read once: a usage object is asked for many names.

    A pydantic model keeps its fields in ``__dict__`` (and those an older SDK does not declare
    yet in ``__pydantic_extra__``); reading them there avoids the slow AttributeError that
    ``getattr`` of a missing name costs."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return obj
    fields = getattr(obj, "__dict__", None)
    if isinstance(fields, dict):
        extra = getattr(obj, "__pydantic_extra__", None)
        return {**extra, **fields} if isinstance(extra, dict) and extra else fields
    return {name: getattr(obj, name, None) for name in _USAGE_NAMES}  # __slots__ and the like


def _first(fields: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = fields.get(key)
        if value is not None:
            return value
    return None


def usage_from(reported: Any) -> dict[str, int] | None:
    """Usage as a provider or framework reports it (a dict or an SDK object), in the shared
    shape. Reads the shared names and the common ones:

    - OpenAI: ``prompt_tokens``/``completion_tokens`` (or ``input_``/``output_tokens``) with
      ``cached_tokens`` and ``reasoning_tokens`` in their ``*_tokens_details``;
    - Anthropic: ``cache_read_input_tokens``/``cache_creation_input_tokens``, which its
      ``input_tokens`` leaves out, so they are added to it (the whole prompt);
    - LangChain's ``usage_metadata``: ``input_token_details.cache_read``/``cache_creation`` and
      ``output_token_details.reasoning``.
    """
    if reported is None:
        return None
    f = _view(reported)
    in_details = _view(_first(f, "prompt_tokens_details", "input_tokens_details",
                              "input_token_details"))  # fmt: skip
    out_details = _view(_first(f, "completion_tokens_details", "output_tokens_details",
                               "output_token_details"))  # fmt: skip
    apart_read = _count(f.get("cache_read_input_tokens"))
    apart_write = _count(f.get("cache_creation_input_tokens"))
    inputs = _count(_first(f, "input_tokens", "prompt_tokens"))
    if inputs is not None and (apart_read is not None or apart_write is not None):
        inputs += (apart_read or 0) + (apart_write or 0)
    # ``cached_tokens`` at the top: a flat dict a caller wrote in OpenAI's words.
    read = _first(f, "cache_read_tokens", "cached_tokens")
    read = apart_read if read is None else read
    read = _first(in_details, "cached_tokens", "cache_read") if read is None else read
    write = f.get("cache_write_tokens")
    write = apart_write if write is None else write
    write = in_details.get("cache_creation") if write is None else write
    reasoning = f.get("reasoning_tokens")
    if reasoning is None:
        reasoning = _first(out_details, "reasoning_tokens", "reasoning")
    return usage(
        input_tokens=inputs,
        output_tokens=_first(f, "output_tokens", "completion_tokens"),
        total_tokens=f.get("total_tokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
    )


def tool_calls_from(calls: Any) -> list[dict[str, Any]] | None:
    """Tool calls in any common form, each as ``{id, name, arguments}``: OpenAI's
    ``{id, function: {name, arguments}}`` or Responses API ``function_call`` items
    (``call_id``), Anthropic's ``tool_use`` blocks (``input``), LangChain's
    ``{id, name, args}``, or the shared shape itself."""
    if calls is None:
        return None
    if isinstance(calls, (str, bytes, Mapping)) or not hasattr(calls, "__iter__"):
        calls = [calls]
    out = []
    for call in calls:
        f = _view(call) if isinstance(call, Mapping) else _call_view(call)
        fn = f.get("function")
        if fn is not None:
            fv = _view(fn) if isinstance(fn, Mapping) else _call_view(fn)
            name, arguments = fv.get("name"), fv.get("arguments")
        else:
            name, arguments = f.get("name"), _first(f, "arguments", "input", "args")
        out.append(tool_call(_first(f, "call_id", "id"), name, arguments))
    return out


_CALL_NAMES = ("id", "call_id", "name", "function", "arguments", "input", "args")


def _call_view(obj: Any) -> Mapping[str, Any]:
    fields = getattr(obj, "__dict__", None)
    if isinstance(fields, dict):
        return fields
    return {name: getattr(obj, name, None) for name in _CALL_NAMES}
