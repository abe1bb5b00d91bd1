"""A LangChain weather agent with a tool loop, traced by agentlog without passing any callbacks.

    pip install agentlog-langchain langchain-openai
    python examples/langchain_agent.py                 # offline: a local fake OpenAI server
    OPENAI_API_KEY=sk-... python examples/langchain_agent.py   # the real API (gpt-4o-mini)

``agentlog.init(instrument=True)`` switches on every installed integration: the agent's
chain, each model call (one ``llm_call`` each, even with the ``openai`` integration on too),
and each tool call land on the session timeline, printed at the end.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import chain
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

import agentlog

WEATHER = {"paris": (21, "sunny"), "oslo": (4, "raining"), "cairo": (35, "clear")}


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    celsius, sky = WEATHER.get(city.lower(), (15, "cloudy"))
    return f"{sky}, {celsius} C"


@tool
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from Celsius to Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


TOOLS = {t.name: t for t in (get_weather, celsius_to_fahrenheit)}


class FakeOpenAI(BaseHTTPRequestHandler):
    """Just enough of ``POST /v1/chat/completions`` (JSON and streamed) to drive the loop:
    ask for the weather, then for the conversion, then answer from the tool results."""

    def log_message(self, format: str, *args: Any) -> None:  # keep the example's output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        messages = body["messages"]
        results = [m["content"] for m in messages if m["role"] == "tool"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        if not results:
            city = next((c for c in WEATHER if c in question.lower()), "paris").title()
            reply = self._tool_call("get_weather", {"city": city})
        elif len(results) == 1:
            celsius = float(re.findall(r"(-?\d+) C", results[0])[0])
            reply = self._tool_call("celsius_to_fahrenheit", {"celsius": celsius})
        else:
            reply = {"role": "assistant",
                     "content": f"It is {results[0]} ({results[1]} F) right now."}  # fmt: skip
        words_in = sum(len(str(m.get("content") or "").split()) for m in messages)
        words_out = len(str(reply.get("content") or "").split()) + 8
        usage = {"prompt_tokens": words_in, "completion_tokens": words_out,
                 "total_tokens": words_in + words_out}  # fmt: skip
        if body.get("stream"):
            self._stream(reply, usage if (body.get("stream_options") or {}).get("include_usage")
                         else None)  # fmt: skip
        else:
            finish = "tool_calls" if reply.get("tool_calls") else "stop"
            self._send("application/json", json.dumps({
                "id": "chatcmpl-local", "object": "chat.completion", "created": 0,
                "model": body["model"], "usage": usage,
                "choices": [{"index": 0, "message": reply, "finish_reason": finish}],
            }).encode())  # fmt: skip

    @staticmethod
    def _tool_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
        call = {"id": f"call_{name}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)}}  # fmt: skip
        return {"role": "assistant", "content": None, "tool_calls": [call]}

    def _stream(self, reply: dict[str, Any], usage: dict[str, Any] | None) -> None:
        def event(choices: list[Any], usage: Any = None) -> str:
            chunk = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": 0,
                     "model": "gpt-4o-mini", "choices": choices, "usage": usage}  # fmt: skip
            return f"data: {json.dumps(chunk)}\n\n"

        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if reply.get("tool_calls"):
            call = reply["tool_calls"][0]
            args = call["function"]["arguments"]
            deltas.append({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                           "function": {"name": call["function"]["name"],
                                                        "arguments": ""}}]})  # fmt: skip
            # The arguments arrive in pieces, as they do from the real API.
            deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 8]}}]}
                       for i in range(0, len(args), 8)]  # fmt: skip
        else:
            deltas += [{"content": w} for w in re.split(r"( )", reply["content"]) if w]
        finish = "tool_calls" if reply.get("tool_calls") else "stop"
        parts = [event([{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
        parts.append(event([{"index": 0, "delta": {}, "finish_reason": finish}]))
        if usage:
            parts.append(event([], usage))
        parts.append("data: [DONE]\n\n")
        self._send("text/event-stream", "".join(parts).encode())

    def _send(self, content_type: str, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def make_model() -> tuple[ChatOpenAI, ThreadingHTTPServer | None]:
    if os.environ.get("OPENAI_API_KEY"):
        return ChatOpenAI(model="gpt-4o-mini", temperature=0, stream_usage=True), None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    model = ChatOpenAI(model="gpt-4o-mini", base_url=base_url, api_key="sk-local-fake",  # type: ignore[arg-type]
                       max_retries=0, stream_usage=True)  # fmt: skip
    return model, server


def run_agent(model: ChatOpenAI, question: str) -> str:
    bound = model.bind_tools(list(TOOLS.values()))

    @chain
    def weather_agent(question: str) -> str:
        messages: list[BaseMessage] = [
            SystemMessage("Answer weather questions with the tools, in Celsius and Fahrenheit."),
            HumanMessage(question),
        ]
        for _ in range(6):
            reply: AIMessageChunk | None = None
            for chunk in bound.stream(messages):  # streamed: the timeline shows time to first token
                reply = chunk if reply is None else reply + chunk
            assert reply is not None
            messages.append(reply)
            if not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                messages.append(TOOLS[call["name"]].invoke(call))
        return "I gave up after too many steps."

    return weather_agent.invoke(question)


def print_timeline(session_id: str) -> None:
    """Read the session back as a user would: ``agentlog timeline`` over ./.agentlog."""
    print(flush=True)
    subprocess.run([sys.executable, "-m", "agentlog.cli", "timeline", session_id], check=False)


def main() -> None:
    agentlog.init(instrument=True)
    model, server = make_model()
    try:
        with agentlog.session(
            "Weather agent", user="alice", configs={"framework": "langchain"}
        ) as s:
            answer = run_agent(model, "What's the weather in Paris, in Fahrenheit too?")
        print("agent answered:", answer)
    finally:
        if server is not None:
            server.shutdown()
    agentlog.shutdown()  # everything written to ./.agentlog/events.jsonl
    print_timeline(s.id)


if __name__ == "__main__":
    main()
