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

__all__ = ["USAGE_KEYS", "tool_call", "usage"]

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
