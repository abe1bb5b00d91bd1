"""What a decorated call records: its arguments by name, and each event type's ``data``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from ._llm_data import usage_from

__all__ = ["DataFn", "arg_binder", "decision_data", "io_data", "llm_data", "sole_parameter"]

DataFn = Callable[[dict[str, Any], Any], dict[str, Any]]


def io_data(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
    return {"input": inputs, "output": output}


def decision_data(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"inputs": inputs, "options": inputs.get("options"), "choice": output}
    if isinstance(output, dict) and "choice" in output:
        data.update(
            choice=output.get("choice"),
            reasoning=output.get("reasoning"),
            confidence=output.get("confidence"),
        )
    return data


def usage_of(obj: Any) -> dict[str, Any] | None:
    """The ``usage`` a returned response carries, in the shape every ``llm_call`` shares."""
    reported = obj.get("usage") if isinstance(obj, dict) else getattr(obj, "usage", None)
    return usage_from(reported)


def llm_data(model: str | None, provider: str | None) -> DataFn:
    def make(inputs: dict[str, Any], output: Any) -> dict[str, Any]:
        params = {k: v for k, v in inputs.items() if k not in ("messages", "prompt", "model")}
        response = output
        if isinstance(output, list) and output and all(isinstance(x, str) for x in output):
            response = "".join(output)  # a streamed text response, chunk by chunk
        asked = model or inputs.get("model")
        answered = (
            output.get("model") if isinstance(output, dict) else getattr(output, "model", None)
        )
        return {
            "provider": provider,
            "request_model": asked,
            "model": answered if isinstance(answered, str) and answered else asked,
            "messages": inputs.get("messages", inputs.get("prompt")),
            "response": response,
            "tool_calls": None,
            "usage": usage_of(output),
            "params": params,
            "stream": isinstance(output, list),
        }

    return make


class _Shape(NamedTuple):
    """What binding a call's arguments needs to know of a signature."""

    names: list[str]  # positional parameters, without ``self``/``cls``
    skip: int  # 1 with ``self``/``cls`` first
    n: int  # positional parameters in all
    varargs: str | None
    defaults: dict[str, Any]  # parameters with a default (recorded when left at it)
    order: list[str]


def _shape(fn: Callable[..., Any]) -> _Shape | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    skip = 1 if params and params[0].name in ("self", "cls") else 0
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # Parameters left at their defaults are recorded with them: ``options=("a", "b")`` is as
    # much an input of the call as an argument passed.
    defaults = {
        p.name: p.default for p in params[skip:]
        if p.default is not p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }  # fmt: skip
    return _Shape(
        names=positional[skip:],
        skip=skip,
        n=len(positional),
        varargs=next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None),
        defaults=defaults,
        order=[p.name for p in params[skip:] if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)],
    )


def sole_parameter(fn: Callable[..., Any]) -> str | None:
    """The name a call of ``fn`` with one positional argument and no keywords records that
    argument under, when that is all its inputs are (``{name: arg}``); else None."""
    return _sole(_shape(fn))


def _sole(shape: _Shape | None) -> str | None:
    if shape is None or shape.defaults or shape.skip or len(shape.names) != 1:
        return None
    return shape.names[0]


def arg_binder(
    fn: Callable[..., Any],
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    """Map call arguments to parameter names, computed once per decorated function."""
    shape = _shape(fn)
    if shape is None:
        return lambda args, kwargs: {"args": list(args), **kwargs}
    names, skip, n, varargs, defaults, order = shape

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        out = dict(zip(names, args[skip:n]))  # noqa: B905 - fewer args than names is normal
        if len(args) > n:
            out[varargs or "args"] = list(args[n:])
        if kwargs:
            out.update(kwargs)
        return out

    if defaults:
        plain = bind

        def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            got = plain(args, kwargs)
            if all(k in got for k in defaults):
                return got
            # In signature order, then anything else (extra positionals, **kwargs).
            out = {
                k: got[k] if k in got else defaults[k] for k in order if k in got or k in defaults
            }
            out.update((k, v) for k, v in got.items() if k not in out)
            return out

    elif (only := _sole(shape)) is not None:
        # One parameter, passed positionally: the most common tool shape gets its own path.

        def bind_one(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            if len(args) == 1 and not kwargs:
                return {only: args[0]}
            return bind(args, kwargs)

        return bind_one
    return bind
