"""The module-level API: ``init``, the ``track_*`` helpers, ``flush``, ``status``, ``shutdown``."""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING, Any

from . import _instrument
from ._config import Config, build_config, env_flag
from ._context import session_id_or_drop, session_var
from ._ids import format_ts, format_uuid, new_id, now_ns, reseed
from ._llm_data import tool_calls_from, usage_from
from ._log import warn_once
from ._mp_exit import watch_children
from ._pipeline import Pipeline
from ._serialize import to_jsonable
from ._session import Session, close_open_sessions, forget_inherited_sessions
from ._spans import close_open_spans, emit_event, error_info
from ._state import STATE
from ._stats import PipelineStatus
from .exporters import ConsoleExporter, FanoutExporter, FileExporter, MemoryExporter
from .exporters._base import Exporter

if TYPE_CHECKING:
    from ._events import DiskEvent, Event, TextEvent

__all__ = [
    "add_event", "current_session", "flush", "init", "instrument", "shutdown", "status",
    "store_message", "track_decision", "track_error", "track_llm_call", "track_tool_call",
    "uninstrument",
]  # fmt: skip

_lock = threading.RLock()
_hooks_installed = False


def _exporter(spec: Any, cfg: Config) -> Exporter:
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError("exporter: an empty list exports nowhere")
        parts = [_exporter(s, cfg) for s in spec]
        return parts[0] if len(parts) == 1 else FanoutExporter(parts)
    if isinstance(spec, str):
        if spec == "file":
            return FileExporter(cfg.path, rotate_bytes=cfg.rotate_bytes)
        if spec == "console":
            return ConsoleExporter()
        if spec == "memory":
            return MemoryExporter()
        if spec in ("http", "otlp"):
            return _remote_exporter(spec, cfg)
        raise ValueError(
            f"exporter: unknown exporter {spec!r} (use 'file', 'console', 'memory', 'http', "
            "'otlp', an Exporter instance or a list of them)"
        )
    if callable(getattr(spec, "export", None)):
        exporter: Exporter = spec
        return exporter
    raise ValueError(f"exporter: {spec!r} is not an exporter (it has no export() method)")


def _remote_exporter(name: str, cfg: Config) -> Exporter:
    import importlib

    from ._hints import install_hint

    cls_name = {"http": "HttpExporter", "otlp": "OtlpExporter"}[name]
    try:
        module = importlib.import_module(f"agentlog.exporters.{name}")
    except ImportError as exc:
        raise ValueError(
            f"exporter: {name!r} needs an optional dependency ({exc.name}); "
            f"install it with: {install_hint(name)}"
        ) from None
    exporter: Exporter = getattr(module, cls_name).from_config(cfg)
    return exporter


def init(**options: Any) -> None:
    """Start recording. Raises ``ValueError`` naming the option on bad configuration.

    Calling it again replaces the running configuration (what was pending is flushed first).
    """
    if env_flag("AGENTLOG_DISABLED") or options.get("disabled") is True:
        with _lock:
            _stop(0.5)
        return
    cfg = build_config(options)
    exporter = _exporter(cfg.exporter, cfg)
    pipeline = Pipeline.from_config(exporter, cfg)
    global _last
    with _lock:
        _stop(cfg.shutdown_timeout, close_sessions=False)
        _last = None
        STATE.config = cfg
        STATE.capture = cfg.capture
        STATE.pipeline = pipeline
        _install_hooks()
    inst = cfg.instrument
    if inst is True:
        _instrument.instrument_all()
    elif inst:
        for name in inst:
            _instrument.instrument(name)


def _install_hooks() -> None:
    global _hooks_installed
    watch_children(_at_exit)  # multiprocessing children leave through os._exit, not atexit
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _at_exit() -> None:
    cfg = STATE.config
    shutdown(timeout=cfg.shutdown_timeout if cfg is not None else 5.0)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.RLock()  # a parent thread may have held it at fork time: never inherit it
    reseed()
    forget_inherited_sessions()
    pipeline = STATE.pipeline
    if pipeline is not None:
        pipeline.after_fork_in_child()
        watch_children(_at_exit)


_last: Pipeline | None = None  # the pipeline shut down last: status() still reports its counts


