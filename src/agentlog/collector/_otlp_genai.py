"""The ``data`` of an ``llm_call`` or ``tool_call`` from a span's GenAI attributes.

Three dialects say the same things under different names; each is read, the first found wins:

- OpenTelemetry GenAI, current: ``gen_ai.input.messages`` / ``gen_ai.output.messages`` /
  ``gen_ai.system_instructions`` (JSON text or structured attributes, on the span or on a span
  event), ``gen_ai.usage.*``, ``gen_ai.request.*``, ``gen_ai.response.*``;
- the deprecated flattened form (OpenLLMetry still writes it): ``gen_ai.prompt.N.*``,
  ``gen_ai.completion.N.*``, ``llm.usage.*``, ``gen_ai.usage.prompt_tokens``;
- OpenInference: ``llm.input_messages.N.message.*``, ``llm.output_messages.N.message.*``,
  ``llm.token_count.*``, ``llm.model_name``, ``input.value`` / ``output.value``.

Messages come out in the OpenAI chat shape agentlog records everywhere (``role``, ``content``,
``tool_calls`` [{id, name, arguments}], ``tool_call_id``).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

__all__ = [
    "CONSUMED_PREFIXES",
    "FIRST_CHUNK_EVENTS",
    "indexed",
    "llm_data",
    "parse_json",
    "tool_data",
]

# Attributes folded into messages/response: not repeated under data.attributes.
CONSUMED_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.",
                     "llm.output_messages.", "gen_ai.input.messages", "gen_ai.output.messages",
                     "gen_ai.system_instructions", "input.value", "output.value",
                     "llm.tools.", "llm.request.functions.", "gen_ai.tool.definitions")  # fmt: skip

# Span events that mark streamed chunks (OpenInference's first token, OpenLLMetry's every chunk):
# the first gives the time to first token; they are not kept under data.events.
FIRST_CHUNK_EVENTS = ("First Token Stream Event", "gen_ai.content.completion.chunk")

_INDEX = re.compile(r"(\d+)\.(.+)")

_USAGE = {  # agentlog key: attribute names, preferred first
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                     "llm.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.usage.completion_tokens", "llm.token_count.completion"),
    "total_tokens": ("gen_ai.usage.total_tokens", "llm.usage.total_tokens",
                     "llm.token_count.total"),
    "cache_read_tokens": ("gen_ai.usage.cache_read.input_tokens",
                          "gen_ai.usage.cache_read_input_tokens",
                          "llm.token_count.prompt_details.cache_read"),
    "cache_write_tokens": ("gen_ai.usage.cache_creation.input_tokens",
                           "gen_ai.usage.cache_creation_input_tokens",
                           "llm.token_count.prompt_details.cache_write"),
    "reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens",
                         "gen_ai.usage.reasoning_tokens", "llm.usage.reasoning_tokens",
                         "llm.token_count.completion_details.reasoning"),
}  # fmt: skip

_PARAMS = tuple((k, f"gen_ai.request.{k}") for k in (
    "temperature", "top_p", "top_k", "max_tokens", "frequency_penalty", "presence_penalty",
    "seed", "stop_sequences", "choice.count"))  # fmt: skip


def parse_json(value: Any) -> Any:
    """A JSON text as its value; anything else (or text that is not JSON) as it is."""
    if isinstance(value, str) and value[:1] in ("{", "[", '"'):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def indexed(attrs: dict[str, Any], prefix: str, *first: str) -> list[dict[str, Any]]:
    """``prefix.0.role``, ``prefix.0.content``, ``prefix.1.role`` -> [{role, content}, {role}].
    With ``first`` (keys of item 0, e.g. ``role``), attributes are scanned only when one of
    them is there: a dict lookup instead of a pass over every attribute, on the hot path."""
    if first and not any(prefix + "0." + key in attrs for key in first):
        return []
    found: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            m = _INDEX.fullmatch(key[len(prefix) :])
            if m:
                found.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [found[i] for i in sorted(found)]


def _first(attrs: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value
    return None


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    args = parse_json(arguments) if isinstance(arguments, str) else arguments
    return {"id": call_id, "name": name, "arguments": args}


# -- current GenAI: structured messages with parts ---------------------------------------------


def _from_parts(msg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": msg.get("role") or "user"}
    texts: list[str] = []
    other: list[Any] = []
    calls = []
    for part in msg.get("parts") or ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("content") or ""))
        elif kind == "tool_call":
            calls.append(_tool_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind == "tool_call_response":
            out["role"] = "tool" if out["role"] == "user" else out["role"]
            out["tool_call_id"] = part.get("id")
            texts.append(part["response"] if isinstance(part.get("response"), str)
                         else orjson.dumps(part.get("response")).decode())  # fmt: skip
        else:
            other.append(part)
    if other:  # images, reasoning, files: kept as parts beside the text
        out["content"] = [{"type": "text", "text": t} for t in texts] + other
    else:
        out["content"] = "".join(texts) if texts else None
    if calls:
        out["tool_calls"] = calls
    if msg.get("finish_reason"):
        out["finish_reason"] = msg["finish_reason"]
    return out


def _structured(value: Any) -> list[dict[str, Any]] | None:
    value = parse_json(value)
    if not isinstance(value, list):
        return None
    return [_from_parts(m) if "parts" in m else dict(m) for m in value if isinstance(m, dict)]


def _system(value: Any) -> dict[str, Any] | None:
    value = parse_json(value)
    if isinstance(value, list):
        text = "".join(str(p.get("content") or "") for p in value
                       if isinstance(p, dict) and p.get("type") == "text")  # fmt: skip
        return {"role": "system", "content": text}
    if isinstance(value, str) and value:
        return {"role": "system", "content": value}
    return None


# -- deprecated flattened messages (gen_ai.prompt.N.*) and OpenInference ------------------------


def _flat(items: list[dict[str, Any]], *, oi: bool) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if oi:  # llm.input_messages.N.message.role -> role
            item = {k[len("message.") :]: v for k, v in item.items() if k.startswith("message.")}
        msg: dict[str, Any] = {"role": item.get("role") or "user"}
        content = item.get("content")
        if content is None:
            parts = indexed(item, "contents.")
            texts = [str(p.get("message_content.text") or "") for p in parts
                     if p.get("message_content.type", "text") == "text"]  # fmt: skip
            content = "".join(texts) if parts else None
        msg["content"] = parse_json(content) if isinstance(content, str) and \
            content[:1] == "[" else content  # fmt: skip
        pre = "tool_call." if oi else ""
        calls = [_tool_call(c.get(f"{pre}id"), c.get(f"{pre}function.name", c.get("name")),
                            c.get(f"{pre}function.arguments", c.get("arguments")))
                 for c in indexed(item, "tool_calls.")]  # fmt: skip
        if calls:
            msg["tool_calls"] = calls
        if item.get("tool_call_id"):
            msg["tool_call_id"] = item["tool_call_id"]
        if item.get("finish_reason"):
            msg["finish_reason"] = item["finish_reason"]
        out.append(msg)
    return out


def _messages_from_events(events: list[tuple[str, int, dict[str, Any]]]) -> tuple[Any, Any, Any]:
    inp = out = system = None
    for name, _ts, attrs in events:
        inp = inp or _structured(attrs.get("gen_ai.input.messages"))
        out = out or _structured(attrs.get("gen_ai.output.messages"))
        system = system or _system(attrs.get("gen_ai.system_instructions"))
        if name == "gen_ai.content.prompt" and inp is None:  # an early convention
            inp = _structured(attrs.get("gen_ai.prompt"))
        if name == "gen_ai.content.completion" and out is None:
            out = _structured(attrs.get("gen_ai.completion"))
    return inp, out, system


def _usage(attrs: dict[str, Any]) -> dict[str, int]:
    usage: dict[str, int] = {}
    for key, names in _USAGE.items():
        for name in names:
            value = attrs.get(name)
            if value is not None:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    usage[key] = int(value)
                break
    if "total_tokens" not in usage and "input_tokens" in usage and "output_tokens" in usage:
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return usage


def _response(output: list[dict[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """The answer's text (first choice) and its tool calls, as agentlog records them."""
    if not output:
        return None, []
    first = output[0]
    calls = [dict(c) for c in first.get("tool_calls") or ()]
    return first.get("content"), calls


