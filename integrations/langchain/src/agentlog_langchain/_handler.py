"""The callback handler: LangChain runs as agentlog spans.

LangChain names every run (``run_id``) and its parent (``parent_run_id``); the handler keeps
the agentlog span of each open run by run id and parents child spans explicitly. Only a root
run takes its parent span and session from the context it starts in, so the tree stays whole
even when LangChain runs a callback in another thread or task than the work it describes.
"""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._serialize import to_jsonable
from agentlog._spans import Span, emit_event, recording, start_span
from agentlog._state import STATE

from ._convert import (
    documents_data,
    error_kind,
    generation_data,
    messages_data,
    model_and_provider,
)
from ._runctx import patch_late

__all__ = ["MAX_OPEN_RUNS", "AgentlogCallbackHandler"]

# Runs a stream never finished keep their entry until shutdown; past this many the handler
# stops tracking new ones (counted in ``dropped_runs``) rather than grow without bound.
MAX_OPEN_RUNS = 10_000
_HIDDEN = "langsmith:hidden"  # LangChain/LangGraph plumbing that its own tracer hides too
# Run names that make a chain span an ``agent`` span: classic AgentExecutor, and any runnable
# or graph its author named "...agent" (create_agent(name="support_agent"), @chain def agent).
_AGENT_SUFFIXES = ("agent", "agentexecutor")


class _Run:
    __slots__ = ("alias", "chunks", "first_token_ns", "span")

    def __init__(self, span: Span, *, alias: bool = False) -> None:
        self.span = span
        self.alias = alias  # a hidden run standing in for its parent's span: never ended here
        self.first_token_ns: int | None = None
        self.chunks: list[str] | None = None


def _name(serialized: Any, kwargs: dict[str, Any], default: str) -> str:
    name = kwargs.get("name")
    if name:
        return str(name)
    if isinstance(serialized, dict):
        if serialized.get("name"):
            return str(serialized["name"])
        ids = serialized.get("id")
        if ids:
            return str(ids[-1])
    return default


def _capture() -> bool:
    return bool(STATE.capture)


class AgentlogCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs into the active agentlog session. Never raises."""

    # Inline: on the async path a non-inline sync handler runs in an executor thread, and
    # start events could then be recorded after the work they open has begun.
    run_inline = True
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self.dropped_runs = 0
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    # One handler per process holds the open runs: a copy (config merging, deepcopy of a
    # callback list) must be the same handler, or runs would end in a map that never saw them.
    def __copy__(self) -> AgentlogCallbackHandler:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> AgentlogCallbackHandler:
        return self

    # -- bookkeeping ---------------------------------------------------------------------

    def _start(
        self, run_id: UUID, parent_run_id: UUID | None, tags: list[str] | None,
        etype: str, name: str, data: dict[str, Any],
    ) -> None:  # fmt: skip
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
            if parent is None and not self.enabled:
                return  # uninstrumented: finish the trees already open, start no new ones
            if len(self._runs) >= MAX_OPEN_RUNS:
                self.dropped_runs += 1
                warn_once("langchain:max_runs", "agentlog: too many open LangChain runs; "
                          "new ones are not recorded", exc_info=False)  # fmt: skip
                return
        parent_span = parent.span if parent is not None else None
        if etype in ("chain", "agent") and tags and _HIDDEN in tags:
            if parent_span is None:
                return
            run = _Run(parent_span, alias=True)  # its children hang under its parent
        else:
            span = start_span(etype, name, data)
            if span is None:
                return  # not recording: children fall back to the context, as this run would
            if parent_span is not None:
                span.parent_id = parent_span.id
                span.session_id = parent_span.session_id
            run = _Run(span)
        with self._lock:
            self._runs[run_id] = run

    def _end(
        self, run_id: UUID, *, error: BaseException | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None or run.alias:
            return
        span = run.span
        if span.type == "llm_call":
            extra = self._llm_timing(run, span)
            data = {**extra, **(data or {})}
        if error is None:
            span.end(data=data)
        elif error_kind(error) == "stopped":
            span.end(data=data, partial=True)
        else:
            span.end(data=data, error=error)

    def _alias_span(self, run_id: UUID) -> Span | None:
        run = self._runs.get(run_id)
        return run.span if run is not None else None

    def span_id_for(self, run_id: UUID) -> int | None:
        """The agentlog span id standing for an open LangChain run (hidden: its parent's)."""
        run = self._runs.get(run_id)
        return run.span.id if run is not None else None

    @staticmethod
    def _llm_timing(run: _Run, span: Span) -> dict[str, Any]:
        if run.first_token_ns is None:
            return {}
        return {
            "stream": True,
            "time_to_first_token_ms": (run.first_token_ns - span.start_ns) / 1e6,
        }

    # -- chains, runnables, agents -------------------------------------------------------

    def on_chain_start(
        self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        if not recording():
            return  # the common case before init(): skip converting payloads
        patch_late()
        try:
            name = _name(serialized, kwargs, "chain")
            etype = "agent" if name.lower().endswith(_AGENT_SUFFIXES) else "chain"
            data: dict[str, Any] = {"input": to_jsonable(inputs) if _capture() else None}
            if tags:
                data["tags"] = list(tags)
            self._start(run_id, parent_run_id, tags, etype, name, data)
        except Exception:
            warn_once("langchain:chain_start", "agentlog: could not record a LangChain run")

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            # Serialized as the span ends, right here: no copy needed (inputs are, at the start).
            data: dict[str, Any] = {}
            if _capture():
                data["output"] = outputs
                # Streamed runs only know their input at the end.
                if kwargs.get("inputs") is not None:
                    data["input"] = kwargs["inputs"]
            self._end(run_id, data=data)
        except Exception:
            warn_once("langchain:chain_end", "agentlog: could not record a LangChain run")

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data = {}
            if _capture() and kwargs.get("inputs") is not None:
                data["input"] = kwargs["inputs"]
            self._end(run_id, error=error, data=data)
        except Exception:
            warn_once("langchain:chain_error", "agentlog: could not record a LangChain run")

    def on_agent_action(
        self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            span = self._alias_span(run_id)
            if span is None and not self.enabled:
                return
            data: dict[str, Any] = {
                "options": None,
                "choice": getattr(action, "tool", None),
                "reasoning": getattr(action, "log", None) if _capture() else None,
                "confidence": None,
            }
            if _capture():
                data["input"] = to_jsonable(getattr(action, "tool_input", None))
            emit_event(
                "decision", "agent_action", data,
                parent_id=span.id if span is not None else None,
                session_id=span.session_id if span is not None else None,
            )  # fmt: skip
        except Exception:
            warn_once("langchain:agent_action", "agentlog: could not record an agent action")

    # -- models --------------------------------------------------------------------------

    def _start_llm(
        self, serialized: Any, messages: Any, run_id: UUID, parent_run_id: UUID | None,
        tags: list[str] | None, metadata: dict[str, Any] | None, kwargs: dict[str, Any],
    ) -> None:  # fmt: skip
        params = dict(kwargs.get("invocation_params") or {})
        model, provider = model_and_provider(metadata, params, serialized)
        streaming = bool(params.get("stream"))
        for key in ("model", "model_name", "_type", "messages", "stream"):
            params.pop(key, None)
        stop = (kwargs.get("options") or {}).get("stop")
        if stop:
            params["stop"] = stop
        capture = _capture()
        data = {
            "provider": provider,
            "model": model,
            "messages": messages if capture else None,
            "response": None,
            "tool_calls": None,
            "usage": None,
            "params": to_jsonable({k: v for k, v in params.items() if v is not None})
            if capture
            else None,
            "stream": streaming,
            "time_to_first_token_ms": None,
        }
        name = _name(serialized, kwargs, "llm")
        self._start(run_id, parent_run_id, tags, "llm_call", name, data)

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        if not recording():
            return
        try:
            # LangChain calls back once per prompt, each with its own run id.
            converted = messages_data(messages[0]) if len(messages) == 1 else [
                messages_data(m) for m in messages
            ]  # fmt: skip
            self._start_llm(serialized, converted, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            warn_once("langchain:chat_start", "agentlog: could not record a chat model call")

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        if not recording():
            return
        try:
            prompt: Any = prompts[0] if len(prompts) == 1 else list(prompts)
            self._start_llm(serialized, prompt, run_id, parent_run_id, tags, metadata, kwargs)
        except Exception:
            warn_once("langchain:llm_start", "agentlog: could not record an LLM call")

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        try:
            run = self._runs.get(run_id)
            if run is None:
                return
            if run.first_token_ns is None:
                run.first_token_ns = now_ns()
                run.chunks = []
            if run.chunks is not None and isinstance(token, str):
                run.chunks.append(token)
        except Exception:
            warn_once("langchain:llm_token", "agentlog: could not record a streamed token")

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data = generation_data(response)
            if not _capture():
                data = {"usage": data.get("usage")}
            self._end(run_id, data=data)
        except Exception:
            warn_once("langchain:llm_end", "agentlog: could not record a model call")

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data: dict[str, Any] = {}
            run = self._runs.get(run_id)
            if _capture():
                # What arrived before the failure: LangChain passes the merged chunks, and
                # the tokens seen are the fallback when it does not.
                partial = generation_data(kwargs.get("response"))
                if partial.get("response") in (None, "", []) and run and run.chunks:
                    partial["response"] = "".join(run.chunks)
                data = {k: v for k, v in partial.items() if v not in (None, "", [])}
            self._end(run_id, error=error, data=data)
        except Exception:
            warn_once("langchain:llm_error", "agentlog: could not record a model call")

    # -- tools and retrievers ------------------------------------------------------------

    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        if not recording():
            return
        try:
            capture = _capture()
            data: dict[str, Any] = {
                "input": (to_jsonable(inputs) if inputs is not None else input_str)
                if capture else None,
                "output": None,
            }  # fmt: skip
            if kwargs.get("tool_call_id"):
                data["tool_call_id"] = kwargs["tool_call_id"]
            name = _name(serialized, kwargs, "tool")
            self._start(run_id, parent_run_id, tags, "tool_call", name, data)
        except Exception:
            warn_once("langchain:tool_start", "agentlog: could not record a tool call")

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data: dict[str, Any] = {}
            if _capture():
                # A tool called with a ToolCall returns a ToolMessage: its content is the output.
                is_message = getattr(output, "type", None) == "tool"
                content = getattr(output, "content", None) if is_message else output
                data["output"] = content
                artifact = getattr(output, "artifact", None) if is_message else None
                if artifact is not None:
                    data["artifact"] = artifact
            # Older langchain-core does not pass the id to on_tool_start; the reply carries it.
            call_id = getattr(output, "tool_call_id", None) if is_message else None
            if call_id:
                data["tool_call_id"] = call_id
            self._end(run_id, data=data)
        except Exception:
            warn_once("langchain:tool_end", "agentlog: could not record a tool call")

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._end(run_id, error=error)
        except Exception:
            warn_once("langchain:tool_error", "agentlog: could not record a tool call")

    def on_retriever_start(
        self, serialized: dict[str, Any], query: str, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        if not recording():
            return
        try:
            data = {"query": query if _capture() else None, "documents": None}
            name = _name(serialized, kwargs, "retriever")
            self._start(run_id, parent_run_id, tags, "retrieval", name, data)
        except Exception:
            warn_once("langchain:retriever_start", "agentlog: could not record a retrieval")

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data = {"documents": documents_data(documents)} if _capture() else {}
            self._end(run_id, data=data)
        except Exception:
            warn_once("langchain:retriever_end", "agentlog: could not record a retrieval")

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._end(run_id, error=error)
        except Exception:
            warn_once("langchain:retriever_error", "agentlog: could not record a retrieval")
