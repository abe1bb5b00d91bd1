"""A fake OpenAI API on a loopback port, answering with the recorded shapes of
``integrations/openai/tests/openai_fakes.py``: chat completions (plain, streamed with the usage
chunk when asked, tool calls) and embeddings. OTLP producers under test call it for real."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integrations" / "openai" / "tests"))
import openai_fakes


async def _chat(request: Request) -> Response:
    body = json.loads(await request.body())
    tool = bool(body.get("tools"))
    if not body.get("stream"):
        return JSONResponse(openai_fakes.chat_completion(tool=tool))
    chunks = openai_fakes.chat_chunks(tool=tool)
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks = [dict(c, usage=None) for c in chunks]
        chunks.append(dict(chunks[-1], choices=[], usage=openai_fakes.USAGE))
    return Response(openai_fakes.sse(chunks), media_type="text/event-stream")


async def _embeddings(request: Request) -> Response:
    return JSONResponse(openai_fakes.embeddings())


def app() -> Any:
    return Starlette(routes=[Route("/v1/chat/completions", _chat, methods=["POST"]),
                             Route("/v1/embeddings", _embeddings, methods=["POST"]),
                             Route("/healthz", lambda r: JSONResponse({}), methods=["GET"])])  # fmt: skip
