"""Recorded-shape Anthropic Messages API responses for respx routes: JSON and SSE streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
from agentlog_testsupport.respx_httpx2 import FailingBody

BASE = "https://api.anthropic.com"
MODEL = "claude-sonnet-5-5-20261001"
USAGE = {"input_tokens": 25, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 100,
         "output_tokens": 15}  # fmt: skip
# What the event says for USAGE: the whole prompt as input, cache reads and writes kept apart.
RECORDED_USAGE = {"input_tokens": 135, "output_tokens": 15, "total_tokens": 150,
                  "cache_read_tokens": 100, "cache_write_tokens": 10}  # fmt: skip


def message(*, tool: bool = False) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": "Hello there!"}]
    if tool:
        content = [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
             "input": {"city": "Paris"}},
        ]  # fmt: skip
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": USAGE,
    }


def events(*, tool: bool = False) -> list[dict[str, Any]]:
    start = dict(message(), content=[], stop_reason=None,
                 usage=dict(USAGE, output_tokens=1))  # fmt: skip
    out: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    words = ["Let me", " check."] if tool else ["Hel", "lo", " there", "!"]
    for word in words:
        out.append({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": word}})  # fmt: skip
    out.append({"type": "content_block_stop", "index": 0})
    if tool:
        out.append({"type": "content_block_start", "index": 1,
                    "content_block": {"type": "tool_use", "id": "toolu_01",
                                      "name": "get_weather", "input": {}}})  # fmt: skip
        for piece in ['{"ci', 'ty": "Pa', 'ris"}']:
            out.append({"type": "content_block_delta", "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": piece}})  # fmt: skip
        out.append({"type": "content_block_stop", "index": 1})
    out.append({"type": "message_delta",
                "delta": {"stop_reason": "tool_use" if tool else "end_turn",
                          "stop_sequence": None},
                "usage": {"output_tokens": USAGE["output_tokens"]}})  # fmt: skip
    out.append({"type": "message_stop"})
    return out


def sse(items: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in items).encode()


def stream_response(
    items: list[dict[str, Any]], *, fail_after: int | None = None
) -> httpx.Response:
    headers = {"content-type": "text/event-stream"}
    if fail_after is None:
        return httpx.Response(200, headers=headers, content=sse(items))
    return httpx.Response(200, headers=headers, stream=FailingBody(sse(items[:fail_after])))


def error_response(status: int) -> httpx.Response:
    return httpx.Response(status, json={"type": "error", "error": {"type": "overloaded_error",
                                                                   "message": "Overloaded"}})  # fmt: skip