def llm_data(attrs: dict[str, Any], events: list[tuple[str, int, dict[str, Any]]],
             start_ns: int, operation: str) -> dict[str, Any]:  # fmt: skip
    ev_in, ev_out, ev_system = _messages_from_events(events)
    messages = _structured(attrs.get("gen_ai.input.messages")) or ev_in \
        or _flat(indexed(attrs, "gen_ai.prompt.", "role", "content"), oi=False) \
        or _flat(indexed(attrs, "llm.input_messages.", "message.role"), oi=True)  # fmt: skip
    output = _structured(attrs.get("gen_ai.output.messages")) or ev_out \
        or _flat(indexed(attrs, "gen_ai.completion.", "role", "content"), oi=False) \
        or _flat(indexed(attrs, "llm.output_messages.", "message.role"), oi=True)  # fmt: skip
    system = _system(attrs.get("gen_ai.system_instructions")) or ev_system
    if system and not any(m.get("role") == "system" for m in messages):
        messages = [system, *messages]
    if not messages and attrs.get("input.value") is not None:  # OpenInference without messages
        raw = parse_json(attrs["input.value"])
        messages = raw.get("messages") if isinstance(raw, dict) and \
            isinstance(raw.get("messages"), list) else raw  # fmt: skip
    response, tool_calls = _response(output)
    if response is None and not tool_calls and attrs.get("output.value") is not None:
        response = parse_json(attrs["output.value"])
    inv = parse_json(attrs.get("llm.invocation_parameters"))  # OpenInference: the request
    inv = inv if isinstance(inv, dict) else {}
    request_model = _first(attrs, "gen_ai.request.model", "llm.request.model") or \
        inv.get("model") or _first(attrs, "llm.model_name", "embedding.model_name")  # fmt: skip
    data: dict[str, Any] = {
        "provider": _first(attrs, "gen_ai.provider.name", "gen_ai.system", "llm.provider",
                           "llm.system"),
        "request_model": request_model,
        "model": _first(attrs, "gen_ai.response.model", "llm.response.model", "llm.model_name")
        or request_model,
        "operation": operation,
        "messages": messages or None,
        "response": response,
        "tool_calls": tool_calls,
        "usage": _usage(attrs),
    }  # fmt: skip
    if len(output) > 1:
        data["choices"] = output
    params = {k: attrs[name] for k, name in _PARAMS if name in attrs}
    if inv:
        params = {**{k: v for k, v in inv.items() if k != "model"}, **params}
    if params:
        data["params"] = params
    tools = parse_json(attrs.get("gen_ai.tool.definitions")) or \
        [parse_json(t.get("tool.json_schema")) for t in indexed(attrs, "llm.tools.",
                                                                "tool.json_schema")] or \
        indexed(attrs, "llm.request.functions.", "name")  # fmt: skip
    if tools:
        data["tools"] = tools
    for key, names in (("response_id", ("gen_ai.response.id",)),
                       ("finish_reasons", ("gen_ai.response.finish_reasons",))):  # fmt: skip
        value = _first(attrs, *names)
        if value is not None:
            data[key] = value
    stream = _first(
        attrs,
        "gen_ai.request.stream",
        "gen_ai.is_streaming",
        "llm.is_streaming",
        "agentlog.llm.stream",
    )
    stream = inv.get("stream") if stream is None else stream
    if stream is not None:
        data["stream"] = bool(stream)
    data["time_to_first_token_ms"] = _ttft(attrs, events, start_ns)
    if data["time_to_first_token_ms"] is not None and stream is None:
        data["stream"] = True
    return data


