"""A weather agent on the Anthropic SDK with a streamed tool loop, traced by agentlog with no
code change to the model calls: ``agentlog.init(instrument=["anthropic"])`` is all it takes.

    pip install ./integrations/anthropic   # from a checkout (or: pip install agentlog-anthropic)
    python examples/anthropic_agent.py

With ``ANTHROPIC_API_KEY`` set it talks to the real API (model: ``ANTHROPIC_MODEL``, default
claude-haiku-4-5); without one it starts a small fake Messages API server on 127.0.0.1 that
streams server-sent events, and talks to that. Either way it records to ./.agentlog/ and prints the session's timeline, as
``agentlog timeline SESSION`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic

import agentlog

TOOLS: list[Any] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


@agentlog.tool
def get_weather(city: str) -> dict[str, Any]:
    forecasts = {"paris": (18, "light rain"), "tokyo": (24, "clear")}
    temp, sky = forecasts.get(city.lower(), (20, "cloudy"))
    return {"city": city, "temperature_c": temp, "sky": sky}


def run_agent(client: anthropic.Anthropic, model: str, question: str) -> str:
    messages: list[Any] = [{"role": "user", "content": question}]
    for _ in range(5):
        with client.messages.stream(model=model, max_tokens=512, tools=TOOLS, messages=messages,
                                    system="Answer weather questions with get_weather.") as stream:  # fmt: skip
            for text in stream.text_stream:
                print(text, end="", flush=True)
            reply = stream.get_final_message()
        print()
        uses = [block for block in reply.content if block.type == "tool_use"]
        if not uses:
            return "".join(block.text for block in reply.content if block.type == "text")
        messages.append({"role": "assistant", "content": reply.content})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": use.id,
             "content": json.dumps(get_weather(**use.input))}
            for use in uses
        ]})  # fmt: skip
    return "(gave up after 5 turns)"


# -- the local stand-in for the API, used when no key is set ---------------------------------


def _events(blocks: list[dict[str, Any]], stop: str) -> list[dict[str, Any]]:
    """The server-sent events the Messages API streams for a reply made of ``blocks``."""
    start = {"id": "msg_local", "type": "message", "role": "assistant", "model": "fake-claude",
             "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": 40, "output_tokens": 1,
                       "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}  # fmt: skip
    out: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            out.append({"type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}})  # fmt: skip
            for word in block["text"].split(" "):
                out.append({"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": word + " "}})  # fmt: skip
        else:
            out.append({"type": "content_block_start", "index": index,
                        "content_block": dict(block, input={})})  # fmt: skip
            out.append({"type": "content_block_delta", "index": index,
                        "delta": {"type": "input_json_delta",
                                  "partial_json": json.dumps(block["input"])}})  # fmt: skip
        out.append({"type": "content_block_stop", "index": index})
    out.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 15}})  # fmt: skip
    out.append({"type": "message_stop"})
    return out


class _FakeAnthropic(BaseHTTPRequestHandler):
    """Asks for the tool once, then answers from the tool's result; always streams."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        last = body["messages"][-1]["content"]
        results = (
            [b for b in last if b.get("type") == "tool_result"] if isinstance(last, list) else []
        )
        if results:
            weather = json.loads(results[-1]["content"])
            text = f"It is {weather['temperature_c']}°C with {weather['sky']} in {weather['city']}."
            events = _events([{"type": "text", "text": text}], "end_turn")
        else:
            use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                   "input": {"city": "Paris"}}  # fmt: skip
            events = _events([{"type": "text", "text": "Let me check."}, use], "tool_use")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for event in events:
            self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the example's output to the agent and its timeline


def _local_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeAnthropic)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def print_timeline(session_id: str) -> None:
    """Read the session back as a user would: ``agentlog timeline`` over ./.agentlog."""
    print(flush=True)
    subprocess.run([sys.executable, "-m", "agentlog.cli", "timeline", session_id], check=False)


def main() -> None:
    agentlog.init(instrument=["anthropic"])
    server = None
    if os.environ.get("ANTHROPIC_API_KEY"):
        client = anthropic.Anthropic()
        model = os.environ.get("ANTHROPIC_MODEL", "claude-haiku-4-5")
    else:
        server = _local_server()
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        client, model = (
            anthropic.Anthropic(api_key="sk-ant-local", base_url=base_url),
            "claude-haiku-4-5",
        )
        print(f"no ANTHROPIC_API_KEY: using a local fake server at {base_url}")
    try:
        with agentlog.session("Weather agent (Anthropic)", user="example") as session:
            print("agent:", run_agent(client, model, "What's the weather in Paris?"))
    finally:
        if server is not None:
            server.shutdown()
    agentlog.shutdown()  # everything written to ./.agentlog/events.jsonl
    print_timeline(session.id)


if __name__ == "__main__":
    main()
