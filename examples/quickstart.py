"""A small support agent, traced by agentlog, then read back with ``agentlog.Client``.

Run it with ``make demo`` (or ``python examples/quickstart.py`` once agentlog is installed). It
records where ``agentlog`` reads by default, ./.agentlog/, so the commands it prints at the end
show its session.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import agentlog

agentlog.init()  # ./.agentlog/events.jsonl


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
def handle(ticket: str, email: str) -> tuple[str, str]:
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
    session = agentlog.current_session()
    return str(reply["content"]), session.id if session is not None else ""


def _agentlog_command() -> str:
    """How to run the ``agentlog`` command from here: the one beside this Python (e.g.
    .venv/bin/agentlog after ``make demo``), else the one on PATH."""
    beside = Path(sys.executable).parent / "agentlog"
    if beside.exists():
        try:
            relative = os.path.relpath(beside)
        except ValueError:  # another drive (Windows)
            relative = ".."
        return str(beside) if relative.startswith("..") else relative
    return shutil.which("agentlog") or "agentlog"


def main() -> None:
    answer, session_id = handle("I forgot my password", email="alice-at-example")
    print("agent answered:", answer)
    agentlog.flush()

    with agentlog.Client() as client:  # indexes ./.agentlog/events.jsonl, then reads it
        session = client.sessions.get(session_id)
        r = session.rollup
        print(
            f"\nrecorded session {session.id} ({session.status}): {r.tool_calls} tool calls, "
            f"{r.errors} errors, {r.tokens_in + r.tokens_out} tokens"
        )
        for event in client.sessions.get_events(session.id, limit=200).items:
            took = "" if event.duration_ms is None else f"{event.duration_ms:.2f} ms"
            print(f"  {event.type:<10} {event.name or '':<12} {event.status:<5} {took}")
    agentlog.shutdown()

    command = _agentlog_command()
    print("\nRead it back from the command line:")
    print(f"  {command} timeline {session.id}   # this session, nested, with details")
    print(f"  {command} sessions   # every session recorded in ./.agentlog")
    print(f"\nSee it in a browser (then open the URL it prints):\n  {command} ui")


if __name__ == "__main__":
    main()