def _ttft(attrs: dict[str, Any], events: list[tuple[str, int, dict[str, Any]]],
          start_ns: int) -> float | None:  # fmt: skip
    ms = attrs.get("agentlog.llm.time_to_first_token_ms")
    if isinstance(ms, (int, float)):
        return float(ms)
    secs = _first(attrs, "gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token",
                  "llm.response.time_to_first_token")  # fmt: skip
    if isinstance(secs, (int, float)):
        return float(secs) * 1000.0
    for name, ts, _attrs in events:  # OpenInference marks the first streamed token with an event
        if name in FIRST_CHUNK_EVENTS and ts >= start_ns:
            return (ts - start_ns) / 1e6
    return None


def tool_data(attrs: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    arguments = _first(attrs, "gen_ai.tool.call.arguments", "tool.parameters", "input.value",
                       "traceloop.entity.input")  # fmt: skip
    result = _first(attrs, "gen_ai.tool.call.result", "output.value", "traceloop.entity.output")
    data["input"] = parse_json(arguments)
    data["output"] = parse_json(result)
    for key, names in (("call_id", ("gen_ai.tool.call.id", "tool_call.id")),
                       ("description", ("gen_ai.tool.description", "tool.description")),
                       ("tool_type", ("gen_ai.tool.type",))):  # fmt: skip
        value = _first(attrs, *names)
        if value is not None:
            data[key] = value
    return data
