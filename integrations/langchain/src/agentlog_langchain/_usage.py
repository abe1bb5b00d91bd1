"""Token usage of streamed chat model calls, asked for on the caller's behalf and hidden again.

Some chat models report usage when streaming only if asked: ``ChatOpenAI`` (and every model
built on ``langchain_openai``'s ``BaseChatOpenAI``) sends ``stream_options.include_usage`` only
with ``stream_usage=True``, which it sets by itself only for the default OpenAI endpoint and
client. As the ``openai`` integration does for the SDK, agentlog asks for usage when the caller
left it unsaid (an explicit ``stream_usage=False`` is respected) and hides the answer:

- ``stream()`` / ``astream()``: LangChain records the chunks as they come (so the ``llm_call``
  gets the usage); the caller does not get the usage-only chunk, nor ``usage_metadata`` on the
  others.
- ``invoke()`` of a ``streaming=True`` model: the merged message loses the ``usage_metadata``
  before LangChain hands it to the caller, and the usage goes to the run's event by its run id.

The request is only changed while agentlog records (``Ask`` exists only then), and only for the
call in whose context the model's ``_should_stream_usage`` runs.
"""

from __future__ import annotations

import contextvars
import functools
import sys
from collections.abc import Callable
from typing import Any
from uuid import UUID

from agentlog.instrumentation import warn_once

__all__ = ["Ask", "asking", "hide_chunk", "patch_stream_usage", "strip_result"]

_MARK = "__agentlog_langchain__"
# Where models decide whether to ask for streamed usage; wrapped once their module is imported.
_DECIDERS = (("langchain_openai.chat_models.base", "BaseChatOpenAI", "_should_stream_usage"),)


class Ask:
    """One model call during which agentlog may ask for usage; ``asked`` once it did."""

    __slots__ = ("asked",)

    def __init__(self) -> None:
        self.asked = False


asking: contextvars.ContextVar[Ask | None] = contextvars.ContextVar(
    "agentlog_langchain_usage_ask", default=None
)


def _said(value: Any) -> bool:
    return isinstance(value, bool)


def _caller_decided(model: Any, stream_usage: Any, kwargs: dict[str, Any]) -> bool:
    """True when the caller (or the model's own default) said yes or no to streamed usage,
    in the places ``_should_stream_usage`` looks."""
    options = kwargs.get("stream_options") or {}
    model_options = (getattr(model, "model_kwargs", None) or {}).get("stream_options") or {}
    sources = (
        stream_usage,
        options.get("include_usage") if isinstance(options, dict) else None,
        model_options.get("include_usage") if isinstance(model_options, dict) else None,
        getattr(model, "stream_usage", None),
    )
    return any(_said(s) for s in sources)


def _wrap_decider(fn: Callable[..., bool]) -> Callable[..., bool]:
    @functools.wraps(fn)
    def wrapper(self: Any, stream_usage: Any = None, **kwargs: Any) -> bool:
        wanted = fn(self, stream_usage, **kwargs)
        ask = asking.get()
        if wanted or ask is None:
            return wanted
        try:
            if _caller_decided(self, stream_usage, kwargs):
                return wanted
        except Exception:
            warn_once("langchain:stream_usage", "agentlog: could not read a model's stream_usage")
            return wanted
        ask.asked = True
        return True

    setattr(wrapper, _MARK, True)
    return wrapper


def patch_stream_usage() -> None:
    """Wrap the deciders whose modules are imported by now (never importing one ourselves)."""
    for module_name, class_name, method in _DECIDERS:
        cls = getattr(sys.modules.get(module_name), class_name, None)
        current = cls.__dict__.get(method) if isinstance(cls, type) else None
        if callable(current) and not getattr(current, _MARK, False):
            setattr(cls, method, _wrap_decider(current))


def unpatch_stream_usage() -> None:
    for module_name, class_name, method in _DECIDERS:
        cls = getattr(sys.modules.get(module_name), class_name, None)
        current = cls.__dict__.get(method) if isinstance(cls, type) else None
        if getattr(current, _MARK, False):
            setattr(cls, method, current.__wrapped__)  # type: ignore[union-attr]


def hide_chunk(chunk: Any) -> Any:
    """What the caller sees of a streamed chunk when agentlog asked for usage: None for the
    usage-only chunk, the chunk without ``usage_metadata`` otherwise."""
    try:
        if not getattr(chunk, "usage_metadata", None):
            return chunk
        if chunk.content in ("", []) and not getattr(chunk, "tool_call_chunks", None):
            return None
        return chunk.model_copy(update={"usage_metadata": None})
    except Exception:
        warn_once("langchain:hide_usage", "agentlog: could not hide a usage chunk")
        return chunk


def strip_result(result: Any, run_manager: Any, keep: Callable[[UUID, Any], None]) -> Any:
    """A ``ChatResult`` without the ``usage_metadata`` agentlog asked for; the usage goes to
    ``keep(run_id, usage_metadata)`` so that the run's ``llm_call`` still has it."""
    try:
        generations = list(result.generations)
        changed = False
        for i, generation in enumerate(generations):
            message = getattr(generation, "message", None)
            meta = getattr(message, "usage_metadata", None)
            if not meta:
                continue
            run_id = getattr(run_manager, "run_id", None)
            if run_id is not None and i == 0:
                keep(run_id, meta)
            bare = message.model_copy(update={"usage_metadata": None})  # type: ignore[union-attr]
            generations[i] = generation.model_copy(update={"message": bare})
            changed = True
        return result.model_copy(update={"generations": generations}) if changed else result
    except Exception:
        warn_once("langchain:strip_usage", "agentlog: could not hide a model's usage")
        return result
