"""The callback handler: LangChain runs as agentlog spans (the run map is in ``_runs``).

Every callback converts what LangChain hands it into the event's ``data`` and is guarded: a
failure is logged once and LangChain, and the user's code, carry on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from agentlog.instrumentation import (
    capture_enabled,
    emit_event,
    now_ns,
    recording,
    to_jsonable,
    warn_once,
)

from ._convert import (
    documents_data,
    generation_data,
    messages_data,
    model_and_provider,
    usage_from_metadata,
)
from ._runctx import patch_late
from ._runs import RunTree
from ._usage import patch_stream_usage

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


F = TypeVar("F", bound=Callable[..., None])


def _opens(fn: F) -> F:
    """A start callback: skipped when nothing would be recorded, never raises."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if not recording():
            return  # e.g. a run that inherited the handler after shutdown(): convert nothing
        try:
            fn(*args, **kwargs)
        except Exception:
            warn_once(f"langchain:{fn.__name__}", "agentlog: could not record a LangChain run")

    return wrapper  # type: ignore[return-value]


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

    def _close(
        self, run_id: UUID, error: BaseException | None, data: Callable[[], dict[str, Any]],
        *, always: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """End a run's span; should building its ``data`` fail, end it without.

        With payload capture off only the ``always`` keys (usage, model: not payloads) stay.
        """
        try:
            if capture_enabled():
                built = data()
            elif always:
                built = {k: v for k, v in data().items() if k in always}
            else:
                built = {}
        except Exception:
            warn_once("langchain:end_data", "agentlog: could not read a LangChain result")
            built = {}
        try:
            self.runs.end(run_id, error=error, data=built)
        except Exception:
            warn_once("langchain:end", "agentlog: could not record a LangChain run")

    # -- chains, runnables, agents -------------------------------------------------------

    @_opens
    def on_chain_start(
        self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        patch_late()
        name = _name(serialized, kwargs, "chain")
        etype = "agent" if name.lower().endswith(_AGENT_SUFFIXES) else "chain"
        # A copy now: the run may change its input (a message list the agent appends to).
        data: dict[str, Any] = {"input": to_jsonable(inputs) if capture_enabled() else None}
        if tags:
            data["tags"] = list(tags)
        self.runs.start(run_id, parent_run_id, tags, etype, name, data)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        # Results are serialized as the span ends, right here: no copy needed.
        inputs = kwargs.get("inputs")  # streamed runs only know their input at the end
        self._close(run_id, None, lambda: {"output": outputs} if inputs is None
                    else {"output": outputs, "input": inputs})  # fmt: skip

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        inputs = kwargs.get("inputs")
        self._close(run_id, error, lambda: {} if inputs is None else {"input": inputs})

    def on_agent_action(
        self, action: Any, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        try:
            span = self.runs.span_of(run_id)
            if span is None and not (self.runs.enabled and recording()):
                return
            capture = capture_enabled()
            data: dict[str, Any] = {
                "options": None,
                "choice": getattr(action, "tool", None),
                "reasoning": getattr(action, "log", None) if capture else None,
                "confidence": None,
                "input": to_jsonable(getattr(action, "tool_input", None)) if capture else None,
            }
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
        capture = capture_enabled()
        data = {
            "provider": provider,
            # "model" becomes the one that answered when the provider reports it.
            "request_model": model,
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
        patch_stream_usage()  # the model's module is imported by now: cheap once wrapped
        self.runs.start(run_id, parent_run_id, tags, "llm_call", name, data)

    @_opens
    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        # LangChain calls back once per prompt, each with its own run id.
        converted = messages_data(messages[0]) if len(messages) == 1 else [
            messages_data(m) for m in messages
        ]  # fmt: skip
        self._start_llm(serialized, converted, run_id, parent_run_id, tags, metadata, kwargs)

    @_opens
    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        prompt: Any = prompts[0] if len(prompts) == 1 else list(prompts)
        self._start_llm(serialized, prompt, run_id, parent_run_id, tags, metadata, kwargs)

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
        run = self.runs.get(run_id)
        hidden = run.usage if run is not None else None

        def result() -> dict[str, Any]:
            data = generation_data(response)
            if data.get("usage") is None and hidden is not None:
                data["usage"] = usage_from_metadata(hidden)  # asked for by agentlog, see _usage
            return data

        self._close(run_id, None, result, always=("usage", "model"))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        run = self.runs.get(run_id)

        def partial() -> dict[str, Any]:
            # What arrived before the failure: LangChain passes the merged chunks, and the
            # tokens seen are the fallback when it does not.
            got = generation_data(kwargs.get("response"))
            if got.get("response") in (None, "", []) and run is not None and run.chunks:
                got["response"] = "".join(run.chunks)
            return {k: v for k, v in got.items() if v not in (None, "", [])}

        self._close(run_id, error, partial, always=("usage", "model"))

    # -- tools and retrievers ------------------------------------------------------------

    @_opens
    def on_tool_start(
        self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        given = to_jsonable(inputs) if inputs is not None else input_str
        data: dict[str, Any] = {"input": given if capture_enabled() else None, "output": None}
        if kwargs.get("tool_call_id"):
            data["tool_call_id"] = kwargs["tool_call_id"]
        self.runs.start(run_id, parent_run_id, tags, "tool_call", _name(serialized, kwargs, "tool"),
                        data)  # fmt: skip

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        def result() -> dict[str, Any]:
            if getattr(output, "type", None) != "tool":
                return {"output": output}
            # A tool called with a ToolCall returns a ToolMessage: its content is the output.
            data = {"output": getattr(output, "content", None)}
            if getattr(output, "artifact", None) is not None:
                data["artifact"] = output.artifact
            # Older langchain-core does not pass the id to on_tool_start; the reply has it.
            if getattr(output, "tool_call_id", None):
                data["tool_call_id"] = output.tool_call_id
            return data

        self._close(run_id, None, result)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error, dict)

    @_opens
    def on_retriever_start(
        self, serialized: dict[str, Any], query: str, *, run_id: UUID,
        parent_run_id: UUID | None = None, tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None, **kwargs: Any,
    ) -> None:  # fmt: skip
        data = {"query": query if capture_enabled() else None, "documents": None}
        name = _name(serialized, kwargs, "retriever")
        self.runs.start(run_id, parent_run_id, tags, "retrieval", name, data)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, None, lambda: {"documents": documents_data(documents)})

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error, dict)
