"""Recorded-shape OpenAI API responses for respx routes: JSON bodies and SSE streams.

The chat stream honours ``stream_options.include_usage`` the way the API does: ``"usage": null``
on every chunk and one extra, usage-only chunk at the end; without it neither is sent.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from respx_httpx2 import FailingBody

BASE = "https://api.openai.com/v1"

USAGE = {
    "prompt_tokens": 21,
    "completion_tokens": 9,
    "total_tokens": 30,
    "prompt_tokens_details": {"cached_tokens": 16, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 4, "audio_tokens": 0},
}


def chat_completion(*, content: str | None = "Hello there!", tool: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool else "stop",
            }
        ],
        "usage": USAGE,
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def chat_chunks(*, words: list[str] | None = None, tool: bool = False) -> list[dict[str, Any]]:
    """Text (or a tool call whose name and arguments arrive in pieces), then a finish chunk."""
    chunks = [_chunk({"role": "assistant", "content": "" if not tool else None})]
    if tool:
        chunks.append(_chunk({"tool_calls": [{"index": 0, "id": "call_abc", "type": "function",
                                              "function": {"name": "get_weather",
                                                           "arguments": ""}}]}))  # fmt: skip
        for piece in ['{"ci', 'ty": ', '"Par', 'is"}']:
            chunks.append(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        chunks.append(_chunk({}, "tool_calls"))
    else:
        for word in words if words is not None else ["Hel", "lo", " there", "!"]:
            chunks.append(_chunk({"content": word}))
        chunks.append(_chunk({}, "stop"))
    return chunks


def sse(events: list[dict[str, Any]], *, done: bool = True, named: bool = False) -> bytes:
    lines = []
    for event in events:
        if named:
            lines.append(f"event: {event['type']}\n")
        lines.append(f"data: {json.dumps(event)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def chat_stream_response(
    request: httpx.Request, chunks: list[dict[str, Any]], *, fail_after: int | None = None
) -> httpx.Response:
    """A chat SSE response as the API would send it for ``request``'s stream options.

    ``fail_after``: the connection drops after that many chunks (a stream failing half-way).
    """
    body = json.loads(request.content)
    with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    events = [dict(c, usage=None) if with_usage else c for c in chunks]
    if with_usage:
        final = dict(chunks[-1], choices=[], usage=USAGE)
        events.append(final)
    if fail_after is None:
        return httpx.Response(200, headers={"content-type": "text/event-stream"},
                              content=sse(events))  # fmt: skip
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          stream=FailingBody(sse(events[:fail_after], done=False)))  # fmt: skip


def response_object(*, tool: bool = False, status: str = "completed") -> dict[str, Any]:
    output: list[dict[str, Any]]
    if tool:
        output = [{"type": "function_call", "id": "fc_1", "call_id": "call_xyz",
                   "name": "get_weather", "arguments": '{"city": "Paris"}',
                   "status": "completed"}]  # fmt: skip
    else:
        output = [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": "Hi from responses",
                                "annotations": []}]}]  # fmt: skip
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "gpt-4.1-2025-04-14",
        "output": output if status == "completed" else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 8},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 2},
            "total_tokens": 17,
        },
    }


def responses_events(*, tool: bool = False) -> list[dict[str, Any]]:
    created = dict(response_object(status="in_progress"), usage=None)
    events: list[dict[str, Any]] = [{"type": "response.created", "sequence_number": 0,
                                     "response": created}]  # fmt: skip
    if tool:
        item = {"type": "function_call", "id": "fc_1", "call_id": "call_xyz",
                "name": "get_weather", "arguments": "", "status": "in_progress"}  # fmt: skip
        events.append({"type": "response.output_item.added", "sequence_number": 1,
                       "output_index": 0, "item": item})  # fmt: skip
        for i, piece in enumerate(['{"city"', ': "Par', 'is"}']):
            events.append({"type": "response.function_call_arguments.delta", "item_id": "fc_1",
                           "output_index": 0, "sequence_number": 2 + i, "delta": piece})  # fmt: skip
    else:
        for i, piece in enumerate(["Hi ", "from ", "responses"]):
            events.append({"type": "response.output_text.delta", "item_id": "msg_1",
                           "output_index": 0, "content_index": 0, "delta": piece,
                           "sequence_number": 1 + i, "logprobs": []})  # fmt: skip
    events.append({"type": "response.completed", "sequence_number": 9,
                   "response": response_object(tool=tool)})  # fmt: skip
    return events


def embeddings() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in (0, 1)],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 6, "total_tokens": 6},
    }


def error_body(status: int) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": "Rate limit reached", "type":
                                                  "requests", "param": None,
                                                  "code": "rate_limit_exceeded"}})  # fmt: skip
