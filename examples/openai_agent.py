"""A weather agent on the OpenAI SDK with a tool loop, traced by agentlog with no code change
to the model calls: ``agentlog.init(instrument=["openai"])`` is all it takes.

    pip install ./integrations/openai      # from a checkout (or: pip install agentlog-openai)
    python examples/openai_agent.py

With ``OPENAI_API_KEY`` set it talks to the real API (model: ``OPENAI_MODEL``, default
gpt-4o-mini); without one it starts a small fake Chat Completions server on 127.0.0.1 and talks
to that. Either way it records to ./.agentlog/ and prints the session's timeline at the end, as
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

import openai

import agentlog

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


@agentlog.tool
def get_weather(city: str) -> dict[str, Any]:
    forecasts = {"paris": (18, "light rain"), "tokyo": (24, "clear")}
    temp, sky = forecasts.get(city.lower(), (20, "cloudy"))
    return {"city": city, "temperature_c": temp, "sky": sky}


def run_agent(client: openai.OpenAI, model: str, question: str) -> str:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Answer weather questions with the get_weather tool."},
        {"role": "user", "content": question},
    ]
    for _ in range(5):
        reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = get_weather(**json.loads(call.function.arguments))
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
    return "(gave up after 5 turns)"


# -- the local stand-in for the API, used when no key is set ---------------------------------


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54},
    }


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Asks for the tool once, then answers from the tool's result."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results = [m for m in body["messages"] if m["role"] == "tool"]
        if results:
            weather = json.loads(results[-1]["content"])
            text = f"It is {weather['temperature_c']}°C with {weather['sky']} in {weather['city']}."
            reply = _completion({"role": "assistant", "content": text}, "stop")
        else:
            call = {"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}  # fmt: skip
            reply = _completion({"role": "assistant", "content": None, "tool_calls": [call]},
                                "tool_calls")  # fmt: skip
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the example's output to the agent and its timeline


def _local_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def print_timeline(session_id: str) -> None:
    """Read the session back as a user would: ``agentlog timeline`` over ./.agentlog."""
    print(flush=True)
    subprocess.run([sys.executable, "-m", "agentlog.cli", "timeline", session_id], check=False)


def main() -> None:
    agentlog.init(instrument=["openai"])
    server = None
    if os.environ.get("OPENAI_API_KEY"):
        client, model = openai.OpenAI(), os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    else:
        server = _local_server()
        base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        client, model = openai.OpenAI(api_key="sk-local", base_url=base_url), "gpt-4o-mini"
        print(f"no OPENAI_API_KEY: using a local fake server at {base_url}")
    try:
        with agentlog.session("Weather agent (OpenAI)", user="example") as session:
            print("agent:", run_agent(client, model, "What's the weather in Paris?"))
    finally:
        if server is not None:
            server.shutdown()
    agentlog.shutdown()  # everything written to ./.agentlog/events.jsonl
    print_timeline(session.id)


if __name__ == "__main__":
    main()
