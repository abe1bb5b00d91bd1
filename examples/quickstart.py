"""A small support agent, traced by agentlog, then its timeline read back from the JSONL file.

Run it with ``make demo`` (or ``python examples/quickstart.py`` once agentlog is installed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import agentlog
from agentlog._jsonl import read_jsonl
from agentlog._timeline import jsonl_timelines

# A fresh file per run keeps the printed timeline to this run; by default it is
# ./.agentlog/events.jsonl.
EVENTS = Path(tempfile.mkdtemp(prefix="agentlog-demo-")) / "events.jsonl"
agentlog.init(path=str(EVENTS))


@agentlog.tool
def search_kb(query: str) -> list[str]:
    articles = {
        "password": ["How to reset your password", "Two-factor recovery codes"],
        "billing": ["Update your card", "Refund policy"],
    }
    return [a for key, found in articles.items() if key in query.lower() for a in found]


@agentlog.tool
def send_email(to: str, body: str) -> dict[str, str]:
    if "@" not in to:
        raise ValueError(f"not an email address: {to!r}")
    return {"status": "queued", "to": to}


@agentlog.decision
def route(
    ticket: str, options: tuple[str, ...] = ("billing", "account", "human")
) -> dict[str, object]:
    choice = "account" if "password" in ticket.lower() else "human"
    return {"choice": choice, "reasoning": "keyword match on the ticket", "confidence": 0.9}


@agentlog.llm(model="fake-gpt", provider="local")
def fake_model(messages: list[dict[str, str]]) -> dict[str, object]:
    """A local stand-in for a chat model: deterministic, offline, with token usage."""
    question = messages[-1]["content"]
    answer = f"I found {len(search_kb(question))} articles. Follow 'How to reset your password'."
    words_in = sum(len(m["content"].split()) for m in messages)
    return {
        "content": answer,
        "usage": {"input_tokens": words_in, "output_tokens": len(answer.split())},
    }


@agentlog.session(name="Support - Password Reset", user="alice", configs={"agent": "bot1"})
def handle(ticket: str, email: str) -> str:
    agentlog.store_message({"role": "user", "content": ticket})
    queue = route(ticket)["choice"]
    reply = fake_model([{"role": "system", "content": "You are support."},
                        {"role": "user", "content": ticket}])  # fmt: skip
    agentlog.store_message({"role": "assistant", "content": reply["content"]})
    try:
        send_email(email, str(reply["content"]))
    except ValueError as exc:  # the agent hits an error and survives it
        agentlog.track_error(exc)
        send_email("alice@example.com", str(reply["content"]))
    agentlog.add_event(agentlog.TextEvent(text=f"routed to {queue}"))
    return str(reply["content"])


def main() -> None:
    answer = handle("I forgot my password", email="alice-at-example")
    print("agent answered:", answer)
    agentlog.flush()

    print()
    print(jsonl_timelines(EVENTS))
    print(f"\n{len(read_jsonl(EVENTS).records)} records in {EVENTS}")
    agentlog.shutdown()
    print(f"\nSee it in a browser: .venv/bin/agentlog ui --jsonl {EVENTS}")


if __name__ == "__main__":
    main()
