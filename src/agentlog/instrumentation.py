"""The public toolkit for writing an agentlog integration (like ``opentelemetry.instrumentation``).

Everything an integration for a model SDK or an agent framework needs, and nothing else: the
three integrations that ship with agentlog (``agentlog-openai``, ``agentlog-anthropic``,
``agentlog-langchain``) are built on this module alone. ``docs/writing-an-integration.md`` walks
through a complete one.

- **Instrumentors**: ``Instrumentor`` (the entry-point protocol agentlog loads from the
  ``agentlog.instrumentors`` group) and ``PatchingInstrumentor`` (its base for "wrap these
  methods of that SDK"), with ``Switch``, ``Target``, ``Patch``, ``wrap`` and ``unwrap``
  underneath.
- **Model calls**: ``begin_model_call`` / ``ModelCall`` and the ``sync_model_wrapper`` /
  ``async_model_wrapper`` that record one SDK call as one ``llm_call`` span; ``send``,
  ``send_async``, ``parse_raw``, ``aparse_raw`` for wrappers of their own.
- **Streams**: ``StreamRecorder``, ``ToolCallPieces`` and ``watch_stream`` end a streamed call's
  span however the stream ends.
- **Spans and events**: ``recording``, ``start_span``, ``Span``, ``emit_event``,
  ``current_span_id``, ``set_current_span``, ``reset_current_span``.
- **Marks**: ``suppress_instrumentation`` / ``is_suppressed`` (record nothing), and
  ``recorded_by`` / ``llm_recorded_by`` (a framework records this model call: provider wrappers
  underneath stay silent).
- **Payloads**: ``capture_enabled``, ``to_jsonable``, ``snapshot``, ``given``,
  ``request_params``, and the ``llm_call`` shape every integration shares: ``tool_call``,
  ``tool_calls_from``, ``usage``, ``usage_from``, ``USAGE_KEYS``.
- **Plumbing**: ``now_ns``, ``warn_once``, ``available_integrations``.

Everything here follows agentlog's rule: nothing raises into the host program. A hook that fails
is logged once (``warn_once``) and the user's call goes on as if uninstrumented.
"""

from __future__ import annotations

import contextvars as _contextvars

from ._context import is_suppressed, llm_recorded_by, suppress_instrumentation
from ._context import span_var as _span_var
from ._ids import now_ns
from ._instrument import Instrumentor, available_integrations
from ._llm_data import USAGE_KEYS, tool_call, tool_calls_from, usage, usage_from
from ._log import warn_once
from ._model_calls import Call as ModelCall
from ._model_calls import (
    aparse_raw,
    given,
    parse_raw,
    recorded_by,
    send,
    send_async,
    snapshot,
)
from ._model_calls import async_wrapper as async_model_wrapper
from ._model_calls import begin_call as begin_model_call
from ._model_calls import params as request_params
from ._model_calls import sync_wrapper as sync_model_wrapper
from ._patching import Patch, PatchingInstrumentor, Switch, Target, unwrap, wrap
from ._serialize import to_jsonable
from ._spans import Span, emit_event, recording, start_span
from ._state import STATE as _STATE
from ._streams import StreamRecorder, ToolCallPieces
from ._streams import watch as watch_stream

__all__ = [
    "USAGE_KEYS",
    "Instrumentor",
    "ModelCall",
    "Patch",
    "PatchingInstrumentor",
    "Span",
    "StreamRecorder",
    "Switch",
    "Target",
    "ToolCallPieces",
    "aparse_raw",
    "async_model_wrapper",
    "available_integrations",
    "begin_model_call",
    "capture_enabled",
    "current_span_id",
    "emit_event",
    "given",
    "is_suppressed",
    "llm_recorded_by",
    "now_ns",
    "parse_raw",
    "recorded_by",
    "recording",
    "request_params",
    "reset_current_span",
    "send",
    "send_async",
    "set_current_span",
    "snapshot",
    "start_span",
    "suppress_instrumentation",
    "sync_model_wrapper",
    "to_jsonable",
    "tool_call",
    "tool_calls_from",
    "unwrap",
    "usage",
    "usage_from",
    "warn_once",
    "watch_stream",
    "wrap",
]


def capture_enabled() -> bool:
    """Whether payloads (messages, responses, inputs, outputs) are recorded:
    ``init(capture=False)`` keeps them out, and an integration must then record only their
    shape (model, usage, timing)."""
    return bool(_STATE.capture)


def current_span_id() -> int | None:
    """The id of the innermost open span in this context: the parent of what is recorded next."""
    return _span_var.get()


def set_current_span(span_id: int | None) -> _contextvars.Token[int | None]:
    """Make ``span_id`` the parent of what is recorded next in this context.

    For a framework that runs user code in a context of its own (LangChain's runnables): set it
    in that context; ``reset_current_span(token)`` undoes it where the same context goes on.
    """
    return _span_var.set(span_id)


def reset_current_span(token: _contextvars.Token[int | None]) -> None:
    """Undo ``set_current_span`` (in the context that set it)."""
    _span_var.reset(token)