def _stop(timeout: float, *, close_sessions: bool = True) -> bool:
    global _last
    pipeline = STATE.pipeline
    if pipeline is None:
        return True
    if close_sessions:
        close_open_spans()
        close_open_sessions("cancelled")
    STATE.pipeline = None
    _last = pipeline
    return pipeline.shutdown(timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Flush within ``timeout``, close open sessions as cancelled, stop. Idempotent."""
    if timeout is None:
        timeout = STATE.config.shutdown_timeout if STATE.config is not None else 5.0
    with _lock:
        try:
            return _stop(timeout)
        except Exception:
            warn_once("shutdown", "agentlog: shutdown failed")
            return False


def flush(timeout: float = 5.0) -> bool:
    """Export everything recorded so far; False if that did not finish within ``timeout``."""
    pipeline = STATE.pipeline
    if pipeline is None:
        return True
    try:
        return pipeline.flush(timeout)
    except Exception:
        warn_once("flush", "agentlog: flush failed")
        return False


def status(session_id: str | None = None) -> PipelineStatus:
    """Counts of records pending, in process, observed, dropped, failed and spooled.

    After ``shutdown()`` (and until the next ``init()``) these are the final counts of the
    pipeline that was shut down: what was delivered, spooled or dropped at exit.
    """
    pipeline = STATE.pipeline or _last
    if pipeline is None:
        return PipelineStatus()
    return pipeline.status(session_id)


def current_session() -> Session | None:
    state = session_var.get()
    return Session(state) if state is not None else None


def _span_times(duration_ms: float | None) -> tuple[int, int | None]:
    end = now_ns()
    if duration_ms is None:
        return end, None
    try:
        return end - int(float(duration_ms) * 1e6), end
    except (TypeError, ValueError):
        return end, None


def track_tool_call(
    name: str, *, input: Any = None, output: Any = None, duration_ms: float | None = None,
    error: BaseException | str | None = None,
) -> None:  # fmt: skip
    """Record a tool call that already happened."""
    ts, end = _span_times(duration_ms)
    emit_event(
        "tool_call", name, {"input": input, "output": output}, ts=ts, end_ts=end,
        status="error" if error is not None else "ok",
        error=error_info(error) if error is not None else None,
    )  # fmt: skip


def track_llm_call(
    *, model: str | None = None, messages: Any = None, response: Any = None,
    usage: dict[str, Any] | None = None, provider: str | None = None, tool_calls: Any = None,
    params: dict[str, Any] | None = None, stream: bool = False,
    time_to_first_token_ms: float | None = None, duration_ms: float | None = None,
    error: BaseException | str | None = None, name: str | None = None,
    cost_usd: float | str | None = None, request_model: str | None = None,
) -> None:  # fmt: skip
    """Record an LLM call that already happened. ``cost_usd``: what the call cost, when the
    caller knows (it wins over the store's pricing)."""
    ts, end = _span_times(duration_ms)
    # The shape every llm_call shares (DESIGN §2), whatever form usage and tool calls came in.
    data = {
        "provider": provider, "request_model": model, "model": model, "messages": messages,
        "response": response, "tool_calls": tool_calls_from(tool_calls),
        "usage": usage_from(usage), "params": params or {}, "stream": stream,
        "time_to_first_token_ms": time_to_first_token_ms,
    }  # fmt: skip
    if cost_usd is not None:
        data["cost_usd"] = cost_usd
    if request_model is not None:
        data["request_model"] = request_model
    emit_event(
        "llm_call", name or model, data, ts=ts, end_ts=end,
        status="error" if error is not None else "ok",
        error=error_info(error) if error is not None else None,
    )  # fmt: skip


def track_decision(
    name: str, *, choice: Any, options: Any = None, reasoning: str | None = None,
    confidence: float | None = None,
) -> None:  # fmt: skip
    """Record a decision: what was chosen among which options, and why."""
    emit_event(
        "decision", name,
        {"options": options, "choice": choice, "reasoning": reasoning, "confidence": confidence},
    )  # fmt: skip


def track_error(error: BaseException | str, *, name: str | None = None) -> None:
    """Record an error (an exception or a message) without raising anything."""
    info = error_info(error)
    emit_event("error", name or info["type"], {}, status="error", error=info)


def add_event(event: Event | TextEvent | DiskEvent) -> None:
    """Record a ``TextEvent``, ``DiskEvent`` or a custom ``Event(type=..., data=...)``."""
    from ._events import DiskEvent, Event, TextEvent

    if not isinstance(event, (Event, TextEvent, DiskEvent)):
        warn_once(
            "add_event_type", "agentlog: add_event() takes Event, TextEvent or DiskEvent, not %s",
            type(event).__name__, exc_info=False,
        )  # fmt: skip
        return
    emit_event(event.type, event.name, event.to_data())


def _role(blob: Any, fmt: str) -> str:
    role = None
    if isinstance(blob, dict):
        role = blob.get("role")
    else:
        role = getattr(blob, "role", None)
    if isinstance(role, str) and role:
        return role
    return "user" if fmt == "raw" else "unknown"


def store_message(
    blob: Any, format: str = "openai", *, role: str | None = None, session_id: str | None = None
) -> None:
    """Store a chat message (OpenAI or Anthropic shape, or raw) on the current session."""
    pipeline = STATE.pipeline
    if pipeline is None:
        return
    try:
        if format not in ("openai", "anthropic", "raw"):
            warn_once(f"msgfmt:{format}", "agentlog: unknown message format %r", format,
                      exc_info=False)  # fmt: skip
            return
        session_id = session_id_or_drop(pipeline, session_id, "store_message")
        if session_id is None:
            return
        ts = now_ns()
        pipeline.emit({
            "v": 1, "kind": "message", "id": format_uuid(new_id(ts)), "session_id": session_id,
            "ts": format_ts(ts), "role": role or _role(blob, format), "format": format,
            "blob": to_jsonable(blob),
        })  # fmt: skip
    except Exception:
        warn_once("store_message", "agentlog: could not store a message")


def instrument(name: str) -> bool:
    """Switch an integration on (``"openai"``, ``"anthropic"``, ``"langchain"``, ``"threading"``)."""
    return _instrument.instrument(name)


def uninstrument(name: str) -> bool:
    return _instrument.uninstrument(name)
