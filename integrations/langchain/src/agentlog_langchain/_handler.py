"""The callback handler: LangChain runs as agentlog spans (the run map is in ``_runs``).

Every callback converts what LangChain hands it into the event's ``data`` and is guarded: a
failure is logged once and LangChain, and the user's code, carry on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from agentlog._ids import now_ns
from agentlog._log import warn_once
from agentlog._serialize import to_jsonable
from agentlog._spans import emit_event, recording
from agentlog._state import STATE

from ._convert import (
    documents_data,
    generation_data,
    messages_data,
    model_and_provider,
)
from ._runctx import patch_late
from ._runs import RunTree

__all__ = ["AgentlogCallbackHandler"]

# Run names that make a chain span an ``agent`` span: classic AgentExecutor, and any runnable
# or graph its author named "...agent" (create_agent(name="support_agent"), @chain def agent).
_AGENT_SUFFIXES = ("agent", "agentexecutor")


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
        self.runs = RunTree()

    # One handler per process holds the open runs: a copy (config merging, deepcopy of a
    # callback list) must be the same handler, or runs would end in a map that never saw them.
    def __copy__(self) -> AgentlogCallbackHandler:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> AgentlogCallbackHandler:
        return self

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
            self.runs.start(run_id, parent_run_id, tags, etype, name, data)
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
            self.runs.end(run_id, data=data)
        except Exception:
            warn_once("langchain:chain_end", "agentlog: could not record a LangChain run")

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data = {}
            if _capture() and kwargs.get("inputs") is not None:
                data["input"] = kwargs["inputs"]
            self.runs.end(run_id, error=error, data=data)
        except Exception:
            warn_once("langchain:chain_error", "agentlog: could not record a LangChain run")

    def on_agent_action(
        self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            span = self.runs.span_of(run_id)
            if span is None and not self.runs.enabled:
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
        self.runs.start(run_id, parent_run_id, tags, "llm_call", name, data)

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
            run = self.runs.get(run_id)
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
            self.runs.end(run_id, data=data)
        except Exception:
            warn_once("langchain:llm_end", "agentlog: could not record a model call")

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data: dict[str, Any] = {}
            run = self.runs.get(run_id)
            if _capture():
                # What arrived before the failure: LangChain passes the merged chunks, and
                # the tokens seen are the fallback when it does not.
                partial = generation_data(kwargs.get("response"))
                if partial.get("response") in (None, "", []) and run and run.chunks:
                    partial["response"] = "".join(run.chunks)
                data = {k: v for k, v in partial.items() if v not in (None, "", [])}
            self.runs.end(run_id, error=error, data=data)
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
            self.runs.start(run_id, parent_run_id, tags, "tool_call", name, data)
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
            self.runs.end(run_id, data=data)
        except Exception:
            warn_once("langchain:tool_end", "agentlog: could not record a tool call")

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self.runs.end(run_id, error=error)
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
            self.runs.start(run_id, parent_run_id, tags, "retrieval", name, data)
        except Exception:
            warn_once("langchain:retriever_start", "agentlog: could not record a retrieval")

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            data = {"documents": documents_data(documents)} if _capture() else {}
            self.runs.end(run_id, data=data)
        except Exception:
            warn_once("langchain:retriever_end", "agentlog: could not record a retrieval")

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self.runs.end(run_id, error=error)
        except Exception:
            warn_once("langchain:retriever_error", "agentlog: could not record a retrieval")
