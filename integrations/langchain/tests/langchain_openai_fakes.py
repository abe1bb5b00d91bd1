"""The OpenAI Chat Completions API faked by respx, for ``langchain-openai``'s ``ChatOpenAI``.

openai 3.x sends through ``httpx2``, which respx does not patch; ChatOpenAI takes explicit
HTTP clients, so it gets ones whose transport hands each request to a respx router (converted
to an ``httpx.Request``) and the route's response back. The transport also notes what
``llm_recorded_by()`` said at the moment the request went out: in the context doing the HTTP call.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import respx

from agentlog.instrumentation import llm_recorded_by

__all__ = [
    "BASE",
    "STREAM_CUT_ERRORS",
    "asks_for_usage",
    "chat_openai",
    "completion",
    "sse",
    "tool_call_completion",
]

BASE = "https://api.openai.com/v1"
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def _http_module() -> Any:
    if int(openai.__version__.split(".")[0]) >= 3:
        import httpx2

        return httpx2
    return httpx


# What a dropped connection mid-stream raises: langchain-openai wraps it (as an
# APIConnectionError subclass) in recent releases, older ones let the transport error through.
STREAM_CUT_ERRORS = (openai.APIConnectionError, _http_module().ReadError)


def chat_openai(
    router: respx.MockRouter, owners: list[str | None], *, cut_after: int | None = None,
    **kwargs: Any,
) -> Any:  # fmt: skip
    """A ChatOpenAI whose HTTP goes to ``router``; ``cut_after``: drop the connection after
    that many bytes of the response body (a stream that fails half-way)."""
    from langchain_openai import ChatOpenAI

    http = _http_module()

    class CutBody(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc, name-defined]
        def __init__(self, body: bytes) -> None:
            self.body = body

        def __iter__(self) -> Any:
            yield self.body[:cut_after]
            raise http.ReadError("connection reset by peer")

        async def __aiter__(self) -> Any:
            yield self.body[:cut_after]
            raise http.ReadError("connection reset by peer")

    def handle(request: Any) -> Any:
        owners.append(llm_recorded_by())
        bridged = httpx.Request(request.method, str(request.url),
                                headers=list(request.headers.raw), content=request.read())  # fmt: skip
        response = router.handler(bridged)
        headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-length"]
        if cut_after is None:
            return http.Response(response.status_code, headers=headers, content=response.read())
        return http.Response(response.status_code, headers=headers,
                             stream=CutBody(response.read()))  # fmt: skip

    transport = http.MockTransport(handle)
    return ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-test", max_retries=0,  # type: ignore[arg-type]
        http_client=http.Client(transport=transport),
        http_async_client=http.AsyncClient(transport=transport), **kwargs,
    )  # fmt: skip


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content}}],
        "usage": USAGE,
    }  # fmt: skip


def tool_call_completion(name: str, args: dict[str, Any]) -> dict[str, Any]:
    body = completion("")
    body["id"] = "chatcmpl-0"
    body["choices"][0]["finish_reason"] = "tool_calls"
    body["choices"][0]["message"] = {
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)}}],
    }  # fmt: skip
    return body


def asks_for_usage(request: httpx.Request) -> bool:
    """Whether a chat request asks for streamed usage (``stream_options.include_usage``)."""
    body = json.loads(request.content or b"{}")
    return bool((body.get("stream_options") or {}).get("include_usage"))


def sse(words: list[str], *, usage: bool = True) -> bytes:
    """A streamed completion: one chunk per word, then (``usage``: as the API does when asked)
    the usage-only chunk, and [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
        choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1700000000,
                "model": "gpt-4o-mini-2024-07-18", "choices": choices, "usage": usage}  # fmt: skip
        return f"data: {json.dumps(body)}\n\n"

    parts = [chunk({"role": "assistant", "content": ""})]
    parts += [chunk({"content": w}) for w in words]
    parts += [chunk({}, "stop")]
    if usage:
        parts.append(chunk({}, usage=USAGE))
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()
