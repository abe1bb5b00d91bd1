"""One model call is one ``llm_call``: mark the model's own work as recorded by LangChain.

The callback handler records the call, so provider wrappers underneath (OpenAI, Anthropic)
must stay silent while it runs: they check ``agentlog._context.llm_recorded_by()``. The
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

from agentlog._context import llm_owner_var

__all__ = ["OWNER", "owned", "patch_models", "unpatch_models"]

OWNER = "langchain"
_MARK = "__agentlog_langchain__"
# Off after uninstrument(): a wrapper someone else wrapped over stays in place, so it must
# become a plain pass-through rather than be removed.
_enabled = False

# (module, class, method): where every chat model / LLM call passes. Missing names are skipped
# so a langchain-core release that renames one degrades to recording both, never to breaking.
_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_generate_with_cache"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_agenerate_with_cache"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "stream"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "astream"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_iter_v2_events"),
    ("langchain_core.language_models.chat_models", "BaseChatModel", "_aiter_v2_events"),
    ("langchain_core.language_models.llms", "BaseLLM", "_generate_helper"),
    ("langchain_core.language_models.llms", "BaseLLM", "_agenerate_helper"),
    ("langchain_core.language_models.llms", "BaseLLM", "stream"),
    ("langchain_core.language_models.llms", "BaseLLM", "astream"),
)


class owned:
    """Mark the enclosed work as a model call LangChain records (no yield inside)."""

    __slots__ = ("_token",)

    _token: Any

    def __enter__(self) -> None:
        self._token = llm_owner_var.set(OWNER) if _enabled else None

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            llm_owner_var.reset(self._token)


def _wrap_gen(
    fn: Callable[..., Generator[Any, Any, Any]],
) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        with owned():
            gen = fn(*args, **kwargs)
        try:
            while True:
                with owned():
                    try:
                        item = next(gen)
                    except StopIteration as stop:
                        return stop.value
                yield item
        finally:
            # Break, close() or garbage collection: the model's own cleanup (closing the
            # HTTP stream, on_llm_error) runs marked as well.
            with owned():
                gen.close()

    return wrapper


def _wrap_agen(
    fn: Callable[..., AsyncGenerator[Any, Any]],
) -> Callable[..., AsyncGenerator[Any, Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        with owned():
            agen = fn(*args, **kwargs)
        try:
            while True:
                with owned():
                    try:
                        item = await agen.__anext__()
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            with owned():
                await agen.aclose()

    return wrapper


def _wrap_coro(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with owned():
            return await fn(*args, **kwargs)

    return wrapper


def _wrap_sync(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with owned():
            return fn(*args, **kwargs)

    return wrapper


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    wrapped: Callable[..., Any]
    if inspect.isasyncgenfunction(fn):
        wrapped = _wrap_agen(fn)
    elif inspect.isgeneratorfunction(fn):
        wrapped = _wrap_gen(fn)
    elif inspect.iscoroutinefunction(fn):
        wrapped = _wrap_coro(fn)
    else:
        wrapped = _wrap_sync(fn)
    setattr(wrapped, _MARK, True)
    return wrapped


def _classes() -> Iterator[tuple[type, str]]:
    import importlib

    for module_name, class_name, method in _TARGETS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if method in cls.__dict__:
            yield cls, method


def patch_models() -> None:
    global _enabled
    _enabled = True
    for cls, method in _classes():
        current = cls.__dict__[method]
        if not getattr(current, _MARK, False):
            setattr(cls, method, _wrap(current))


def unpatch_models() -> None:
    """Restore the originals, but only where our wrapper is still the outermost one."""
    global _enabled
    _enabled = False
    for cls, method in _classes():
        current = cls.__dict__[method]
        if getattr(current, _MARK, False):
            setattr(cls, method, current.__wrapped__)
