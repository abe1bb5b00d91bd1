"""One model call is one ``llm_call``: mark the model's own work as recorded by LangChain.

The callback handler records the call, so provider wrappers underneath (OpenAI, Anthropic)
must stay silent while it runs: they check ``agentlog.instrumentation.llm_recorded_by()``. The
callbacks cannot set that variable themselves: on the async path LangChain runs
``on_llm_end`` in a shielded task with a copy of the context, so a value set in
``on_chat_model_start`` would never be cleared in the caller's task and would silence
unrelated provider calls made later. Instead the base-class entry points that run the model
(and through it the HTTP request) are wrapped to set the variable around exactly that work,
in the context that does it. Generators get it around each step only, never across a
``yield``, so the consumer's code between chunks is not marked.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from typing import Any
from uuid import UUID

from agentlog.instrumentation import recorded_by, recording

from ._usage import Ask, asking, hide_chunk, strip_result

__all__ = ["OWNER", "owned", "patch_models", "unpatch_models"]

OWNER = "langchain"
_MARK = "__agentlog_langchain__"
# Off after uninstrument(): a wrapper someone else wrapped over stays in place, so it must
# become a plain pass-through rather than be removed.
_enabled = False
# Where usage agentlog asked for on a streaming invoke() goes (the handler's run map).
_keep_usage: Callable[[UUID, Any], None] | None = None

# (module, class, method, role): where every chat model / LLM call passes. Missing names are
# skipped so a langchain-core release that renames one degrades to recording both, never to
# breaking. Role "stream": chunks the caller sees, "generate": a ChatResult with its run
# manager (both may carry streamed usage agentlog asked for, see ``_usage``).
_CHAT = "langchain_core.language_models.chat_models"
_LLM = "langchain_core.language_models.llms"
_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    (_CHAT, "BaseChatModel", "_generate_with_cache", "generate"),
    (_CHAT, "BaseChatModel", "_agenerate_with_cache", "generate"),
    (_CHAT, "BaseChatModel", "stream", "stream"),
    (_CHAT, "BaseChatModel", "astream", "stream"),
    (_CHAT, "BaseChatModel", "_iter_v2_events", ""),
    (_CHAT, "BaseChatModel", "_aiter_v2_events", ""),
    (_LLM, "BaseLLM", "_generate_helper", ""),
    (_LLM, "BaseLLM", "_agenerate_helper", ""),
    (_LLM, "BaseLLM", "stream", ""),
    (_LLM, "BaseLLM", "astream", ""),
)


class owned:
    """Mark the enclosed work as a model call LangChain records (no yield inside); with an
    ``Ask``, the model may also ask for streamed usage on the caller's behalf."""

    __slots__ = ("_ask", "_mark", "_token")

    def __init__(self, ask: Ask | None = None) -> None:
        self._mark = recorded_by(OWNER, active=_enabled)
        self._ask = ask
        self._token: Any = None

    def __enter__(self) -> None:
        self._mark.__enter__()
        if self._ask is not None:
            self._token = asking.set(self._ask)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            asking.reset(self._token)
            self._token = None
        self._mark.__exit__(*exc)


def _ask(role: str) -> Ask | None:
    """A fresh ``Ask`` for a call that may stream, while agentlog records; else None."""
    return Ask() if role and _enabled and recording() else None


def _run_manager(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # _generate_with_cache(self, messages, stop=None, run_manager=None, **kwargs)
    return kwargs.get("run_manager", args[3] if len(args) > 3 else None)


def _finish(ask: Ask | None, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    keep = _keep_usage
    if ask is None or not ask.asked or keep is None:
        return result
    return strip_result(result, _run_manager(args, kwargs), keep)


def _wrap_gen(
    fn: Callable[..., Generator[Any, Any, Any]], role: str
) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        ask = _ask(role)
        mark = owned(ask)  # one per call: its steps run one after another, never nested
        with mark:
            gen = fn(*args, **kwargs)
        try:
            while True:
                with mark:
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        return stop.value
                if ask is not None and ask.asked:
                    item = hide_chunk(item)
                    if item is None:
                        continue
                yield item
        finally:
            # Break, close() or garbage collection: the model's own cleanup (closing the
            # HTTP stream, on_llm_error) runs marked as well.
            with mark:
                gen.close()

    return wrapper


def _wrap_agen(
    fn: Callable[..., AsyncGenerator[Any, Any]], role: str
) -> Callable[..., AsyncGenerator[Any, Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        ask = _ask(role)
        mark = owned(ask)
        with mark:
            agen = fn(*args, **kwargs)
        try:
            while True:
                with mark:
                    try:
                        item = await agen.__anext__()
                    except StopAsyncIteration:
                        return
                if ask is not None and ask.asked:
                    item = hide_chunk(item)
                    if item is None:
                        continue
                yield item
        finally:
            with mark:
                await agen.aclose()

    return wrapper


def _wrap_coro(fn: Callable[..., Any], role: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        ask = _ask(role)
        with owned(ask):
            result = await fn(*args, **kwargs)
        return _finish(ask, result, args, kwargs)

    return wrapper


def _wrap_sync(fn: Callable[..., Any], role: str) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ask = _ask(role)
        with owned(ask):
            result = fn(*args, **kwargs)
        return _finish(ask, result, args, kwargs)

    return wrapper


def _wrap(fn: Callable[..., Any], role: str) -> Callable[..., Any]:
    wrapped: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):
        wrapped = _wrap_agen(fn, role)
    elif inspect.isgeneratorfunction(fn):
        wrapped = _wrap_gen(fn, role)
    elif inspect.iscoroutinefunction(fn):
        wrapped = _wrap_coro(fn, role)
    else:
        wrapped = _wrap_sync(fn, role)
    setattr(wrapped, _MARK, True)
    return wrapped


def _classes() -> Iterator[tuple[type, str, str]]:
    import importlib

    for module_name, class_name, method, role in _TARGETS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if method in cls.__dict__:
            yield cls, method, role


def patch_models(keep_usage: Callable[[UUID, Any], None]) -> None:
    global _enabled, _keep_usage
    _enabled = True
    _keep_usage = keep_usage
    for cls, method, role in _classes():
        current = cls.__dict__[method]
        if not getattr(current, _MARK, False):
            setattr(cls, method, _wrap(current, role))


def unpatch_models() -> None:
    """Restore the originals, but only where our wrapper is still the outermost one."""
    global _enabled, _keep_usage
    _enabled = False
    _keep_usage = None
    for cls, method, _role in _classes():
        current = cls.__dict__[method]
        if getattr(current, _MARK, False):
            setattr(cls, method, current.__wrapped__)
